using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists the instances of an environment's deployment — Fly machines (later: Railway, Compose containers, Kubernetes pods) — with state, health, image, region and release.
/// </summary>
/// <remarks>
/// Get-DeploymentStatus reads the environment's "deploy" provider from runbook.json. For Fly.io it lists the app's
/// machines through the Machines API (destroyed ones left out): state, health from the machine's checks, image,
/// region, process group and the release version flyctl records in the machine metadata. Nothing is changed.
/// </remarks>
/// <example>
/// <code>Get-DeploymentStatus production</code>
/// <para>The machines of production, with their health.</para>
/// </example>
/// <example>
/// <code>Get-DeploymentStatus production | Where-Object Health -ne Healthy</code>
/// <para>The instances that are not healthy.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DeploymentStatus")]
[OutputType(typeof(DeploymentInstance))]
public sealed class GetDeploymentStatusCommand : DeployCmdlet
{
    /// <summary>Writes each instance.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var provider = Provider(env);
        try
        {
            foreach (var i in Run(() => DeploymentOperations.StatusAsync(provider, env.Name, Cancellation), env.Name)) WriteObject(i);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}

/// <summary>
/// Lists an environment's releases, newest first, with version, image, status, author and which one is running.
/// </summary>
/// <remarks>
/// For Fly.io the releases come from the GraphQL API (releasesUnprocessed); IsCurrent is the release the machines
/// report running. Good marks releases that completed, which Start-Rollback may return to. Pipe a release into
/// Start-Rollback to roll back to it.
/// </remarks>
/// <example>
/// <code>Get-DeploymentRelease production -First 5</code>
/// <para>The last five releases.</para>
/// </example>
/// <example>
/// <code>Get-DeploymentRelease production | Where-Object Version -eq 41 | Start-Rollback -WhatIf</code>
/// <para>What rolling back to release 41 would do.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DeploymentRelease")]
[OutputType(typeof(DeploymentRelease))]
public sealed class GetDeploymentReleaseCommand : DeployCmdlet
{
    /// <summary>How many releases (default 20).</summary>
    [Parameter]
    [ValidateRange(1, 500)]
    public int First { get; set; } = 20;

    /// <summary>Writes each release.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var provider = Provider(env);
        try
        {
            foreach (var r in Run(() => DeploymentOperations.ReleasesAsync(provider, env.Name, First, Cancellation), env.Name)) WriteObject(r);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}

/// <summary>
/// Rolls an environment back to its previous good release (or -Release), then waits until its instances are up and its health checks pass.
/// </summary>
/// <remarks>
/// Start-Rollback is the last step of every runbook's emergency procedure. It picks the newest good release older than
/// the running one with a different image (or the release named by -Release, or piped from Get-DeploymentRelease), and
/// moves every instance to it the way the provider's own CLI does — for Fly.io, one machine at a time: lease, update
/// config.image, wait until started, release the lease (always, also on failure). Then, unless -NoHealthCheck, it runs
/// the environment's health checks until all pass or -Timeout passes (a terminating error naming what still fails).
/// Unhealthy HealthCheckResults (and -Summary's HealthReports) can be piped in: each environment among them is rolled
/// back once, after the last input; healthy ones are passed over. Results and releases read back from Export-Clixml, a
/// job or a remote session are understood the same way; any other piped object is an error, never a rollback.
/// -WhatIf reads the releases and says what would happen; it changes nothing. Secrets and configuration files are not
/// rolled back (as with flyctl).
/// </remarks>
/// <example>
/// <code>Start-Rollback production</code>
/// <para>Back to the previous good release, after confirmation; waits for the health checks.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Where-Object Status -eq Unhealthy | Start-Rollback -Force</code>
/// <para>Rolls production back when its checks fail (for automation: no prompt).</para>
/// </example>
/// <example>
/// <code>Start-Rollback production -Release v41 -WhatIf</code>
/// <para>What rolling back to release 41 would do.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "Rollback", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Environment")]
[OutputType(typeof(RollbackResult))]
public sealed class StartRollbackCommand : DeployCmdlet
{
    /// <summary>The release to return to: its id or version (v41 or 41). Default: the previous good release.</summary>
    [Parameter(ParameterSetName = "Environment")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ReleaseCompleter))]
    public string? Release { get; set; }

    /// <summary>What to roll back from the pipeline: a release from Get-DeploymentRelease (rolled back to), or health results
    /// and -Summary reports from Invoke-HealthCheck (their unhealthy environments are rolled back once, after the last
    /// input). Results that crossed a job, remoting or Export-Clixml boundary are read too; anything else is an error.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Piped")]
    public PSObject? InputObject { get; set; }

    /// <summary>How long to wait for the health checks after the rollback (default 10 minutes).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Do not run the environment's health checks after the rollback (instances must still start).</summary>
    [Parameter]
    public SwitchParameter NoHealthCheck { get; set; }

    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly List<string> _unhealthy = [];

    /// <summary>Rolls back (or, for health results, collects the environments).</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName != "Piped")
        {
            Rollback(Environment, Release);
            return;
        }
        switch (PipedInput.Read(InputObject!))
        {
            case PipedRelease release:
                Rollback(release.Environment ?? Environment, release.Id);
                break;
            case PipedHealth health:
                // A summary piped beside its entries names the same environments: each is rolled back once, at the end.
                foreach (var (name, status, environment) in health.Results)
                {
                    if (status is HealthStatus.Healthy) continue;
                    if (environment is null) WriteWarning($"{name}: the result names no environment, so there is nothing to roll back");
                    else if (!_unhealthy.Contains(environment, StringComparer.OrdinalIgnoreCase)) _unhealthy.Add(environment);
                }
                break;
            case PipedUnknown unknown:
                // Never a rollback of whatever -Environment the object happens to carry: that is how 3 healthy results
                // that had crossed a job boundary made 3 rollback plans.
                WriteError(new ErrorRecord(new ArgumentException(
                    $"Start-Rollback takes releases from Get-DeploymentRelease and results from Invoke-HealthCheck; it got {unknown.Description}. " +
                    "To roll back by name, give the environment: Start-Rollback <environment> [-Release v41]"),
                    "OpsRunbook.RollbackInputUnrecognized", ErrorCategory.InvalidType, InputObject));
                break;
        }
    }

    /// <summary>Rolls back each environment that had unhealthy results.</summary>
    protected override void EndProcessing()
    {
        foreach (var e in _unhealthy) Rollback(e, null);
    }

    private void Rollback(string? environment, string? release)
    {
        var env = Env(environment);
        var provider = Provider(env);
        try
        {
            var targets = NoHealthCheck ? null : env.GetHealthCheckTargets();
            var plan = Run(() => DeploymentOperations.RollbackAsync(provider, env.Name, release, true, targets, Secrets, Timeout, _ => { }, Cancellation), env.Name);
            if (!ShouldAct($"{env.Name} ({provider.Name})", $"Roll back from {plan.From?.ToString() ?? "?"} to {plan.To}: {string.Join("; ", plan.Steps)}", Force)) return;
            // The release the plan named (and the user confirmed) is the one rolled back to.
            var result = RunReporting(step => DeploymentOperations.RollbackAsync(provider, env.Name, plan.To.Id, false, targets, Secrets, Timeout, step, Cancellation),
                $"Start-Rollback {env.Name}", env.Name);
            WriteObject(result);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}

/// <summary>
/// Watches an environment's health after a deploy, round by round, and with -AutoRollback rolls back after -FailureThreshold unhealthy rounds in a row.
/// </summary>
/// <remarks>
/// Runbook 000's deployment step 6 ("monitor for 15 minutes"), with Fly's automatic rule applied to every provider: the
/// environment's health checks run every -Interval for -Duration; an Unhealthy round counts as a failure (Degraded does
/// not) and a healthy one resets the count. After -FailureThreshold failures in a row (default 3) the watch stops: with
/// -AutoRollback it rolls back to the previous good release (as Start-Rollback, waiting up to -RollbackTimeout for the
/// checks again), otherwise it reports Unhealthy. Each round is written as a WatchRound, then one WatchVerdict (Healthy,
/// Unhealthy, RolledBack, or RolledBackUnhealthy when health did not return in time) that Export-RunbookReport
/// understands: the verdict is always data, within -Duration + one round + the rollback + -RollbackTimeout. With -WhatIf
/// the watch runs but never rolls back.
/// </remarks>
/// <example>
/// <code>Watch-Deployment production -AutoRollback -Force</code>
/// <para>Watches production for 15 minutes after a deploy and rolls back by itself after 3 failing rounds.</para>
/// </example>
/// <example>
/// <code>Watch-Deployment staging -Duration 5m -Interval 10s | Select-Object -Last 1 | Export-RunbookReport -FailOn Unhealthy</code>
/// <para>A CI gate: a five-minute watch whose verdict fails the job when the deploy is unhealthy.</para>
/// </example>
[Cmdlet(VerbsCommon.Watch, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(WatchRound), typeof(WatchVerdict))]
public sealed class WatchDeploymentCommand : DeployCmdlet
{
    /// <summary>How long to watch (default 15 minutes, runbook 000).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Time between rounds (default 30 seconds).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Unhealthy rounds in a row that end the watch (default 3).</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int FailureThreshold { get; set; } = 3;

    /// <summary>Roll back to the previous good release when the threshold is reached.</summary>
    [Parameter]
    public SwitchParameter AutoRollback { get; set; }

    /// <summary>After an automatic rollback, how long to wait for the health checks to pass (default 5m). The verdict
    /// comes at the latest -Duration + one round + the rollback + this; when health does not return in time the verdict
    /// is RolledBackUnhealthy, with what still fails.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan RollbackTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Skips the confirmation for -AutoRollback (for automation). -WhatIf still never rolls back.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Watches.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var auto = AutoRollback && ShouldAct($"{env.Name}", $"Roll back automatically after {FailureThreshold} unhealthy rounds in a row", Force);
        var provider = auto ? Provider(env) : null;
        try
        {
            var options = new WatchOptions { Duration = Duration, Interval = Interval, FailureThreshold = FailureThreshold, AutoRollback = auto, RollbackTimeout = RollbackTimeout };
            var rounds = new System.Collections.Concurrent.ConcurrentQueue<WatchRound>();
            var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
            var targets = env.GetHealthCheckTargets();
            var work = Task.Run(() => DeploymentWatch.RunAsync(targets, options, provider, env.Name, Secrets, rounds.Enqueue, messages.Enqueue, Cancellation));
            void Drain()
            {
                while (rounds.TryDequeue(out var r))
                {
                    WriteProgress(new ProgressRecord(8, $"Watch-Deployment {env.Name}", r.ToString()));
                    WriteObject(r);
                }
                while (messages.TryDequeue(out var m)) WriteVerbose(m);
            }
            while (!((IAsyncResult)work).AsyncWaitHandle.WaitOne(250)) Drain();
            var verdict = Run(() => work, env.Name);
            Drain();
            WriteProgress(new ProgressRecord(8, $"Watch-Deployment {env.Name}", "Done") { RecordType = ProgressRecordType.Completed });
            if (verdict.Verdict != "Healthy") WriteWarning($"{env.Name}: {verdict.Verdict} — {verdict.Reason}");
            WriteObject(verdict);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}

/// <summary>
/// Restarts an environment's instances — one at a time, each back up before the next (default), or all at once with -Force.
/// </summary>
/// <remarks>
/// Fly.io: each started machine under its lease: restart, wait until started, release. Docker Compose: `docker compose
/// restart SERVICE`. Kubernetes: `kubectl rollout restart` semantics (a restartedAt annotation on the pod template; the
/// Deployment's strategy replaces the pods) and rollout status. Railway: deploymentRestart of the running deployment.
/// -WhatIf only counts the instances.
/// </remarks>
/// <example>
/// <code>Restart-Deployment production</code>
/// <para>A rolling restart after confirmation.</para>
/// </example>
/// <example>
/// <code>Restart-Deployment staging -Force -AllAtOnce</code>
/// <para>Restarts everything at once, without a prompt.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Restart, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class RestartDeploymentCommand : DeployCmdlet
{
    /// <summary>Restart every instance at once instead of one at a time.</summary>
    [Parameter]
    public SwitchParameter AllAtOnce { get; set; }

    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Restarts.</summary>
    protected override void ProcessRecord() => Act("Restart", !AllAtOnce, Force, AllAtOnce ? "Restart every instance at once" : "Restart the instances one at a time");
}

/// <summary>
/// Stops every instance of an environment: runbook 002's emergency shutdown. Start-Deployment brings them back.
/// </summary>
/// <remarks>
/// Fly.io: each running machine is stopped under its lease (SIGTERM, 30 s). Docker Compose: `docker compose stop SERVICE`.
/// Kubernetes: scales the Deployment to 0 and records the replica count in the annotation opsrunbook.io/replicas-before-stop
/// for Start-Deployment. Railway has no stop in its public API: the error says what to do instead. ConfirmImpact High.
/// </remarks>
/// <example>
/// <code>Stop-Deployment production</code>
/// <para>Takes production down, after confirmation.</para>
/// </example>
/// <example>
/// <code>Stop-Deployment production -WhatIf</code>
/// <para>Says how many instances would stop.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class StopDeploymentCommand : DeployCmdlet
{
    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Stops.</summary>
    protected override void ProcessRecord() => Act("Stop", true, Force, "Stop every instance (the service goes down)");
}

/// <summary>
/// Starts the instances Stop-Deployment stopped and waits until they are up: runbook 002's resume.
/// </summary>
/// <remarks>
/// Fly.io: each stopped machine is started under its lease and waited for. Docker Compose: `docker compose start SERVICE`.
/// Kubernetes: scales back to the recorded replica count (1 when none was recorded) and waits for the rollout. Railway:
/// redeploy instead (the error says how).
/// </remarks>
/// <example>
/// <code>Start-Deployment production; Wait-HealthCheck production</code>
/// <para>Brings production back and waits until its checks pass.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class StartDeploymentCommand : DeployCmdlet
{
    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Starts.</summary>
    protected override void ProcessRecord() => Act("Start", true, Force, "Start the stopped instances");
}

/// <summary>
/// Changes how many instances an environment runs (optionally in one region) and/or their memory — `fly scale count`, `fly scale memory`, `docker compose --scale`, `kubectl scale`.
/// </summary>
/// <remarks>
/// Fly.io: new machines copy an existing machine's configuration (in -Region, else its region) and are waited for;
/// surplus machines (in -Region when given, newest first) are destroyed under their lease; -Memory updates each machine in
/// turn (lease, update guest.memory_mb, wait started, release). Docker Compose: `up -d --no-deps --scale SERVICE=N`.
/// Kubernetes: spec.replicas, then rollout status. What a provider cannot do (memory on Compose or Kubernetes, anything
/// on Railway's public API) is a clear error saying where to change it. -WhatIf only counts the instances.
/// </remarks>
/// <example>
/// <code>Set-DeploymentScale production -Count 4</code>
/// <para>Four instances, after confirmation.</para>
/// </example>
/// <example>
/// <code>Set-DeploymentScale production -Count 2 -Region lhr -Force</code>
/// <para>Two Fly machines in London, without a prompt.</para>
/// </example>
/// <example>
/// <code>Set-DeploymentScale production -Memory 1024 -WhatIf</code>
/// <para>What giving every machine 1 GB would touch.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "DeploymentScale", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class SetDeploymentScaleCommand : DeployCmdlet
{
    /// <summary>The number of instances (in -Region when given).</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int? Count { get; set; }

    /// <summary>Memory per instance, in MB (Fly.io).</summary>
    [Parameter]
    [ValidateRange(128, 262144)]
    public int? Memory { get; set; }

    /// <summary>The region -Count applies to (Fly.io).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Region { get; set; }

    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Scales.</summary>
    protected override void ProcessRecord()
    {
        if (Count is null && Memory is null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Count and/or -Memory"), "OpsRunbook.InvalidArgument", ErrorCategory.InvalidArgument, null));
        }
        var request = new ScaleRequest(Count, Memory, Region);
        var env = Env();
        var provider = Provider(env);
        try
        {
            var plan = Run(() => DeploymentOperations.ScaleAsync(provider, env.Name, request, true, _ => { }, Cancellation), env.Name);
            if (!ShouldAct($"{env.Name} ({provider.Name}, {plan.Instances} instance(s) now)", $"Scale to {request}", Force)) return;
            WriteObject(RunReporting(step => DeploymentOperations.ScaleAsync(provider, env.Name, request, false, step, Cancellation), $"Scale {env.Name}", env.Name));
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}

/// <summary>
/// Sets a secret on the deployment platform — Fly secrets, Railway variables, a Kubernetes Secret, Compose's .env — and redeploys so instances read it; takes Invoke-SecretRotation's results to push a rotated value in one pipeline.
/// </summary>
/// <remarks>
/// With -Name and -Value (a SecureString) it sets that value. Piped SecretRotationResults (Status Rotated) are pushed as
/// the variable named by the secret's "platformVariable" in runbook.json (or -Name): the value is read from Secrets
/// Manager inside the module and never appears in the pipeline. Values travel only in HTTPS bodies (Fly GraphQL
/// setSecrets, Railway variableUpsert), kubectl's stdin (the Secret named by "deploy"."secret", default the
/// Deployment's name, replaced as a whole object) or a mode-600 .env file beside the compose file — never a command
/// line. Then, unless -NoRedeploy: Fly machines restart one at a time, Railway redeploys, Kubernetes does a rollout
/// restart, Compose recreates the service. -WhatIf names the variables and changes nothing.
/// </remarks>
/// <example>
/// <code>Invoke-SecretRotation production -Secret database -Force | Set-DeploymentSecret -Force</code>
/// <para>Rotates the database password and pushes the new DATABASE_URL to the platform (runbook 000: fly secrets set).</para>
/// </example>
/// <example>
/// <code>Set-DeploymentSecret staging -Name JWT_SECRET -Value (New-RandomSecret -Length 64)</code>
/// <para>A new JWT secret for staging, after confirmation.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "DeploymentSecret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Value")]
[OutputType(typeof(DeploymentActionResult))]
public sealed class SetDeploymentSecretCommand : DeployCmdlet
{
    /// <summary>The variable name on the platform (DATABASE_URL). With piped rotation results, overrides "platformVariable".</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Value")]
    [Parameter(ParameterSetName = "Rotation")]
    [ValidatePattern("^[A-Za-z_][A-Za-z0-9_]*$")]
    public string? Name { get; set; }

    /// <summary>The value, as a SecureString (New-RandomSecret, Read-Host -AsSecureString).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Value")]
    public System.Security.SecureString? Value { get; set; }

    /// <summary>Results of Invoke-SecretRotation to push.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Rotation")]
    public OpsRunbook.Engine.Secrets.Rotation.SecretRotationResult? InputObject { get; set; }

    /// <summary>Set the value without restarting or redeploying (it is read at the next deploy).</summary>
    [Parameter]
    public SwitchParameter NoRedeploy { get; set; }

    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Sets the secret.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Rotation")
        {
            var rotation = InputObject!;
            if (rotation.Status != OpsRunbook.Engine.Secrets.Rotation.SecretRotationStatus.Rotated)
            {
                WriteWarning($"{rotation.SecretId} was not rotated ({rotation.Status}); nothing pushed");
                return;
            }
            var env = Env(rotation.Environment ?? Environment);
            var variable = Name ?? env.Secrets.FirstOrDefault(s => s.SecretId == rotation.SecretId)?.PlatformVariable;
            if (variable is null)
            {
                ThrowTerminatingError(new ErrorRecord(new PSArgumentException($"runbook.json names no \"platformVariable\" for {rotation.SecretId} in environment '{env.Name}'; add one or give -Name"),
                    "OpsRunbook.PlatformVariableMissing", ErrorCategory.InvalidArgument, rotation));
            }
            using var client = OpsRunbook.Engine.Secrets.Rotation.SecretOperations.Client(env, Secrets, Secrets.Redactor);
            Push(env, variable!, provider => DeploymentOperations.PushSecretAsync(provider, env.Name, client, rotation.SecretId, variable!, !NoRedeploy, _ => { }, Cancellation));
            return;
        }
        var target = Env();
        var value = new System.Net.NetworkCredential(string.Empty, Value).Password;
        Secrets.Redactor.Add(value);
        Push(target, Name!, provider => DeploymentOperations.SetSecretsAsync(provider, target.Name, new Dictionary<string, string> { [Name!] = value }, !NoRedeploy, false, _ => { }, Cancellation));
    }

    /// <summary>After ShouldProcess (which -WhatIf stops: nothing is read or sent), runs the push with the environment's provider.</summary>
    private void Push(OpsRunbook.Engine.Environments.EnvironmentConfig env, string variable, Func<IDeploymentProvider, Task<DeploymentActionResult>> work)
    {
        var what = $"Set {variable}{(NoRedeploy ? "" : " and redeploy so instances read it")}";
        if (!ShouldAct($"{env.Name} ({env.Deploy?.Provider})", what, Force)) return;
        var provider = Provider(env);
        try
        {
            WriteObject(Run(() => work(provider), env.Name));
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}
