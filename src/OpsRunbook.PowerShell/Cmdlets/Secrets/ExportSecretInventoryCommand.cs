using System.Management.Automation;
using System.Security;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets.Rotation;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Writes runbook 000's weekly secrets snapshot — names, versions, tags and rotation dates — to S3 or a folder; values only with -IncludeValues under KMS.
/// </summary>
/// <remarks>
/// The snapshot (secrets-inventory-ENV-TIMESTAMP.json) lists every secret under -NamePrefix (ListSecrets, all pages),
/// with its ARN, dates, rotation settings, tags and the staging labels of each version. It holds no values unless
/// -IncludeValues is given; then it goes only to s3:// with SSE-KMS under -KmsKeyId, and asks for confirmation even
/// with -Force unless -Confirm:$false. Without values it is written with SSE-S3 (AES256), or to a local folder.
/// </remarks>
/// <example>
/// <code>Export-SecretInventory production -Destination s3://paintbox-backups/secrets/ -NamePrefix prod/</code>
/// <para>The weekly metadata snapshot.</para>
/// </example>
/// <example>
/// <code>Export-SecretInventory production -Destination s3://paintbox-dr/secrets/ -IncludeValues -KmsKeyId alias/paintbox-dr</code>
/// <para>A disaster-recovery copy with values, encrypted under a KMS key.</para>
/// </example>
[Cmdlet(VerbsData.Export, "SecretInventory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SecretInventoryExport))]
public sealed class ExportSecretInventoryCommand : SecretCmdlet
{
    /// <summary>s3://bucket/prefix/ or a folder. Default: the environment's backup destination + secrets/.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Only secrets whose name starts with this.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NamePrefix { get; set; }

    /// <summary>Include each secret's AWSCURRENT value (needs s3:// and -KmsKeyId, and confirmation).</summary>
    [Parameter]
    public SwitchParameter IncludeValues { get; set; }

    /// <summary>KMS key (id, ARN or alias/NAME) for SSE-KMS.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KmsKeyId { get; set; }

    /// <summary>Skips the confirmation for metadata-only snapshots. Values are always confirmed unless -Confirm:$false.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the snapshot.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var destination = Destination is not null
            ? (Destination.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? Destination : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination))
            : env?.Backup?.Destination is { } d ? d.TrimEnd('/') + "/secrets/" : null;
        if (destination is null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Destination (s3://bucket/prefix/ or a folder), or -Environment with \"backup\".\"destination\""), ErrorIds.DestinationMissing, ErrorCategory.InvalidArgument, null));
            return;
        }
        if (IncludeValues && (!destination.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) || KmsKeyId is null))
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("-IncludeValues writes secret values: the destination must be s3:// and -KmsKeyId must name the KMS key to encrypt with"), ErrorIds.EncryptionRequired, ErrorCategory.InvalidArgument, null));
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var file = $"secrets-inventory-{env?.Name ?? "account"}-{now:yyyyMMdd'T'HHmmss'Z'}.json";
        var what = IncludeValues ? $"Write every secret's VALUE under '{NamePrefix}' (SSE-KMS {KmsKeyId})" : $"Write the names and metadata of secrets under '{NamePrefix}'";
        if (!ShouldAct(destination + file, what, Force && !IncludeValues)) return;
        if (IncludeValues && !MyInvocation.BoundParameters.ContainsKey("Confirm")
            && !ShouldContinue($"The snapshot will contain the current value of every secret under '{NamePrefix}'. Continue?", "Export secret values"))
        {
            return;
        }
        using var client = Client(env);
        var context = ContextOf(env);
        var result = Run(async () =>
        {
            var secrets = await client.ListSecretsAsync(NamePrefix, Cancellation).ConfigureAwait(false);
            var content = await SecretInventory.BuildAsync(client, secrets, env?.Name, IncludeValues, now, Cancellation).ConfigureAwait(false);
            var (where, encryption) = await SecretInventory.WriteAsync(destination, file, content, IncludeValues, KmsKeyId, context).ConfigureAwait(false);
            return new SecretInventoryExport
            {
                Environment = env?.Name, Destination = where, SecretCount = secrets.Count, IncludesValues = IncludeValues, Encryption = encryption,
                KmsKeyId = IncludeValues ? KmsKeyId : null, Bytes = content.Length, Timestamp = now,
            };
        }, destination);
        WriteObject(result);
    }
}
