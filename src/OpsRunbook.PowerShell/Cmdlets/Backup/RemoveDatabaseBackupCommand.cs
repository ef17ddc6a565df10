using System.Management.Automation;
using OpsRunbook.Engine.Backup;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

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
        var context = ContextOf(env);
        var location = Destination is not null ? LocationOf(Destination) : EnvironmentDestination();
        var policy = new RetentionPolicy(OlderThan, KeepLast, KeepDaily, KeepWeekly, KeepMonthly).OrConfigured(env?.Backup?.RetentionDays, env?.Backup?.RetentionCount);
        var decisions = Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
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
                using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
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
        var context = ContextOf(env);
        BackupLocation location;
        string key;
        try
        {
            (location, key) = BackupLocation.Split(uri);
        }
        catch (ArgumentException ex)
        {
            WriteError(new ErrorRecord(ex, ErrorIds.InvalidBackupUri, ErrorCategory.InvalidArgument, uri));
            return;
        }
        var (exists, backup, last) = Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
            return await BackupCatalog.FindAsync(store, key, Cancellation).ConfigureAwait(false);
        }, uri);
        if (!exists)
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"there is no backup at {uri}: Get-DatabaseBackup lists the backups of a destination"),
                ErrorIds.BackupNotFound, ErrorCategory.ObjectNotFound, uri));
            return;
        }
        var what = backup is null ? "Remove this file and whatever manifest it has (not a backup OpsRunbook made)"
            : last ? $"Remove the LAST whole backup of {backup.Database} ({backup.Environment ?? "no environment"}), of {backup.StartedAt:u}: nothing would be left to restore"
            : $"Remove the backup of {backup.Database} of {backup.StartedAt:u}";
        if (!ShouldAct(uri, what, Force)) return;
        Run(async () =>
        {
            using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
            await BackupCatalog.DeleteAsync(store, key, Cancellation).ConfigureAwait(false);
            return true;
        }, uri);
        if (last) WriteWarning($"{backup!.Database} ({backup.Environment ?? "no environment"}) has no whole backup left at {location.Root}: run Backup-Database");
        if (backup is not null) WriteObject(backup);
    }
}
