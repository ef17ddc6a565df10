using System.Management.Automation;
using OpsRunbook.PowerShell.Completers;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets.Rotation;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Shows each secret's last rotation, age and policy, and whether it is overdue or a rotation was left unfinished.
/// </summary>
/// <remarks>
/// The policy comes from runbook.json ("secrets".NAME."rotationDays"), else a tag on the secret
/// (opsrunbook:rotation-days, rotation-days or RotationDays), else Secrets Manager's rotation rules, else runbook 000's
/// defaults: 30 days for database and Redis passwords, 90 for JWT secrets and API keys. A secret with an AWSPENDING
/// version that is not AWSCURRENT is Interrupted: rerun Invoke-SecretRotation. A secret that cannot be read is
/// reported with State Unknown and the reason, not thrown. Only metadata is read (DescribeSecret, ListSecrets).
/// </remarks>
/// <example>
/// <code>Get-SecretRotationStatus production | Where-Object Overdue</code>
/// <para>The overdue secrets of production.</para>
/// </example>
/// <example>
/// <code>Get-SecretRotationStatus production -All -NamePrefix prod/ | Export-RunbookReport -Path secrets.html</code>
/// <para>Every secret under prod/ (configured or not), as a report.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "SecretRotationStatus")]
[OutputType(typeof(SecretRotationStatusInfo))]
public sealed class GetSecretRotationStatusCommand : SecretCmdlet
{
    /// <summary>Names under the environment's "secrets" (wildcards); all when omitted.</summary>
    [Parameter]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SecretNameCompleter))]
    public string[]? Secret { get; set; }

    /// <summary>Also every secret in the account (ListSecrets), under -NamePrefix when given.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>With -All: only secrets whose name starts with this.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NamePrefix { get; set; }

    /// <summary>How soon counts as DueSoon (default 7 days).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan DueWithin { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Writes the status of each secret.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        if (env is null && !All)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Environment (with \"secrets\" in runbook.json) or -All"), ErrorIds.SecretNotConfigured, ErrorCategory.InvalidArgument, null));
            return;
        }
        var configured = env is null ? [] : Configured(env, Secret);
        using var client = Client(env);
        var status = Run(() => SecretOperations.StatusAsync(client, env, configured, All ? NamePrefix ?? "" : null, DateTimeOffset.UtcNow, DueWithin, Cancellation), "Secrets Manager");
        foreach (var s in status)
        {
            if (s.State == SecretRotationState.Interrupted) WriteWarning($"{s.SecretId}: {s.Reason}");
            WriteObject(s);
        }
    }
}
