using System.Management.Automation;
using OpsRunbook.Engine.Backup;
using OpsRunbook.PowerShell.Completers;

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
        var destinations = Destination is { Length: > 0 } ? Destination.Select(LocationOf).ToList() : [EnvironmentDestination()];
        var connection = DatabaseConnection();
        if (!ShouldProcess(string.Join(", ", destinations), $"Back up {(Connection is null ? $"the {Environment} database" : connection.Display)} with pg_dump")) return;
        var request = new BackupRequest
        {
            Connection = connection,
            Destinations = destinations,
            Aws = env?.Aws,
            System = env?.System,
            Environment = env?.Name,
            Format = Format,
            Compression = Compression,
            CompressionLevel = CompressionLevel,
            CountRows = !NoRowCount,
            CaCertificatePath = env?.Database?.CaCertificate,
        };
        var info = RunObserved(progress => BackupRunner.RunAsync(request, Secrets, Secrets.Redactor, progress, Cancellation), "Backup-Database",
            task => Run(() => task, destinations[0].Root), activityId: 3);
        if (info.Status == "Failed")
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"backup of {info.Database} failed: {info.Error}"), "OpsRunbook.BackupFailed", ErrorCategory.WriteError, info));
        }
        WriteObject(info);
    }
}

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
        var backups = Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, Aws(), Secrets, Secrets.Redactor, Cancellation).ConfigureAwait(false);
            return await BackupCatalog.ListAsync(store, Database, Since, Until, Cancellation).ConfigureAwait(false);
        }, location.Root);
        WriteObject(backups, true);
    }
}

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
        var restoreConnection = RestoreCheck ? DatabaseConnection() : null;
        var options = new BackupCatalog.VerifyOptions(RestoreCheck, KeepDatabase, RtoTarget ?? env?.Backup?.Rto, restoreConnection);
        foreach (var uri in BackupUri!)
        {
            var (location, key) = BackupLocation.Split(UriOf(uri));
            var verification = RunObserved(async progress =>
            {
                using var store = await BackupStores.OpenAsync(location, env?.Aws, Secrets, Secrets.Redactor, Cancellation).ConfigureAwait(false);
                return await BackupCatalog.VerifyAsync(store, key, options, Secrets, Secrets.Redactor, env?.Name, Cancellation, progress).ConfigureAwait(false);
            }, $"Test-DatabaseBackup {uri}", task => Run(() => task, uri), activityId: 4);
            if (verification.Status != "Verified")
            {
                var (id, category) = verification switch
                {
                    { Status: "Missing" } => ("OpsRunbook.BackupNotFound", ErrorCategory.ObjectNotFound),
                    { ManifestFound: false } => ("OpsRunbook.BackupIncomplete", ErrorCategory.InvalidData),
                    { ChecksumMatches: false } => ("OpsRunbook.BackupChecksumMismatch", ErrorCategory.InvalidData),
                    _ => ("OpsRunbook.BackupVerificationFailed", ErrorCategory.InvalidData),
                };
                WriteError(new ErrorRecord(new InvalidOperationException($"{uri}: {string.Join("; ", verification.Problems)}"), id, category, verification));
            }
            WriteObject(verification);
        }
    }
}

/// <summary>
/// Restores a backup into a new database (default) or, with -Force, over an existing one — after verifying its checksum.
/// </summary>
/// <remarks>
/// Restore-Database takes a BackupInfo from the pipeline, a path or an s3:// URI. Before it touches any database it
/// reads the whole backup and checks its SHA-256 against the manifest (an S3 backup is downloaded to a temporary file
/// on the way, which -Jobs needs anyway: parallel pg_restore reads a seekable file). It restores into a new database
/// named {database}_restored_{timestamp} unless -TargetDatabase names another; a database that exists is replaced only
/// with -Force (ConfirmImpact High), and -WhatIf only reports which database would be created or replaced. A replacement
/// restores beside the old database and swaps the names only after the restore succeeded: a failure, Ctrl+C or a killed
/// pg_restore leaves the old database as it was (and the half-restored one is dropped).
/// Custom archives restore with pg_restore (--no-owner, --exit-on-error, -Jobs in parallel), plain dumps with psql in
/// one transaction. The RestoreResult reports the duration.
/// -Verbose writes one line per phase (download or checksum, restore, swap), -Debug pg_restore's arguments, and the
/// progress bar a percentage of the bytes read and the rows restored.
/// </remarks>
/// <example>
/// <code>Get-DatabaseBackup production | Select-Object -First 1 | Restore-Database -Environment staging -Jobs 4</code>
/// <para>Restores production's newest backup into a new database on the staging server, four jobs in parallel.</para>
/// </example>
/// <example>
/// <code>Restore-Database -BackupUri ./backups/app.dump -Connection env:DATABASE_URL -TargetDatabase app -Force -WhatIf</code>
/// <para>Shows that the restore would replace database app, replacing nothing.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "Database", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RestoreResult))]
public sealed class RestoreDatabaseCommand : BackupCmdlet
{
    /// <summary>The backup: an s3:// URI or a path; binds BackupUri from Backup-Database and Get-DatabaseBackup.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BackupUriCompleter))]
    public string? BackupUri { get; set; }

    /// <summary>The database to restore into (default: a new {database}_restored_{timestamp}).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TargetDatabase { get; set; }

    /// <summary>Parallel pg_restore jobs (custom archives).</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int Jobs { get; set; } = 1;

    /// <summary>Replace an existing target database, and do not ask.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Plans, asks, restores.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var connection = DatabaseConnection();
        var uri = UriOf(BackupUri!);
        var plan = Run(() => RestoreRunner.PlanAsync(uri, TargetDatabase, connection, env?.Aws, Secrets, Secrets.Redactor, Cancellation), uri);
        if (plan.FailedVerification is { } failed && !IgnoreFailedVerification)
        {
            // Get-DatabaseBackup | Test-DatabaseBackup | Restore-Database: a backup that just failed its test stops here.
            WriteError(new ErrorRecord(new InvalidOperationException(
                $"{uri}: its latest verification failed at {failed.FailedAt:u} ({string.Join("; ", failed.Problems)}); nothing was restored. Restore it anyway with -IgnoreFailedVerification"),
                "OpsRunbook.BackupVerificationFailed", ErrorCategory.InvalidData, plan.BackupUri));
            return;
        }
        var action = plan.TargetExists
            ? $"Replace existing database {plan.Database} with the backup (restored beside it, then swapped in)"
            : $"Create database {plan.Database} from the backup";
        if (plan.TargetExists && !Force && !MyInvocation.BoundParameters.ContainsKey("WhatIf") && !WhatIfPreference())
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"database {plan.Database} exists; restore into a new database (omit -TargetDatabase) or replace it with -Force"),
                "OpsRunbook.RestoreTargetExists", ErrorCategory.ResourceExists, plan.Database));
        }
        if (!ShouldAct($"{plan.Database} from {uri}", action, Force)) return;
        var result = RunObserved(progress => RestoreRunner.RunAsync(plan, Force, Jobs, connection, env?.Aws, Secrets, Secrets.Redactor, env?.Name, Cancellation, progress),
            $"Restore-Database {plan.Database}", task => Run(() => task, uri), activityId: 5);
        if (result.Status != "Succeeded")
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"restore of {uri} into {result.Database} failed: {result.Error}"), "OpsRunbook.RestoreFailed", ErrorCategory.InvalidResult, result));
        }
        WriteObject(result);
    }

    private bool WhatIfPreference() => SessionState.PSVariable.GetValue("WhatIfPreference") is { } p && LanguagePrimitives.IsTrue(p);

    /// <summary>Restore even though the backup's latest verification (Test-DatabaseBackup) failed; its checksum is still checked first.</summary>
    [Parameter]
    public SwitchParameter IgnoreFailedVerification { get; set; }
}

/// <summary>
/// Removes backups by retention: older than -OlderThan, beyond -KeepLast, or outside grandfather-father-son (-KeepDaily, -KeepWeekly, -KeepMonthly).
/// </summary>
/// <remarks>
/// Remove-DatabaseBackup applies the runbooks' retention (30 days, 7 days) to a destination's backups. A backup is kept
/// when any rule keeps it; the newest backup that passed a restore check is always kept. -WhatIf lists what would go
/// and why. Each removal deletes the manifest first, so a half-removed backup never looks complete. Without rules, the
/// environment's "backup"."retention" (days, count) applies. No rule ever removes a database's last whole backup: to
/// remove that one, name it (-BackupUri, or pipe it from Get-DatabaseBackup), which removes exactly the backups named.
/// Writes the BackupInfo of each backup removed.
/// </remarks>
/// <example>
/// <code>Remove-DatabaseBackup production -OlderThan 30d -WhatIf</code>
/// <para>Runbook 000's 30-day retention, previewed.</para>
/// </example>
/// <example>
/// <code>Remove-DatabaseBackup production -KeepDaily 7 -KeepWeekly 4 -KeepMonthly 6 -Force</code>
/// <para>Grandfather-father-son retention in a scheduled job.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseBackup production -Database app_old | Remove-DatabaseBackup -WhatIf</code>
/// <para>Previews removing every backup of a retired database by name, the last one too (without -WhatIf, each asks first).</para>
/// </example>
[Cmdlet(VerbsCommon.Remove, "DatabaseBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Retention")]
[OutputType(typeof(BackupInfo))]
public sealed class RemoveDatabaseBackupCommand : BackupCmdlet
{
    /// <summary>Where the backups are instead of the environment's destination.</summary>
    [Parameter(ParameterSetName = "Retention")]
    [ValidateNotNullOrEmpty]
    public string? Destination { get; set; }

    /// <summary>Remove backups older than this, e.g. 30d.</summary>
    [Parameter(ParameterSetName = "Retention")]
    [DurationTransformation]
    public TimeSpan? OlderThan { get; set; }

    /// <summary>Keep the newest N backups.</summary>
    [Parameter(ParameterSetName = "Retention")]
    [ValidateRange(1, 100000)]
    public int? KeepLast { get; set; }

    /// <summary>Keep the newest backup of each of the last N days that have one.</summary>
    [Parameter(ParameterSetName = "Retention")]
    [ValidateRange(1, 100000)]
    public int? KeepDaily { get; set; }

    /// <summary>Keep the newest backup of each of the last N ISO weeks that have one.</summary>
    [Parameter(ParameterSetName = "Retention")]
    [ValidateRange(1, 100000)]
    public int? KeepWeekly { get; set; }

    /// <summary>Keep the newest backup of each of the last N months that have one.</summary>
    [Parameter(ParameterSetName = "Retention")]
    [ValidateRange(1, 100000)]
    public int? KeepMonthly { get; set; }

    /// <summary>Only backups of this database.</summary>
    [Parameter(ParameterSetName = "Retention")]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>Backups to remove by name (s3:// URIs or paths), whatever retention says, even a database's last one; binds
    /// BackupUri from Get-DatabaseBackup.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "ByUri")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BackupUriCompleter))]
    public string[]? BackupUri { get; set; }

    /// <summary>Do not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Decides and removes.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == "ByUri")
        {
            foreach (var uri in BackupUri!) RemoveByName(UriOf(uri));
            return;
        }
        var env = Env();
        var location = Destination is not null ? LocationOf(Destination) : EnvironmentDestination();
        var policy = new RetentionPolicy(OlderThan, KeepLast, KeepDaily, KeepWeekly, KeepMonthly);
        if (policy.IsEmpty && env?.Backup is { } b && (b.RetentionDays is not null || b.RetentionCount is not null))
        {
            policy = new RetentionPolicy(b.RetentionDays is { } d ? TimeSpan.FromDays(d) : null, b.RetentionCount);
        }
        var decisions = Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, env?.Aws, Secrets, Secrets.Redactor, Cancellation).ConfigureAwait(false);
            var backups = await BackupCatalog.ListAsync(store, Database, null, null, Cancellation).ConfigureAwait(false);
            // With -Environment, only that environment's backups: a shared destination holds others' too.
            return Retention.Decide(backups, policy, DateTimeOffset.UtcNow, env?.Name);
        }, location.Root);
        foreach (var decision in decisions)
        {
            WriteVerbose($"{decision.Backup.BackupUri}: {(decision.Keep ? "keep" : "remove")} ({decision.Reason})");
            if (decision.Keep || !ShouldAct(decision.Backup.BackupUri, $"Remove the backup of {decision.Backup.StartedAt:u} ({decision.Reason})", Force)) continue;
            Run(async () =>
            {
                using var store = await BackupStores.OpenAsync(location, env?.Aws, Secrets, Secrets.Redactor, Cancellation).ConfigureAwait(false);
                await BackupCatalog.DeleteAsync(store, location.KeyOf(decision.Backup.BackupUri), Cancellation).ConfigureAwait(false);
                return true;
            }, decision.Backup.BackupUri);
            WriteObject(decision.Backup);
        }
    }

    /// <summary>
    /// Removes one backup the user named. The only way to remove a database's last whole backup: the confirmation says
    /// so, and a warning follows it.
    /// </summary>
    private void RemoveByName(string uri)
    {
        var env = Env();
        BackupLocation location;
        string key;
        try
        {
            (location, key) = BackupLocation.Split(uri);
        }
        catch (ArgumentException ex)
        {
            WriteError(new ErrorRecord(ex, "OpsRunbook.InvalidBackupUri", ErrorCategory.InvalidArgument, uri));
            return;
        }
        var (exists, backup, last) = Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, env?.Aws, Secrets, Secrets.Redactor, Cancellation).ConfigureAwait(false);
            var exists = await store.ExistsAsync(key, Cancellation).ConfigureAwait(false)
                || await store.ExistsAsync(BackupManifest.KeyFor(key), Cancellation).ConfigureAwait(false);
            var all = await BackupCatalog.ListAsync(store, null, null, null, Cancellation).ConfigureAwait(false);
            var backup = all.FirstOrDefault(b => string.Equals(b.BackupUri, store.Location.UriOf(key), StringComparison.Ordinal));
            return (exists, backup, backup is not null && Retention.IsLastWhole(backup, all));
        }, uri);
        if (!exists)
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"there is no backup at {uri}: Get-DatabaseBackup lists the backups of a destination"),
                "OpsRunbook.BackupNotFound", ErrorCategory.ObjectNotFound, uri));
            return;
        }
        var what = backup is null ? "Remove this file and whatever manifest it has (not a backup OpsRunbook made)"
            : last ? $"Remove the LAST whole backup of {backup.Database} ({backup.Environment ?? "no environment"}), of {backup.StartedAt:u}: nothing would be left to restore"
            : $"Remove the backup of {backup.Database} of {backup.StartedAt:u}";
        if (!ShouldAct(uri, what, Force)) return;
        Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, env?.Aws, Secrets, Secrets.Redactor, Cancellation).ConfigureAwait(false);
            await BackupCatalog.DeleteAsync(store, key, Cancellation).ConfigureAwait(false);
            return true;
        }, uri);
        if (last) WriteWarning($"{backup!.Database} ({backup.Environment ?? "no environment"}) has no whole backup left at {location.Root}: run Backup-Database");
        if (backup is not null) WriteObject(backup);
    }
}

/// <summary>
/// Copies a bucket (or prefix) to another, server-side and in parallel, skipping unchanged objects: runbook 001's `aws s3 sync s3://app s3://backup/files/YYYYMMDD/`.
/// </summary>
/// <remarks>
/// Backup-StorageBucket lists both sides and copies every object that is missing or differs (size or ETag) with S3's
/// server-side CopyObject, so no bytes pass through this machine. Stores in S3-compatible mode that refuse the copy
/// (some misread x-amz-copy-source) are copied through this machine instead, and counted as streamed. The
/// BucketSyncResult counts copied, unchanged and failed objects and the bytes copied. {date} in -Destination becomes
/// today's UTC date (yyyyMMdd).
/// -Verbose says how many objects there are on each side; the progress bar counts the objects done.
/// </remarks>
/// <example>
/// <code>Backup-StorageBucket -Source s3://formula-pm-storage/ -Destination 's3://formula-pm-backup/files/{date}/' -Environment production</code>
/// <para>Runbook 001's file storage backup.</para>
/// </example>
[Cmdlet(VerbsData.Backup, "StorageBucket", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(BucketSyncResult))]
public sealed class BackupStorageBucketCommand : BackupCmdlet
{
    /// <summary>The bucket or prefix to copy: s3://bucket/prefix/.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = "";

    /// <summary>Where to copy it: s3://bucket/prefix/ ({date} becomes yyyyMMdd).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Copies at once (default 16).</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 16;

    /// <summary>Copies.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var destination = new BackupLocation(Destination.Replace("{date}", DateTime.UtcNow.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var source = new BackupLocation(Source);
        if (!ShouldProcess(destination.Root, $"Copy every changed object from {source.Root}")) return;
        var result = RunObserved(progress => StorageSync.SyncAsync(source, destination, env?.Aws, ThrottleLimit, Secrets, Secrets.Redactor, env?.Name, progress, Cancellation),
            "Backup-StorageBucket", task => Run(() => task, source.Root), activityId: 6);
        if (result.Failed > 0)
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"{result.Failed} objects failed to copy: {string.Join("; ", result.Errors.Take(5))}"), "OpsRunbook.StorageCopyFailed", ErrorCategory.WriteError, result));
        }
        WriteObject(result);
    }
}
