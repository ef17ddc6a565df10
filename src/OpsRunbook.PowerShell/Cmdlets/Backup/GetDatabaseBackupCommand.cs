using System.Management.Automation;
using OpsRunbook.Engine.Backup;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists backups (local or S3) from their manifests, newest first, with filters by database and date.
/// </summary>
/// <remarks>
/// Get-DatabaseBackup reads every manifest under a destination (the environment's, or -Destination) and returns one
/// BackupInfo per complete backup — a dump without a manifest is not a backup and is not listed. VerifiedAt shows when a
/// restore check last proved it. Results pipe into Test-DatabaseBackup and Restore-Database.
/// </remarks>
/// <example>
/// <code>Get-DatabaseBackup production | Select-Object -First 1</code>
/// <para>The newest backup of production.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseBackup -Destination s3://paintbox-backups/database/ -Since (Get-Date).AddDays(-7)</code>
/// <para>Last week's backups in a bucket.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseBackup")]
[OutputType(typeof(BackupInfo))]
public sealed class GetDatabaseBackupCommand : BackupCmdlet
{
    /// <summary>Where to look instead of the environment's destination.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Only backups of this database.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>Only backups taken at or after this time.</summary>
    [Parameter]
    public DateTimeOffset? Since { get; set; }

    /// <summary>Only backups taken at or before this time.</summary>
    [Parameter]
    public DateTimeOffset? Until { get; set; }

    /// <summary>Writes the backups.</summary>
    protected override void ProcessRecord()
    {
        var location = Destination is not null ? LocationOf(Destination) : EnvironmentDestination();
        var context = Context(); // resolved here, on the pipeline thread: resolving may write a warning or a verbose line
        var backups = Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
            return await BackupCatalog.ListAsync(store, Database, Since, Until, Cancellation).ConfigureAwait(false);
        }, location.Root);
        WriteObject(backups, true);
    }
}
