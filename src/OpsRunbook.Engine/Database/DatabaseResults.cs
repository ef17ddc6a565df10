using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Database;

/// <summary>Fields every database result carries, so results pipe into the next cmdlet.</summary>
public abstract class DatabaseResult
{
    /// <summary>The environment, if the connection came from one.</summary>
    public string? Environment { get; init; }
    /// <summary>The target: database, database-replica, or host:port/database.</summary>
    public string Target { get; init; } = "";
    /// <summary>When the connecting role may not see all of this result: which privilege is missing and how to grant
    /// it (what PostgreSQL hid is then unknown, never shown as if it were data).</summary>
    public string? MissingPrivilege { get; init; }
}

/// <summary>A backend from pg_stat_activity.</summary>
public sealed class DatabaseActivity : DatabaseResult
{
    /// <summary>Backend process id.</summary>
    public int Pid { get; init; }
    /// <summary>Database.</summary>
    public string? Database { get; init; }
    /// <summary>Role.</summary>
    public string? User { get; init; }
    /// <summary>application_name.</summary>
    public string? Application { get; init; }
    /// <summary>Client address (null for local sockets).</summary>
    public string? Client { get; init; }
    /// <summary>active, idle, idle in transaction, ...</summary>
    public string? State { get; init; }
    /// <summary>client backend, autovacuum worker, walsender, ...</summary>
    public string? BackendType { get; init; }
    /// <summary>Wait event type (Lock, IO, Client...).</summary>
    public string? WaitEventType { get; init; }
    /// <summary>Wait event.</summary>
    public string? WaitEvent { get; init; }
    /// <summary>When the current query started.</summary>
    public DateTimeOffset? QueryStart { get; init; }
    /// <summary>How long the current query has run (null when none).</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>How long the current transaction has run.</summary>
    public TimeSpan? TransactionDuration { get; init; }
    /// <summary>The query text (truncated unless -Full).</summary>
    public string? Query { get; init; }
    /// <summary>Backends blocking this one (pg_blocking_pids).</summary>
    public IReadOnlyList<int> BlockedBy { get; init; } = [];
}

/// <summary>A statement from pg_stat_statements.</summary>
public sealed class DatabaseSlowQuery : DatabaseResult
{
    /// <summary>queryid.</summary>
    public long? QueryId { get; init; }
    /// <summary>Normalized query text.</summary>
    public required string Query { get; init; }
    /// <summary>Executions.</summary>
    public long Calls { get; init; }
    /// <summary>Mean execution time, ms (mean_exec_time, or mean_time before PostgreSQL 13).</summary>
    public double MeanMs { get; init; }
    /// <summary>Total execution time, ms.</summary>
    public double TotalMs { get; init; }
    /// <summary>Longest execution, ms.</summary>
    public double MaxMs { get; init; }
    /// <summary>Rows returned or affected.</summary>
    public long Rows { get; init; }
    /// <summary>Share of all statements' total time, %.</summary>
    public double PercentOfTotal { get; init; }
    /// <summary>Role that ran it.</summary>
    public string? User { get; init; }
}

/// <summary>A blocked backend and the one blocking it.</summary>
public sealed class DatabaseLock : DatabaseResult
{
    /// <summary>The waiting backend.</summary>
    public int BlockedPid { get; init; }
    /// <summary>Its role.</summary>
    public string? BlockedUser { get; init; }
    /// <summary>Its query.</summary>
    public string? BlockedQuery { get; init; }
    /// <summary>How long it has waited.</summary>
    public TimeSpan? BlockedFor { get; init; }
    /// <summary>The backend holding the lock (pipe it into Stop-DatabaseQuery as Pid).</summary>
    public int BlockingPid { get; init; }
    /// <summary>Its role.</summary>
    public string? BlockingUser { get; init; }
    /// <summary>Its current (or last) query.</summary>
    public string? BlockingQuery { get; init; }
    /// <summary>Its state (idle in transaction is the classic culprit).</summary>
    public string? BlockingState { get; init; }
    /// <summary>How long its transaction has been open.</summary>
    public TimeSpan? BlockingTransactionDuration { get; init; }
    /// <summary>The Pid property binds Stop-DatabaseQuery: stopping a lock stops its blocker.</summary>
    public int Pid => BlockingPid;
}

/// <summary>What Stop-DatabaseQuery did to one backend.</summary>
public sealed class QueryStopResult : DatabaseResult, IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Stopped queries", $"pid {Pid}", Outcome == "Failed" ? ReportOutcome.Fail : ReportOutcome.Info, $"{Action} {Outcome}", Environment, Reason,
            new KeyValuePair<string, string>[] { new("User", User ?? ""), new("Query", Query ?? "") }, DateTimeOffset.UtcNow);
    }


    /// <summary>The backend.</summary>
    public int Pid { get; init; }
    /// <summary>Cancel or Terminate.</summary>
    public required string Action { get; init; }
    /// <summary>Stopped, NotFound, Skipped, Failed.</summary>
    public required string Outcome { get; init; }
    /// <summary>Why, in words.</summary>
    public required string Reason { get; init; }
    /// <summary>Its role.</summary>
    public string? User { get; init; }
    /// <summary>How long its query had run.</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>Its query (truncated).</summary>
    public string? Query { get; init; }
}

/// <summary>A table's size and upkeep.</summary>
public sealed class DatabaseTableSize : DatabaseResult
{
    /// <summary>Schema.</summary>
    public required string Schema { get; init; }
    /// <summary>Table.</summary>
    public required string Table { get; init; }
    /// <summary>Table + indexes + TOAST.</summary>
    public long TotalBytes { get; init; }
    /// <summary>Heap only.</summary>
    public long TableBytes { get; init; }
    /// <summary>All indexes.</summary>
    public long IndexBytes { get; init; }
    /// <summary>TOAST.</summary>
    public long ToastBytes { get; init; }
    /// <summary>Live rows (estimate).</summary>
    public long LiveRows { get; init; }
    /// <summary>Dead rows (estimate).</summary>
    public long DeadRows { get; init; }
    /// <summary>Last (auto)vacuum.</summary>
    public DateTimeOffset? LastVacuum { get; init; }
    /// <summary>Last (auto)analyze.</summary>
    public DateTimeOffset? LastAnalyze { get; init; }
    /// <summary>"schema"."table", quoted for SQL; binds Invoke-DatabaseMaintenance -Table.</summary>
    public string QualifiedName => $"{Identifier.Quote(Schema)}.{Identifier.Quote(Table)}";
}

/// <summary>An index and how much it is used.</summary>
public sealed class DatabaseIndexUsage : DatabaseResult
{
    /// <summary>Schema.</summary>
    public required string Schema { get; init; }
    /// <summary>Table.</summary>
    public required string Table { get; init; }
    /// <summary>Index.</summary>
    public required string Index { get; init; }
    /// <summary>Index scans since statistics were reset.</summary>
    public long Scans { get; init; }
    /// <summary>Index size.</summary>
    public long SizeBytes { get; init; }
    /// <summary>Unique or primary key (never reported as droppable).</summary>
    public bool IsUnique { get; init; }
    /// <summary>Unused (no scans, not unique), Rarely used (fewer than the threshold), or Used.</summary>
    public required string Usage { get; init; }
    /// <summary>The index definition.</summary>
    public string? Definition { get; init; }
}

/// <summary>A hint that an index may be missing.</summary>
public sealed class DatabaseIndexAdvice : DatabaseResult
{
    /// <summary>Schema.</summary>
    public required string Schema { get; init; }
    /// <summary>Table.</summary>
    public required string Table { get; init; }
    /// <summary>The column, for column advice.</summary>
    public string? Column { get; init; }
    /// <summary>ColumnStatistics (runbooks 001/004: n_distinct &gt; 100, correlation &lt; 0.1, no index leads with it) or SequentialScans.</summary>
    public required string Kind { get; init; }
    /// <summary>Why, with the numbers.</summary>
    public required string Reason { get; init; }
    /// <summary>n_distinct from pg_stats.</summary>
    public double? Distinct { get; init; }
    /// <summary>correlation from pg_stats.</summary>
    public double? Correlation { get; init; }
    /// <summary>Sequential scans of the table.</summary>
    public long? SequentialScans { get; init; }
    /// <summary>Rows read by sequential scans.</summary>
    public long? SequentialRowsRead { get; init; }
    /// <summary>A statement to consider (CREATE INDEX CONCURRENTLY ...), for a person to review.</summary>
    public string? Suggestion { get; init; }
}

/// <summary>Connections against max_connections.</summary>
public sealed class DatabaseConnectionUsage : DatabaseResult, IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Database connections", Target, Severity == "Critical" ? ReportOutcome.Fail : Severity == "Warning" ? ReportOutcome.Warn : ReportOutcome.Pass,
            Severity, Environment, $"{Total} of {MaxConnections - Reserved} connections ({PercentUsed}%); {Threshold}", new KeyValuePair<string, string>[] { new("Used %", PercentUsed.ToString(System.Globalization.CultureInfo.InvariantCulture)) }, DateTimeOffset.UtcNow);
    }


    /// <summary>max_connections.</summary>
    public int MaxConnections { get; init; }
    /// <summary>superuser_reserved_connections (plus reserved_connections where the server has it).</summary>
    public int Reserved { get; init; }
    /// <summary>Client backends now.</summary>
    public int Total { get; init; }
    /// <summary>Client backends by state (active, idle, idle in transaction, ...).</summary>
    public IReadOnlyDictionary<string, int> ByState { get; init; } = new Dictionary<string, int>();
    /// <summary>Total as % of what non-superusers may open.</summary>
    public double PercentUsed { get; init; }
    /// <summary>Normal, Warning or Critical against the thresholds (runbook 003: 80 % / 90 %).</summary>
    public required string Severity { get; init; }
    /// <summary>The thresholds applied.</summary>
    public required string Threshold { get; init; }
}

/// <summary>Replication as the server sees it.</summary>
public sealed class DatabaseReplication : DatabaseResult, IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var detail = MissingPrivilege ?? (Role == "replica" ? $"receiver {ReceiverStatus}, replay delay {ReplayDelaySeconds} s" : $"{Replicas.Count} replica(s), worst replay lag {(Replicas.Count == 0 ? 0 : Replicas.Max(r => r.ReplayLagSeconds ?? 0))} s");
        // Unknown (a privilege is missing) is a warning: a gate must not pass on values it could not see.
        yield return new ReportRow("Database replication", Target, Severity == "Critical" ? ReportOutcome.Fail : Severity is "Warning" or "Unknown" ? ReportOutcome.Warn : ReportOutcome.Pass,
            Severity, Environment, $"{Role}: {detail}", new KeyValuePair<string, string>[] { new("Role", Role) }, DateTimeOffset.UtcNow);
    }


    /// <summary>primary or replica.</summary>
    public required string Role { get; init; }
    /// <summary>On a primary: one row per replica (pg_stat_replication).</summary>
    public IReadOnlyList<ReplicaState> Replicas { get; init; } = [];
    /// <summary>On a replica: the WAL receiver's status (streaming...).</summary>
    public string? ReceiverStatus { get; init; }
    /// <summary>On a replica: seconds since the last replayed transaction, 0 when caught up.</summary>
    public double? ReplayDelaySeconds { get; init; }
    /// <summary>On a replica: WAL received but not replayed, bytes.</summary>
    public double? ReplayLagBytes { get; init; }
    /// <summary>Normal, Warning or Critical against the lag thresholds (runbook 003: 10 s / 30 s).</summary>
    public required string Severity { get; init; }
}

/// <summary>One replica as its primary sees it.</summary>
public sealed record ReplicaState(string? Application, string? Client, string? State, string? SyncState,
    double? LagBytes, double? WriteLagSeconds, double? FlushLagSeconds, double? ReplayLagSeconds);

/// <summary>One role in the monthly security audit.</summary>
public sealed class DatabaseRoleAudit : DatabaseResult, IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Findings.Count == 0 ? ReportOutcome.Pass : (Superuser && CanLogin) || PasswordExpiry == "Expired" ? ReportOutcome.Fail : ReportOutcome.Warn;
        yield return new ReportRow("Role audit", Role, outcome, Findings.Count == 0 ? "OK" : $"{Findings.Count} finding(s)", Environment,
            Findings.Count == 0 ? "nothing to report" : string.Join("; ", Findings), new KeyValuePair<string, string>[] { new("Login", CanLogin.ToString()), new("Password", PasswordExpiry) }, DateTimeOffset.UtcNow);
    }


    /// <summary>Role name.</summary>
    public required string Role { get; init; }
    /// <summary>Can log in.</summary>
    public bool CanLogin { get; init; }
    /// <summary>Superuser.</summary>
    public bool Superuser { get; init; }
    /// <summary>CREATEROLE.</summary>
    public bool CreateRole { get; init; }
    /// <summary>CREATEDB.</summary>
    public bool CreateDatabase { get; init; }
    /// <summary>REPLICATION.</summary>
    public bool Replication { get; init; }
    /// <summary>BYPASSRLS.</summary>
    public bool BypassRowSecurity { get; init; }
    /// <summary>VALID UNTIL.</summary>
    public DateTimeOffset? PasswordValidUntil { get; init; }
    /// <summary>None (no expiry), Valid, or Expired.</summary>
    public required string PasswordExpiry { get; init; }
    /// <summary>Privileged roles it is a member of (pg_read_all_data, pg_write_all_data, pg_signal_backend...).</summary>
    public IReadOnlyList<string> PrivilegedMemberships { get; init; } = [];
    /// <summary>Things to look at, in words.</summary>
    public IReadOnlyList<string> Findings { get; init; } = [];
}

/// <summary>The database-wide part of the audit: what PUBLIC may do in the public schema.</summary>
public sealed class DatabasePublicSchemaAudit : DatabaseResult, IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Role audit", "schema public", PublicCanCreate ? ReportOutcome.Warn : ReportOutcome.Pass, PublicCanCreate ? "PUBLIC can create" : "OK",
            Environment, Findings.Count == 0 ? "PUBLIC cannot create objects in schema public" : string.Join("; ", Findings), [], DateTimeOffset.UtcNow);
    }


    /// <summary>PUBLIC may CREATE in schema public (revoked by default since PostgreSQL 15).</summary>
    public bool PublicCanCreate { get; init; }
    /// <summary>PUBLIC may USE schema public.</summary>
    public bool PublicCanUse { get; init; }
    /// <summary>Findings, in words.</summary>
    public IReadOnlyList<string> Findings { get; init; } = [];
}

/// <summary>What one maintenance operation did to one table (or the database).</summary>
public sealed class MaintenanceResult : DatabaseResult, IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Maintenance", $"{Operation} {Object}", Outcome == "Succeeded" ? ReportOutcome.Pass : ReportOutcome.Fail, Outcome, Environment,
            Error ?? $"{SizeBeforeBytes} -> {SizeAfterBytes} bytes", new KeyValuePair<string, string>[] { new("Duration", Duration.ToString()) }, DateTimeOffset.UtcNow, Duration.TotalMilliseconds);
    }


    /// <summary>"schema"."table", or the database for database-wide work.</summary>
    public required string Object { get; init; }
    /// <summary>ANALYZE, VACUUM, VACUUM FULL, REINDEX (CONCURRENTLY).</summary>
    public required string Operation { get; init; }
    /// <summary>Succeeded or Failed.</summary>
    public required string Outcome { get; init; }
    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>pg_total_relation_size before.</summary>
    public long? SizeBeforeBytes { get; init; }
    /// <summary>pg_total_relation_size after.</summary>
    public long? SizeAfterBytes { get; init; }
    /// <summary>The error, when it failed.</summary>
    public string? Error { get; init; }
}
