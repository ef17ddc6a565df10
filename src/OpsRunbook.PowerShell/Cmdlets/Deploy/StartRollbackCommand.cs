using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

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
                    ErrorIds.RollbackInputUnrecognized, ErrorCategory.InvalidType, InputObject));
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
