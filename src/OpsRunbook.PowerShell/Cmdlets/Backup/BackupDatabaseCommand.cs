using System.Management.Automation;
using OpsRunbook.Engine.Backup;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Backs up a PostgreSQL database with the real pg_dump, streamed through SHA-256 straight to a local directory, S3, or both, with a manifest written last.
/// </summary>
/// <remarks>
/// Backup-Database is the runbooks' `pg_dump | gzip` and `aws s3 cp`, made trustworthy. It picks a pg_dump at least as new
/// as the server (PATH and the usual versioned folders), passes the password through a private password file (never
/// the command line), and streams the dump — custom format by default, or plain SQL compressed with gzip or zstd —
/// through a SHA-256 and a byte counter to every destination at once: no temporary file, memory independent of the
/// database's size (S3 multipart with bounded buffers). Only after every destination holds the whole dump does it write
/// the manifest beside it: database, server and pg_dump versions, format, size, SHA-256, times, and every table with its
/// row count taken in the dump's own snapshot. If anything fails — pg_dump exits non-zero or is killed, a store errors
/// after retries, the run is cancelled — the partial file is removed, the upload abandoned, and no manifest is written:
/// nothing that looks like a good backup is left. Objects are named {system}/{environment}/{database}/{UTC timestamp}.
/// -Verbose writes one line per phase (snapshot, dump, store, manifest), -Debug the details (pg_dump's arguments, row
/// estimates), and the progress bar shows the rows dumped so far against the planner's estimate.
/// </remarks>
/// <example>
/// <code>Backup-Database production</code>
/// <para>Backs up the production database to its configured destination (runbook.json "backup").</para>
/// </example>
/// <example>
/// <code>Backup-Database production -Destination ./backups, s3://paintbox-backups/database/ | Test-DatabaseBackup -RestoreCheck | Export-RunbookReport</code>
/// <para>Backs up to a local folder and S3 at once, proves the backup by restoring it, and reports.</para>
/// </example>
/// <example>
/// <code>Backup-Database -Connection env:DATABASE_URL -Destination ./backups -Format Plain -Compression Zstd</code>
/// <para>A plain SQL dump compressed with zstd, from a connection in an environment variable.</para>
/// </example>
[Cmdlet(VerbsData.Backup, "Database", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BackupInfo))]
public sealed class BackupDatabaseCommand : BackupCmdlet
{
    /// <summary>Destinations instead of the environment's: local directories and/or s3://bucket/prefix/ URIs.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Destination { get; set; }

    /// <summary>Custom (default: compressed, restorable in parallel) or Plain SQL.</summary>
    [Parameter]
    public BackupFormat Format { get; set; } = BackupFormat.Custom;

    /// <summary>For Plain: Gzip, Zstd or None. Custom archives are compressed by pg_dump (None turns that off).</summary>
    [Parameter]
    public BackupCompression Compression { get; set; } = BackupCompression.Default;

    /// <summary>Compression level (pg_dump -Z 0-9, gzip 1-9, zstd 1-19).</summary>
    [Parameter]
    [ValidateRange(0, 19)]
    public int? CompressionLevel { get; set; }

    /// <summary>Skip exact row counts in the manifest (faster on very large databases; verification then checks tables only).</summary>
    [Parameter]
    public SwitchParameter NoRowCount { get; set; }

    /// <summary>Runs the backup.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var context = ContextOf(env);
        var destinations = Destination is { Length: > 0 } ? Destination.Select(LocationOf).ToList() : [EnvironmentDestination()];
        var connection = DatabaseConnection();
        if (!ShouldProcess(string.Join(", ", destinations), $"Back up {(Connection is null ? $"the {Environment} database" : connection.Display)} with pg_dump")) return;
        var request = new BackupRequest
        {
            Connection = connection,
            Destinations = destinations,
            System = env?.System,
            Format = Format,
            Compression = Compression,
            CompressionLevel = CompressionLevel,
            CountRows = !NoRowCount,
            CaCertificatePath = env?.Database?.CaCertificate,
        };
        var info = RunObserved(progress => BackupRunner.RunAsync(request, context with { Progress = progress }), "Backup-Database",
            task => Run(() => task, destinations[0].Root), activityId: 3);
        if (info.Status == BackupStatus.Failed)
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"backup of {info.Database} failed: {info.Error}"), ErrorIds.BackupFailed, ErrorCategory.WriteError, info));
        }
        WriteObject(info);
    }
}
