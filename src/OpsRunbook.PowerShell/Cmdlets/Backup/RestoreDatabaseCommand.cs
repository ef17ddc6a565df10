using System.Management.Automation;
using OpsRunbook.Engine.Backup;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

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
        var context = Context();
        var connection = DatabaseConnection();
        var uri = UriOf(BackupUri!);
        var plan = Run(() => RestoreRunner.PlanAsync(uri, TargetDatabase, connection, context), uri);
        if (plan.FailedVerification is { } failed && !IgnoreFailedVerification)
        {
            // Get-DatabaseBackup | Test-DatabaseBackup | Restore-Database: a backup that just failed its test stops here.
            WriteError(new ErrorRecord(new InvalidOperationException(
                $"{uri}: its latest verification failed at {failed.FailedAt:u} ({string.Join("; ", failed.Problems)}); nothing was restored. Restore it anyway with -IgnoreFailedVerification"),
                ErrorIds.BackupVerificationFailed, ErrorCategory.InvalidData, plan.BackupUri));
            return;
        }
        var action = plan.TargetExists
            ? $"Replace existing database {plan.Database} with the backup (restored beside it, then swapped in)"
            : $"Create database {plan.Database} from the backup";
        if (plan.TargetExists && !Force && !MyInvocation.BoundParameters.ContainsKey("WhatIf") && !WhatIfPreference())
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"database {plan.Database} exists; restore into a new database (omit -TargetDatabase) or replace it with -Force"),
                ErrorIds.RestoreTargetExists, ErrorCategory.ResourceExists, plan.Database));
        }
        if (!ShouldAct($"{plan.Database} from {uri}", action, Force)) return;
        var result = RunObserved(progress => RestoreRunner.RunAsync(plan, Force, Jobs, connection, context with { Progress = progress }),
            $"Restore-Database {plan.Database}", task => Run(() => task, uri), activityId: 5);
        if (result.Status != RestoreStatus.Succeeded)
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"restore of {uri} into {result.Database} failed: {result.Error}"), ErrorIds.RestoreFailed, ErrorCategory.InvalidResult, result));
        }
        WriteObject(result);
    }

    private bool WhatIfPreference() => SessionState.PSVariable.GetValue("WhatIfPreference") is { } p && LanguagePrimitives.IsTrue(p);

    /// <summary>Restore even though the backup's latest verification (Test-DatabaseBackup) failed; its checksum is still checked first.</summary>
    [Parameter]
    public SwitchParameter IgnoreFailedVerification { get; set; }
}
