using System.Management.Automation;
using OpsRunbook.PowerShell.Completers;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets.Rotation;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Rotates database, Redis and application secrets in AWS Secrets Manager without locking anyone out: create, set, test, finish — each step idempotent and resumable.
/// </summary>
/// <remarks>
/// Invoke-SecretRotation follows AWS's own rotation contract. Create stores a new value (CSPRNG, 32 characters from the
/// URL-safe alphabet by default) as the AWSPENDING version; Set makes the database or cache accept it; Test logs in with
/// it; Finish moves AWSCURRENT to it (AWSPREVIOUS follows); Cleanup retires the old credential where two were valid,
/// then drops AWSPENDING. AWSCURRENT moves only after the server has accepted the new password.
///
/// Strategies (runbook.json "secrets".NAME."strategy", or -Strategy): PostgresSingleUser sends ALTER ROLE with a
/// SCRAM-SHA-256 verifier computed here, so the password never reaches the server, its log or pg_stat_statements;
/// PostgresAlternatingUsers switches between user and user_clone (created IN ROLE user by the admin secret), so the
/// login running instances hold keeps working; RedisAcl adds the new password beside the old one (sent as a SHA-256
/// hash) and removes the old one after finish; RedisRequirePass does the same for the default user and then sets
/// requirepass; Generic only generates and stores (JWT secrets, API keys). Redis changes are saved with ACL SAVE or
/// CONFIG REWRITE so a restart keeps them.
///
/// A failure before Finish is undone (single user: the old verifier is put back), so AWSCURRENT keeps logging in; the
/// result says Failed, names the step and whether AWSCURRENT was seen to log in. A rerun resumes from the AWSPENDING
/// version. A Finish whose outcome is unknown (stopped, timed out, a 5xx) is never undone, since the request may still
/// land: the stages are read back and the move is completed; if Secrets Manager cannot be reached, the result says so
/// and a rerun completes it. A rerun after a moved secret logs in with AWSCURRENT against the server and repairs it
/// from AWSPREVIOUS when the server refuses it. With a single PostgreSQL user there is an unavoidable window between Set and Finish where only the new
/// password works; if the process is killed inside it, rerun the rotation (or use PostgresAlternatingUsers).
/// -WhatIf reads the secret and prints the plan; it changes nothing anywhere. Results carry version ids, never values.
/// </remarks>
/// <example>
/// <code>Invoke-SecretRotation production -Secret database</code>
/// <para>Rotates the database password configured as "database" under production's "secrets", after confirmation.</para>
/// </example>
/// <example>
/// <code>Invoke-SecretRotation production -Secret database -WhatIf</code>
/// <para>Shows the steps that would run (and the version ids), making no change.</para>
/// </example>
/// <example>
/// <code>Invoke-SecretRotation production -Due -Force | Invoke-HealthCheck</code>
/// <para>The monthly job: rotates every secret whose policy says it is due, then checks the environment.</para>
/// </example>
/// <example>
/// <code>Invoke-SecretRotation production -Force | Export-RunbookReport -Path breach-rotation.html</code>
/// <para>Breach response: rotates every configured secret now and reports.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "SecretRotation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Configured")]
[OutputType(typeof(SecretRotationResult))]
public sealed class InvokeSecretRotationCommand : SecretCmdlet
{
    /// <summary>Names under the environment's "secrets" (wildcards allowed); all of them when omitted.</summary>
    [Parameter(ParameterSetName = "Configured")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SecretNameCompleter))]
    public string[]? Secret { get; set; }

    /// <summary>A Secrets Manager secret (name or ARN). Its runbook.json settings apply when the environment configures it; binds the SecretId of Get-SecretRotationStatus results.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "ById", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SecretId { get; set; }

    /// <summary>Overrides the strategy (Auto picks from the secret's value).</summary>
    [Parameter]
    public RotationStrategy Strategy { get; set; } = RotationStrategy.Auto;

    /// <summary>With -SecretId: the admin secret for PostgresAlternatingUsers (or a Redis admin).</summary>
    [Parameter(ParameterSetName = "ById")]
    [ValidateNotNullOrEmpty]
    public string? AdminSecretId { get; set; }

    /// <summary>Length of the new value (16-4096; default 32 or the configured length).</summary>
    [Parameter]
    [ValidateRange(16, 4096)]
    public int? Length { get; set; }

    /// <summary>Characters the new value must not contain.</summary>
    [Parameter]
    public string? ExcludeCharacters { get; set; }

    /// <summary>Only secrets whose policy says they are overdue or due within -DueWithin.</summary>
    [Parameter(ParameterSetName = "Configured")]
    public SwitchParameter Due { get; set; }

    /// <summary>With -Due: how soon counts as due (default 7 days).</summary>
    [Parameter(ParameterSetName = "Configured")]
    [DurationTransformation]
    public TimeSpan DueWithin { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Resume or pin a specific rotation (32-64 characters). By default the AWSPENDING version is resumed.</summary>
    [Parameter]
    [ValidateLength(32, 64)]
    public string? ClientRequestToken { get; set; }

    /// <summary>Skips the confirmation (for scheduled jobs). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Rotates each selected secret.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        List<ManagedSecretConfig> targets;
        if (ParameterSetName == "ById")
        {
            var known = env?.Secrets.FirstOrDefault(s => string.Equals(s.SecretId, SecretId, StringComparison.Ordinal));
            targets = [known is null
                ? new ManagedSecretConfig { Name = SecretId!, SecretId = SecretId!, Strategy = Strategy, AdminSecretId = AdminSecretId }
                : AdminSecretId is null ? known : known with { AdminSecretId = AdminSecretId }];
        }
        else
        {
            if (env is null)
            {
                ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Environment (with \"secrets\" in runbook.json) or -SecretId"), ErrorIds.SecretNotConfigured, ErrorCategory.InvalidArgument, null));
                return;
            }
            targets = Configured(env, Secret).ToList();
        }
        using var client = Client(env);
        var rotator = new SecretRotator(client, Secrets.Redactor);
        if (Due)
        {
            var status = Run(() => SecretOperations.StatusAsync(client, env, targets, null, DateTimeOffset.UtcNow, DueWithin, Cancellation), "Secrets Manager");
            var due = status.Where(s => s.State is SecretRotationState.Overdue or SecretRotationState.DueSoon or SecretRotationState.Interrupted).Select(s => s.SecretId).ToHashSet();
            foreach (var s in status.Where(s => !due.Contains(s.SecretId))) WriteVerbose($"{s.SecretId}: not due ({s.State}, next {s.NextDue:u})");
            targets = targets.Where(t => due.Contains(t.SecretId)).ToList();
        }
        foreach (var target in targets)
        {
            var request = SecretOperations.Request(env, target, Strategy, Length, ExcludeCharacters, ClientRequestToken);
            var plan = Run(() => rotator.RotateAsync(request with { WhatIf = true }, Cancellation), target.SecretId);
            var what = $"Rotate ({plan.Strategy}): " + string.Join("; ", plan.Steps.Select(s => $"{s.Step}: {s.Detail}"));
            if (!ShouldAct($"{target.SecretId}{(env is null ? "" : $" ({env.Name})")}", what, Force)) continue;
            var messages = new System.Collections.Concurrent.ConcurrentQueue<string>();
            rotator.Progress = messages.Enqueue;
            // The version the plan named (and the user confirmed) is the one created or resumed.
            var result = Run(() => rotator.RotateAsync(request with { ClientRequestToken = plan.NewVersionId }, Cancellation), target.SecretId);
            while (messages.TryDequeue(out var m)) WriteVerbose(m);
            foreach (var step in result.Steps) WriteVerbose($"{result.SecretId}: {step.Step} {step.Outcome} in {step.Duration.TotalMilliseconds:0} ms{(step.Detail is null ? "" : " — " + step.Detail)}");
            if (result.Status == SecretRotationStatus.Failed)
            {
                WriteError(new ErrorRecord(new InvalidOperationException($"rotation of {result.SecretId} failed: {result.Error}"), ErrorIds.RotationFailed, ErrorCategory.InvalidResult, result));
            }
            else if (result.Error is not null)
            {
                WriteWarning($"{result.SecretId} rotated, but: {result.Error}");
            }
            WriteObject(result);
        }
    }
}
