using System.Management.Automation;
using OpsRunbook.Engine.Backup;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Proves a backup: size and SHA-256 against its manifest, a readable archive, and with -RestoreCheck a real restore into a scratch database with pg_amcheck, table and row comparison, and the measured RTO.
/// </summary>
/// <remarks>
/// Test-DatabaseBackup re-reads each backup once, checking its size and SHA-256 against the manifest while pg_restore
/// --list reads the archive's table of contents (a plain dump must end with pg_dump's completion line). With
/// -RestoreCheck it then restores the backup into a scratch database, runs pg_amcheck when present (it needs a
/// superuser or amcheck grants; otherwise it says it skipped), compares every table and its exact row count with the
/// manifest, drops the scratch database (unless -KeepDatabase) and reports the restore's duration as the measured RTO
/// next to the target (-RtoTarget, or the environment's "backup"."rto"). Extensions the restoring role may not create
/// are left out and listed. A backup that passes a restore check is marked, and retention never removes the newest
/// marked backup. One BackupVerification per backup; a failed one is also an error record.
/// -Verbose writes one line per phase (checksum, restore, pg_amcheck, compare), -Debug the details, and the progress
/// bar a percentage of the bytes read and the rows restored.
/// </remarks>
/// <example>
/// <code>Get-DatabaseBackup production | Select-Object -First 1 | Test-DatabaseBackup -RestoreCheck</code>
/// <para>Runbook 004's recovery drill on the newest backup: restore, check, drop, measure.</para>
/// </example>
/// <example>
/// <code>Test-DatabaseBackup -BackupUri s3://paintbox-backups/database/paintbox/production/app/20261122T020000.000Z-9c1e4f2a.dump -Environment production</code>
/// <para>Checksum and archive check of one backup.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "DatabaseBackup")]
[OutputType(typeof(BackupVerification))]
public sealed class TestDatabaseBackupCommand : BackupCmdlet
{
    /// <summary>The backups to test: s3:// URIs or paths; binds BackupUri from Backup-Database and Get-DatabaseBackup.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BackupUriCompleter))]
    public string[]? BackupUri { get; set; }

    /// <summary>Restore into a scratch database and check it.</summary>
    [Parameter]
    public SwitchParameter RestoreCheck { get; set; }

    /// <summary>Keep the scratch database for inspection.</summary>
    [Parameter]
    public SwitchParameter KeepDatabase { get; set; }

    /// <summary>The RTO to measure against, e.g. 30m (default: the environment's "backup"."rto").</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? RtoTarget { get; set; }

    /// <summary>Verifies each backup.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var context = ContextOf(env);
        var restoreConnection = RestoreCheck ? DatabaseConnection() : null;
        var options = new BackupVerifier.VerifyOptions(RestoreCheck, KeepDatabase, RtoTarget ?? env?.Backup?.Rto, restoreConnection);
        foreach (var uri in BackupUri!)
        {
            var (location, key) = BackupLocation.Split(UriOf(uri));
            var verification = RunObserved(async progress =>
            {
                using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
                return await BackupVerifier.VerifyAsync(store, key, options, context with { Progress = progress }).ConfigureAwait(false);
            }, $"Test-DatabaseBackup {uri}", task => Run(() => task, uri), activityId: 4);
            if (verification.Status != VerificationStatus.Verified)
            {
                var (id, category) = verification switch
                {
                    { Status: VerificationStatus.Missing } => (ErrorIds.BackupNotFound, ErrorCategory.ObjectNotFound),
                    { ManifestFound: false } => (ErrorIds.BackupIncomplete, ErrorCategory.InvalidData),
                    { ChecksumMatches: false } => (ErrorIds.BackupChecksumMismatch, ErrorCategory.InvalidData),
                    _ => (ErrorIds.BackupVerificationFailed, ErrorCategory.InvalidData),
                };
                WriteError(new ErrorRecord(new InvalidOperationException($"{uri}: {string.Join("; ", verification.Problems)}"), id, category, verification));
            }
            WriteObject(verification);
        }
    }
}
