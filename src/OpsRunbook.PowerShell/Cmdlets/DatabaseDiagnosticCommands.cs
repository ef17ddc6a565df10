using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists PostgreSQL backends from pg_stat_activity: who runs what, for how long, waiting on what.
/// </summary>
/// <remarks>
/// Get-DatabaseActivity is runbook 000's "active connections" and 001's "queries running longer than 5 minutes": one
/// DatabaseActivity per backend with pid, user, application, client, state, wait event, how long the current query
/// and transaction have run, the pids blocking it, and the query (cut to 200 characters unless -Full). -State,
/// -MinDuration and -Database filter on the server. OpsRunbook's own connections are left out. Its output pipes into
/// Stop-DatabaseQuery by Pid. Read-only: it runs in a read-only transaction with a statement timeout.
/// </remarks>
/// <example>
/// <code>Get-DatabaseActivity production -State active</code>
/// <para>What the production primary is running right now.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseActivity production -MinDuration 30m | Stop-DatabaseQuery -Terminate -WhatIf</code>
/// <para>Runbook 001's long-running query kill, previewed: which backends would be terminated.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseActivity")]
[OutputType(typeof(DatabaseActivity))]
public sealed class GetDatabaseActivityCommand : DatabaseCmdlet
{
    /// <summary>Only backends in these states: active, idle, 'idle in transaction', 'idle in transaction (aborted)', fastpath function call, disabled.</summary>
    [Parameter]
    [ValidateSet("active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled")]
    public string[]? State { get; set; }

    /// <summary>Only queries running at least this long, e.g. 5m, 30s.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? MinDuration { get; set; }

    /// <summary>Only backends connected to this database.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>Show whole query texts instead of their first 200 characters.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>Also list the server's own processes (autovacuum, checkpointer, WAL sender ...), which have no user or state;
    /// by default only client connections are listed.</summary>
    [Parameter]
    public SwitchParameter IncludeBackground { get; set; }

    /// <summary>Writes the backends.</summary>
    protected override void ProcessRecord() =>
        WriteObject(Run((s, ct) => DatabaseDiagnostics.GetActivityAsync(s, new ActivityFilter(State, MinDuration, Database, Full, IncludeBackground), ct)), true);
}

/// <summary>
/// Lists the slowest statements from pg_stat_statements, by mean time (or total, calls, max).
/// </summary>
/// <remarks>
/// Get-DatabaseSlowQuery is the runbooks' `SELECT query, calls, mean_exec_time FROM pg_stat_statements ORDER BY
/// mean_exec_time DESC LIMIT 10`, on every supported server version: PostgreSQL 13 renamed mean_time to mean_exec_time
/// and total_time to total_exec_time, and the cmdlet uses the server's names. Each DatabaseSlowQuery has calls, mean,
/// total and max milliseconds, rows and the share of all statements' time. When the extension is missing, the error
/// says exactly what to run (CREATE EXTENSION, shared_preload_libraries). Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseSlowQuery production -Top 10</code>
/// <para>The ten statements with the highest mean execution time.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseSlowQuery production -OrderBy Total -Top 5 -Full | Format-List Query, Calls, TotalMs, PercentOfTotal</code>
/// <para>Where the database spends its time, with whole query texts.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseSlowQuery")]
[OutputType(typeof(DatabaseSlowQuery))]
public sealed class GetDatabaseSlowQueryCommand : DatabaseCmdlet
{
    /// <summary>How many statements (default 10).</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int Top { get; set; } = 10;

    /// <summary>Mean (default), Total, Calls or Max.</summary>
    [Parameter]
    public SlowQueryOrder OrderBy { get; set; } = SlowQueryOrder.Mean;

    /// <summary>Show whole query texts.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>Writes the statements.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetSlowQueriesAsync(s, Top, OrderBy, Full, ct)), true);
}

/// <summary>
/// Lists blocked backends and the backends blocking them (pg_blocking_pids), longest wait first.
/// </summary>
/// <remarks>
/// Get-DatabaseLock is runbook 000's lock-monitoring query, made readable: each DatabaseLock pairs a waiting backend
/// (pid, user, query, how long it waits) with the one holding the lock (pid, user, query, state, how long its
/// transaction is open — "idle in transaction" is the classic culprit). Its Pid is the blocker's, so piping into
/// Stop-DatabaseQuery stops blockers. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseLock production</code>
/// <para>Who waits on whom.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseLock production | Where-Object BlockingState -eq 'idle in transaction' | Stop-DatabaseQuery -Terminate</code>
/// <para>Terminates sessions that hold locks while doing nothing (asks first).</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseLock")]
[OutputType(typeof(DatabaseLock))]
public sealed class GetDatabaseLockCommand : DatabaseCmdlet
{
    /// <summary>Show whole query texts.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>Writes the pairs.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetLocksAsync(s, Full, ct)), true);
}

/// <summary>
/// Lists tables by size: table, indexes, TOAST, live and dead rows, last vacuum and analyze.
/// </summary>
/// <remarks>
/// Get-DatabaseTableSize is runbook 000's table-size query, with the parts separated and upkeep dates added (largest
/// first). Names are taken from the catalog, so mixed-case and unusual names work (the runbook's string-built query
/// breaks on them). QualifiedName pipes into Invoke-DatabaseMaintenance -Table. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseTableSize production -Top 10</code>
/// <para>The ten largest tables.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseTableSize production | Where-Object DeadRows -gt 100000 | Invoke-DatabaseMaintenance -Vacuum -WhatIf</code>
/// <para>Which bloated tables a VACUUM would touch.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseTableSize")]
[OutputType(typeof(DatabaseTableSize))]
public sealed class GetDatabaseTableSizeCommand : DatabaseCmdlet
{
    /// <summary>Only this schema.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Schema { get; set; }

    /// <summary>How many tables (default 20).</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Top { get; set; } = 20;

    /// <summary>Writes the tables.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetTableSizesAsync(s, Schema, Top, ct)), true);
}

/// <summary>
/// Lists indexes with their scans and sizes: Unused, RarelyUsed, Used, or Constraint (unique and primary keys).
/// </summary>
/// <remarks>
/// Get-DatabaseIndexUsage is runbook 000's `pg_stat_user_indexes ORDER BY idx_scan`, classified: an index never scanned
/// is Unused, one scanned fewer than -RarelyUsedBelow times RarelyUsed; unique, primary-key and exclusion indexes are
/// Constraint and never suggested for removal. Scans count since the statistics were last reset. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseIndexUsage production -Usage Unused | Sort-Object SizeBytes -Descending</code>
/// <para>Unused indexes, largest first: candidates to drop after checking replicas and reset dates.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseIndexUsage")]
[OutputType(typeof(DatabaseIndexUsage))]
public sealed class GetDatabaseIndexUsageCommand : DatabaseCmdlet
{
    /// <summary>Only indexes with these usages: Unused, RarelyUsed, Used, Constraint.</summary>
    [Parameter]
    [ValidateSet("Unused", "RarelyUsed", "Used", "Constraint")]
    public string[]? Usage { get; set; }

    /// <summary>Fewer scans than this is RarelyUsed (default 50).</summary>
    [Parameter]
    [ValidateRange(1L, long.MaxValue)]
    public long RarelyUsedBelow { get; set; } = 50;

    /// <summary>Writes the indexes.</summary>
    protected override void ProcessRecord()
    {
        foreach (var i in Run((s, ct) => DatabaseDiagnostics.GetIndexUsageAsync(s, RarelyUsedBelow, ct)))
        {
            if (Usage is null || Usage.Contains(i.Usage, StringComparer.OrdinalIgnoreCase)) WriteObject(i);
        }
    }
}

/// <summary>
/// Suggests indexes that may be missing: high-cardinality, unordered columns no index starts with, and tables read mostly by sequential scans.
/// </summary>
/// <remarks>
/// Get-DatabaseIndexAdvice runs the runbooks' "check for missing indexes" heuristic (pg_stats: n_distinct &gt; 100 and
/// correlation near zero — |correlation| &lt; 0.1, since a strongly negative correlation is ordered too), leaving out
/// columns an index already leads with, and adds tables with more sequential than index scans and at least -MinRows
/// rows. Each DatabaseIndexAdvice explains its numbers and, for columns, a CREATE INDEX CONCURRENTLY statement to review —
/// advice for a person, never run by the cmdlet. Statistics come from ANALYZE. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseIndexAdvice production</code>
/// <para>Missing-index hints for schema public.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseIndexAdvice")]
[OutputType(typeof(DatabaseIndexAdvice))]
public sealed class GetDatabaseIndexAdviceCommand : DatabaseCmdlet
{
    /// <summary>The schema to examine (default public, as in the runbooks).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Schema { get; set; } = "public";

    /// <summary>Tables smaller than this are not reported for sequential scans (default 10000 rows).</summary>
    [Parameter]
    [ValidateRange(0L, long.MaxValue)]
    public long MinRows { get; set; } = 10000;

    /// <summary>Writes the advice.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetIndexAdviceAsync(s, Schema, MinRows, ct)), true);
}

/// <summary>
/// Shows connections against max_connections, by state, with the runbooks' thresholds.
/// </summary>
/// <remarks>
/// Get-DatabaseConnectionUsage is runbook 001's `SELECT count(*) FROM pg_stat_activity` against max_connections,
/// counting only client backends and subtracting the slots reserved for superusers. PercentUsed is compared with the
/// environment's connection-usage thresholds (runbook 003's pool utilization: warning above 80 %, critical above 90 %).
/// Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseConnectionUsage production</code>
/// <para>How close production is to running out of connections, and who holds them by state.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseConnectionUsage")]
[OutputType(typeof(DatabaseConnectionUsage))]
public sealed class GetDatabaseConnectionUsageCommand : DatabaseCmdlet
{
    /// <summary>Writes the usage.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetConnectionUsageAsync(s, Thresholds(), ct)));

    private Engine.Metrics.ThresholdProfile? Thresholds() =>
        Connection is null && !string.IsNullOrEmpty(Environment) ? LoadConfig().GetEnvironment(Environment).GetThresholdProfile() : null;
}

/// <summary>
/// Shows replication: the server's role, each replica's state and lag on a primary, the replay delay on a replica.
/// </summary>
/// <remarks>
/// Get-DatabaseReplication asks the server it connects to. On a primary it lists pg_stat_replication: each replica's
/// state, sync state, lag in bytes (pg_wal_lsn_diff) and write/flush/replay lag in seconds. On a replica (-Replica) it
/// shows the WAL receiver's status and how far replay is behind. Severity compares the worst lag with the environment's
/// thresholds (runbook 003: warning above 10 s, critical above 30 s); a replica that is not streaming is Critical.
/// Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseReplication production | Select-Object -ExpandProperty Replicas</code>
/// <para>Each replica of the production primary and its lag.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseReplication production -Replica</code>
/// <para>The replica's own view: is it streaming, how far behind is replay.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseReplication")]
[OutputType(typeof(DatabaseReplication))]
public sealed class GetDatabaseReplicationCommand : DatabaseCmdlet
{
    /// <summary>Writes the replication state.</summary>
    protected override void ProcessRecord()
    {
        var profile = Connection is null && !string.IsNullOrEmpty(Environment) ? LoadConfig().GetEnvironment(Environment).GetThresholdProfile() : null;
        WriteObject(Run((s, ct) => DatabaseDiagnostics.GetReplicationAsync(s, profile, ct)));
    }
}

/// <summary>
/// The monthly security audit: every role's privileges and password expiry, privileged memberships, and what PUBLIC may do in schema public.
/// </summary>
/// <remarks>
/// Get-DatabaseRoleAudit is the security audit of runbooks 001 and 003 (`SELECT usename, valuntil FROM pg_user` and
/// more): one DatabaseRoleAudit per role (built-in pg_ roles left out) with login, superuser, CREATEROLE, CREATEDB,
/// REPLICATION and BYPASSRLS, password expiry (None, Valid, Expired), memberships in privileged roles
/// (pg_read_all_data, pg_write_all_data, pg_signal_backend, ...) and findings in words; then one
/// DatabasePublicSchemaAudit saying whether PUBLIC may create objects in schema public. Read-only; works without
/// superuser rights (pg_roles masks passwords).
/// </remarks>
/// <example>
/// <code>Get-DatabaseRoleAudit production | Where-Object { $_.Findings.Count -gt 0 } | Format-List Role, Findings</code>
/// <para>The roles with something to look at.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseRoleAudit production | Export-RunbookReport -Format Markdown -Path ./audit.md</code>
/// <para>The audit as a report for the monthly review.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseRoleAudit")]
[OutputType(typeof(DatabaseRoleAudit))]
[OutputType(typeof(DatabasePublicSchemaAudit))]
public sealed class GetDatabaseRoleAuditCommand : DatabaseCmdlet
{
    /// <summary>Writes the roles, then the public-schema audit.</summary>
    protected override void ProcessRecord()
    {
        var (roles, publicSchema) = Run((s, ct) => DatabaseDiagnostics.GetRoleAuditAsync(s, DateTimeOffset.UtcNow, ct));
        WriteObject(roles, true);
        WriteObject(publicSchema);
    }
}
