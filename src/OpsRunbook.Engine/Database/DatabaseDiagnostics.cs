using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Database;

/// <summary>Filters for <see cref="DatabaseDiagnostics.GetActivityAsync"/>.</summary>
public sealed record ActivityFilter(IReadOnlyList<string>? States = null, TimeSpan? MinDuration = null, string? Database = null, bool FullQuery = false,
    bool IncludeBackground = false);

/// <summary>How to order slow queries.</summary>
public enum SlowQueryOrder
{
    /// <summary>Mean execution time (the runbooks' default).</summary>
    Mean,
    /// <summary>Total execution time.</summary>
    Total,
    /// <summary>Number of calls.</summary>
    Calls,
    /// <summary>Longest single execution.</summary>
    Max,
}

/// <summary>A feature the server lacks (pg_stat_statements); the message says exactly how to enable it.</summary>
public sealed class DatabaseFeatureMissingException(string message) : Exception(message);

/// <summary>The runbooks' psql snippets as typed, read-only procedures. Every one runs in a read-only transaction with a statement timeout.</summary>
public static class DatabaseDiagnostics
{
    /// <summary>Query text is cut to this length unless the full text is asked for.</summary>
    public const int QueryPreviewLength = 200;

    /// <summary>Roles whose membership the audit reports.</summary>
    public static readonly IReadOnlyList<string> PrivilegedRoles =
    new string[]
    {
        "pg_read_all_data", "pg_write_all_data", "pg_signal_backend", "pg_read_server_files", "pg_write_server_files",
        "pg_execute_server_program", "pg_monitor", "pg_read_all_stats", "pg_read_all_settings", "pg_checkpoint",
    };

    /// <summary>pg_stat_activity, without this session's own backends.</summary>
    public static Task<IReadOnlyList<DatabaseActivity>> GetActivityAsync(DatabaseSession session, ActivityFilter filter, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<DatabaseActivity>>(async c =>
        {
            const string sql = """
                SELECT pid, datname, usename, application_name, client_addr::text, state, backend_type,
                       wait_event_type, wait_event, query_start,
                       CASE WHEN state IS DISTINCT FROM 'idle' THEN clock_timestamp() - query_start END,
                       clock_timestamp() - xact_start, query, pg_blocking_pids(pid)
                FROM pg_stat_activity
                WHERE pid <> pg_backend_pid()
                  AND application_name IS DISTINCT FROM @own
                  AND (@states::text[] IS NULL OR state = ANY(@states))
                  AND (@min::interval IS NULL OR (state IS DISTINCT FROM 'idle' AND clock_timestamp() - query_start >= @min))
                  AND (@db::text IS NULL OR datname = @db)
                  AND (@background OR backend_type = 'client backend'
                       -- another role's session as a login outside pg_read_all_stats: PostgreSQL hides even its type,
                       -- so it is listed (marked) rather than silently left out
                       OR (backend_type IS NULL AND query = '<insufficient privilege>'))
                ORDER BY query_start NULLS LAST, pid
                """;
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.AddWithValue("own", session.ApplicationName);
            cmd.Parameters.Add(new NpgsqlParameter("states", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)filter.States?.ToArray() ?? DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter("min", NpgsqlDbType.Interval) { Value = (object?)filter.MinDuration ?? DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter("db", NpgsqlDbType.Text) { Value = (object?)filter.Database ?? DBNull.Value });
            cmd.Parameters.AddWithValue("background", filter.IncludeBackground);
            var list = new List<DatabaseActivity>();
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(new DatabaseActivity
                {
                    Environment = session.Environment,
                    Target = session.Target,
                    Pid = r.GetInt32(0),
                    Database = Text(r, 1),
                    User = Text(r, 2),
                    Application = Text(r, 3),
                    Client = Text(r, 4),
                    State = Text(r, 5),
                    BackendType = Text(r, 6),
                    WaitEventType = Text(r, 7),
                    WaitEvent = Text(r, 8),
                    QueryStart = r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
                    Duration = r.IsDBNull(10) ? null : r.GetTimeSpan(10),
                    TransactionDuration = r.IsDBNull(11) ? null : r.GetTimeSpan(11),
                    Query = Preview(Text(r, 12), filter.FullQuery),
                    BlockedBy = r.GetFieldValue<int[]>(13),
                    MissingPrivilege = Hidden(Text(r, 12)) ? StatsPrivilegeMissing(session) : null,
                });
            }
            return list;
        }, ct);

    /// <summary>Top statements from pg_stat_statements (column names of the server's version).</summary>
    public static Task<IReadOnlyList<DatabaseSlowQuery>> GetSlowQueriesAsync(DatabaseSession session, int top, SlowQueryOrder order, bool fullQuery, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<DatabaseSlowQuery>>(async c =>
        {
            await RequirePgStatStatementsAsync(c, ct).ConfigureAwait(false);
            // PostgreSQL 13 renamed the columns (mean_time -> mean_exec_time); the runbooks use both.
            var v13 = session.ServerVersionNum >= 130000;
            var (mean, total, max) = v13 ? ("mean_exec_time", "total_exec_time", "max_exec_time") : ("mean_time", "total_time", "max_time");
            var orderBy = order switch { SlowQueryOrder.Total => total, SlowQueryOrder.Calls => "calls", SlowQueryOrder.Max => max, _ => mean };
            var sql = $"""
                SELECT s.queryid, s.query, s.calls, s.{mean}, s.{total}, s.{max}, s.rows,
                       coalesce(100.0 * s.{total} / nullif(sum(s.{total}) OVER (), 0), 0), r.rolname
                FROM pg_stat_statements s LEFT JOIN pg_roles r ON r.oid = s.userid
                WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                ORDER BY s.{orderBy} DESC
                LIMIT @top
                """;
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.AddWithValue("top", top);
            var list = new List<DatabaseSlowQuery>();
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(new DatabaseSlowQuery
                {
                    Environment = session.Environment,
                    Target = session.Target,
                    QueryId = r.IsDBNull(0) ? null : r.GetInt64(0),
                    Query = Preview(Text(r, 1), fullQuery) ?? "",
                    MissingPrivilege = Hidden(Text(r, 1)) ? StatsPrivilegeMissing(session) : null,
                    Calls = r.GetInt64(2),
                    MeanMs = Math.Round(r.GetDouble(3), 3),
                    TotalMs = Math.Round(r.GetDouble(4), 3),
                    MaxMs = Math.Round(r.GetDouble(5), 3),
                    Rows = r.GetInt64(6),
                    PercentOfTotal = Math.Round(Convert.ToDouble(r.GetValue(7), System.Globalization.CultureInfo.InvariantCulture), 2),
                    User = Text(r, 8),
                });
            }
            return list;
        }, ct);

    private static async Task RequirePgStatStatementsAsync(NpgsqlConnection c, CancellationToken ct)
    {
        // pg_settings hides rows a role may not read (shared_preload_libraries needs pg_read_all_settings) instead of failing.
        await using var cmd = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'), " +
            "(SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'), current_database()", c);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await r.ReadAsync(ct).ConfigureAwait(false);
        if (r.GetBoolean(0)) return;
        var database = r.GetString(2);
        bool? preloaded = r.IsDBNull(1) ? null : r.GetString(1).Split(',').Select(x => x.Trim()).Contains("pg_stat_statements");
        var install = $"run CREATE EXTENSION pg_stat_statements; in database {database} (as a superuser or the database owner)";
        var preload = "add it to shared_preload_libraries in postgresql.conf (shared_preload_libraries = 'pg_stat_statements') and restart PostgreSQL";
        throw new DatabaseFeatureMissingException(preloaded switch
        {
            true => $"pg_stat_statements is loaded but not installed: {install}",
            false => $"pg_stat_statements is not enabled: {preload}, then {install}",
            null => $"pg_stat_statements is not installed in database {database}: {install}; if the server does not load it yet, {preload} first",
        });
    }

    /// <summary>Blocked/blocking pairs (pg_blocking_pids), longest wait first.</summary>
    public static Task<IReadOnlyList<DatabaseLock>> GetLocksAsync(DatabaseSession session, bool fullQuery, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<DatabaseLock>>(async c =>
        {
            const string sql = """
                SELECT blocked.pid, blocked.usename, blocked.query, clock_timestamp() - blocked.query_start,
                       blocking.pid, blocking.usename, blocking.query, blocking.state, clock_timestamp() - blocking.xact_start
                FROM pg_stat_activity blocked
                JOIN LATERAL unnest(pg_blocking_pids(blocked.pid)) AS b(pid) ON true
                JOIN pg_stat_activity blocking ON blocking.pid = b.pid
                ORDER BY 4 DESC NULLS LAST, blocked.pid, blocking.pid
                """;
            await using var cmd = new NpgsqlCommand(sql, c);
            var list = new List<DatabaseLock>();
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(new DatabaseLock
                {
                    Environment = session.Environment,
                    Target = session.Target,
                    BlockedPid = r.GetInt32(0),
                    BlockedUser = Text(r, 1),
                    BlockedQuery = Preview(Text(r, 2), fullQuery),
                    BlockedFor = r.IsDBNull(3) ? null : r.GetTimeSpan(3),
                    BlockingPid = r.GetInt32(4),
                    BlockingUser = Text(r, 5),
                    BlockingQuery = Preview(Text(r, 6), fullQuery),
                    BlockingState = Text(r, 7),
                    BlockingTransactionDuration = r.IsDBNull(8) ? null : r.GetTimeSpan(8),
                    MissingPrivilege = Hidden(Text(r, 2)) || Hidden(Text(r, 6)) ? StatsPrivilegeMissing(session) : null,
                });
            }
            return list;
        }, ct);

    /// <summary>Tables (and materialized views) by total size, largest first.</summary>
    public static Task<IReadOnlyList<DatabaseTableSize>> GetTableSizesAsync(DatabaseSession session, string? schema, int top, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<DatabaseTableSize>>(async c =>
        {
            const string sql = """
                SELECT n.nspname, c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid), pg_indexes_size(c.oid),
                       coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0), coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0),
                       greatest(s.last_vacuum, s.last_autovacuum), greatest(s.last_analyze, s.last_autoanalyze)
                FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
                WHERE c.relkind IN ('r', 'p', 'm')
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
                  AND (@schema::text IS NULL OR n.nspname = @schema)
                ORDER BY 3 DESC, 1, 2
                LIMIT @top
                """;
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.Add(new NpgsqlParameter("schema", NpgsqlDbType.Text) { Value = (object?)schema ?? DBNull.Value });
            cmd.Parameters.AddWithValue("top", top);
            var list = new List<DatabaseTableSize>();
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                list.Add(new DatabaseTableSize
                {
                    Environment = session.Environment,
                    Target = session.Target,
                    Schema = r.GetString(0),
                    Table = r.GetString(1),
                    TotalBytes = r.GetInt64(2),
                    TableBytes = r.GetInt64(3),
                    IndexBytes = r.GetInt64(4),
                    ToastBytes = r.GetInt64(5),
                    LiveRows = r.GetInt64(6),
                    DeadRows = r.GetInt64(7),
                    LastVacuum = r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8),
                    LastAnalyze = r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
                });
            }
            return list;
        }, ct);

    /// <summary>Indexes by use: Unused (never scanned, not unique), RarelyUsed (fewer than <paramref name="rarelyUsedBelow"/> scans), Used, Constraint.</summary>
    public static Task<IReadOnlyList<DatabaseIndexUsage>> GetIndexUsageAsync(DatabaseSession session, long rarelyUsedBelow, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<DatabaseIndexUsage>>(async c =>
        {
            const string sql = """
                SELECT s.schemaname, s.relname, s.indexrelname, s.idx_scan, pg_relation_size(s.indexrelid),
                       i.indisunique OR i.indisprimary OR i.indisexclusion, pg_get_indexdef(s.indexrelid)
                FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
                ORDER BY s.idx_scan, pg_relation_size(s.indexrelid) DESC, 1, 2, 3
                """;
            await using var cmd = new NpgsqlCommand(sql, c);
            var list = new List<DatabaseIndexUsage>();
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                var scans = r.GetInt64(3);
                var unique = r.GetBoolean(5);
                list.Add(new DatabaseIndexUsage
                {
                    Environment = session.Environment,
                    Target = session.Target,
                    Schema = r.GetString(0),
                    Table = r.GetString(1),
                    Index = r.GetString(2),
                    Scans = scans,
                    SizeBytes = r.GetInt64(4),
                    IsUnique = unique,
                    Usage = unique ? "Constraint" : scans == 0 ? "Unused" : scans < rarelyUsedBelow ? "RarelyUsed" : "Used",
                    Definition = Text(r, 6),
                });
            }
            return list;
        }, ct);

    /// <summary>
    /// Missing-index hints: the runbooks' pg_stats heuristic (n_distinct &gt; 100 and |correlation| &lt; 0.1, for columns no
    /// index leads with), and tables read mostly by sequential scans (more seq than index scans, at least <paramref name="minRows"/> rows).
    /// </summary>
    public static Task<IReadOnlyList<DatabaseIndexAdvice>> GetIndexAdviceAsync(DatabaseSession session, string schema, long minRows, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<DatabaseIndexAdvice>>(async c =>
        {
            const string columns = """
                SELECT s.schemaname, s.tablename, s.attname,
                       CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * greatest(cl.reltuples, 0) ELSE s.n_distinct END, s.correlation
                FROM pg_stats s
                JOIN pg_namespace n ON n.nspname = s.schemaname
                JOIN pg_class cl ON cl.relnamespace = n.oid AND cl.relname = s.tablename
                JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attname = s.attname
                WHERE s.schemaname = @schema
                  AND (CASE WHEN s.n_distinct < 0 THEN -s.n_distinct * greatest(cl.reltuples, 0) ELSE s.n_distinct END) > 100
                  AND abs(coalesce(s.correlation, 0)) < 0.1
                  AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = cl.oid AND i.indkey[0] = a.attnum)
                ORDER BY 1, 2, 3
                """;
            const string scans = """
                SELECT schemaname, relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), n_live_tup
                FROM pg_stat_user_tables
                WHERE schemaname = @schema AND seq_scan > coalesce(idx_scan, 0) AND n_live_tup >= @minRows AND seq_tup_read > 0
                ORDER BY seq_tup_read DESC
                """;
            var list = new List<DatabaseIndexAdvice>();
            await using (var cmd = new NpgsqlCommand(columns, c))
            {
                cmd.Parameters.AddWithValue("schema", schema);
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    var (s, t, col) = (r.GetString(0), r.GetString(1), r.GetString(2));
                    var distinct = Convert.ToDouble(r.GetValue(3), System.Globalization.CultureInfo.InvariantCulture);
                    double? correlation = r.IsDBNull(4) ? null : r.GetFloat(4);
                    list.Add(new DatabaseIndexAdvice
                    {
                        Environment = session.Environment,
                        Target = session.Target,
                        Schema = s,
                        Table = t,
                        Column = col,
                        Kind = "ColumnStatistics",
                        Distinct = Math.Round(distinct),
                        Correlation = correlation,
                        Reason = $"{Math.Round(distinct)} distinct values, correlation {correlation:0.###}, and no index starts with {col}",
                        Suggestion = $"CREATE INDEX CONCURRENTLY ON {Identifier.Quote(s)}.{Identifier.Quote(t)} ({Identifier.Quote(col)});",
                    });
                }
            }
            await using (var cmd = new NpgsqlCommand(scans, c))
            {
                cmd.Parameters.AddWithValue("schema", schema);
                cmd.Parameters.AddWithValue("minRows", minRows);
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    list.Add(new DatabaseIndexAdvice
                    {
                        Environment = session.Environment,
                        Target = session.Target,
                        Schema = r.GetString(0),
                        Table = r.GetString(1),
                        Kind = "SequentialScans",
                        SequentialScans = r.GetInt64(2),
                        SequentialRowsRead = r.GetInt64(3),
                        Reason = $"{r.GetInt64(2)} sequential scans read {r.GetInt64(3)} rows, against {r.GetInt64(4)} index scans, on {r.GetInt64(5)} live rows",
                    });
                }
            }
            return list;
        }, ct);

    /// <summary>Connections against max_connections, by state, with the thresholds of <paramref name="profile"/> (runbook 003 by default).</summary>
    public static Task<DatabaseConnectionUsage> GetConnectionUsageAsync(DatabaseSession session, ThresholdProfile? profile, CancellationToken ct) =>
        session.ReadAsync(async c =>
        {
            const string sql = """
                SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,
                       coalesce((SELECT setting::int FROM pg_settings WHERE name = 'reserved_connections'), 0),
                       coalesce((SELECT json_object_agg(coalesce(state, 'unknown'), n)
                                 FROM (SELECT state, count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY state) x), '{}')::text,
                       -- for a login outside pg_read_all_stats, which pg_stat_activity hides other roles' sessions from:
                       -- every backend connected to a database, which pg_stat_database shows to any login
                       CASE WHEN pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') THEN NULL
                            ELSE (SELECT coalesce(sum(numbackends), 0) FROM pg_stat_database)::int END
                """;
            await using var cmd = new NpgsqlCommand(sql, c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            var max = r.GetInt32(0);
            var reserved = r.GetInt32(1) + r.GetInt32(2);
            var byState = JsonSerializer.Deserialize<Dictionary<string, int>>(r.GetString(3)) ?? [];
            // Connections pg_stat_activity did not show this login are counted, with their state unknown.
            var hidden = r.IsDBNull(4) ? 0 : r.GetInt32(4) - byState.Values.Sum();
            if (hidden > 0) byState["unknown"] = byState.GetValueOrDefault("unknown") + hidden;
            var total = byState.Values.Sum();
            var percent = Math.Round(total * 100.0 / Math.Max(1, max - reserved), 1);
            var rule = (profile ?? ThresholdProfile.Defaults).RuleFor(WellKnownMetrics.DbConnectionUsagePercent) ?? ThresholdProfile.CardMint.RuleFor(WellKnownMetrics.DbConnectionUsagePercent)!;
            return new DatabaseConnectionUsage
            {
                Environment = session.Environment,
                Target = session.Target,
                MaxConnections = max,
                Reserved = reserved,
                Total = total,
                ByState = byState,
                PercentUsed = percent,
                Severity = rule.Classify(percent).ToString(),
                Threshold = rule.Describe(),
                // Other roles' client connections show no state to a login outside pg_read_all_stats: counted, unknown.
                MissingPrivilege = hidden > 0 ? StatsPrivilegeMissing(session) : null,
            };
        }, ct);

    /// <summary>The server's replication role and state, with the lag thresholds of <paramref name="profile"/> (runbook 003 by default).</summary>
    public static Task<DatabaseReplication> GetReplicationAsync(DatabaseSession session, ThresholdProfile? profile, CancellationToken ct) =>
        session.ReadAsync(async c =>
        {
            var rule = (profile ?? ThresholdProfile.Defaults).RuleFor(WellKnownMetrics.ReplicaLagSeconds) ?? ThresholdProfile.CardMint.RuleFor(WellKnownMetrics.ReplicaLagSeconds)!;
            bool inRecovery;
            await using (var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", c))
            {
                inRecovery = (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }
            if (inRecovery)
            {
                const string sql = """
                    SELECT (SELECT status FROM pg_stat_wal_receiver),
                           CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                                ELSE coalesce(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0) END::float8,
                           coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8
                    """;
                await using var cmd = new NpgsqlCommand(sql, c);
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await r.ReadAsync(ct).ConfigureAwait(false);
                var delay = Math.Round(r.GetDouble(1), 3);
                var receiver = Text(r, 0);
                return new DatabaseReplication
                {
                    Environment = session.Environment,
                    Target = session.Target,
                    Role = "replica",
                    ReceiverStatus = receiver ?? "not running",
                    ReplayDelaySeconds = delay,
                    ReplayLagBytes = r.GetDouble(2),
                    Severity = receiver == "streaming" ? rule.Classify(delay).ToString() : AlertSeverity.Critical.ToString(),
                };
            }
            const string replicas = """
                SELECT application_name, client_addr::text, state, sync_state,
                       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8,
                       EXTRACT(EPOCH FROM write_lag)::float8, EXTRACT(EPOCH FROM flush_lag)::float8, EXTRACT(EPOCH FROM replay_lag)::float8
                FROM pg_stat_replication ORDER BY application_name, client_addr
                """;
            var list = new List<ReplicaState>();
            await using (var cmd = new NpgsqlCommand(replicas, c))
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    double? D(int i) => r.IsDBNull(i) ? null : Math.Round(r.GetDouble(i), 3);
                    list.Add(new ReplicaState(Text(r, 0), Text(r, 1), Text(r, 2), Text(r, 3), D(4), D(5), D(6), D(7) ?? 0));
                }
            }
            // PostgreSQL shows other roles' replication sessions only to members of pg_read_all_stats (pg_monitor has
            // it): without it every column but the pid is NULL, which must not read as "no state, no lag".
            bool canSee;
            await using (var cmd = new NpgsqlCommand("SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')", c))
            {
                canSee = (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }
            var hidden = !canSee && list.Any(x => x.State is null);
            var worst = list.Count == 0 ? 0 : list.Max(x => x.ReplayLagSeconds ?? 0);
            return new DatabaseReplication
            {
                Environment = session.Environment,
                Target = session.Target,
                Role = "primary",
                Replicas = list,
                Severity = hidden ? "Unknown" : rule.Classify(worst).ToString(),
                MissingPrivilege = hidden ? StatsPrivilegeMissing(session) : null,
            };
        }, ct);

    /// <summary>What PostgreSQL shows instead of another role's query to a login without pg_read_all_stats.</summary>
    private const string HiddenQuery = "<insufficient privilege>";

    private static bool Hidden(string? query) => string.Equals(query, HiddenQuery, StringComparison.Ordinal);

    /// <summary>The one message for statistics PostgreSQL hides from a login outside pg_read_all_stats.</summary>
    private static string StatsPrivilegeMissing(DatabaseSession session) =>
        $"the login of {session.Target} is not a member of pg_read_all_stats (or pg_monitor), so PostgreSQL hides other roles' queries, states, clients and lag from it: GRANT pg_monitor TO <that role>";

    /// <summary>The monthly security audit (runbooks 001/003): every role, and what PUBLIC may do in schema public.</summary>
    public static Task<(IReadOnlyList<DatabaseRoleAudit> roles, DatabasePublicSchemaAudit publicSchema)> GetRoleAuditAsync(DatabaseSession session, DateTimeOffset now, CancellationToken ct) =>
        session.ReadAsync<(IReadOnlyList<DatabaseRoleAudit>, DatabasePublicSchemaAudit)>(async c =>
        {
            const string sql = """
                SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
                       CASE WHEN r.rolvaliduntil = 'infinity' THEN NULL ELSE r.rolvaliduntil END,
                       ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                             WHERE m.member = r.oid AND (g.rolname = ANY(@privileged) OR g.rolsuper) ORDER BY g.rolname)
                FROM pg_roles r
                WHERE r.rolname !~ '^pg_'
                ORDER BY r.rolname
                """;
            var roles = new List<DatabaseRoleAudit>();
            await using (var cmd = new NpgsqlCommand(sql, c))
            {
                cmd.Parameters.AddWithValue("privileged", PrivilegedRoles.ToArray());
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    var login = r.GetBoolean(1);
                    var superuser = r.GetBoolean(2);
                    DateTimeOffset? until = r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7);
                    var memberships = r.GetFieldValue<string[]>(8);
                    var expiry = until is null ? "None" : until < now ? "Expired" : "Valid";
                    var findings = new List<string>();
                    if (superuser && login) findings.Add("superuser that can log in");
                    if (r.GetBoolean(3) && !superuser) findings.Add("CREATEROLE: can create and alter roles");
                    if (r.GetBoolean(6) && !superuser) findings.Add("BYPASSRLS: ignores row-level security");
                    if (r.GetBoolean(5) && login && !superuser) findings.Add("REPLICATION: can stream the whole cluster");
                    if (login && expiry == "Expired") findings.Add($"password expired on {until:yyyy-MM-dd}");
                    if (login && expiry == "None" && !superuser) findings.Add("password never expires (no VALID UNTIL)");
                    if (memberships.Length > 0) findings.Add("member of " + string.Join(", ", memberships));
                    roles.Add(new DatabaseRoleAudit
                    {
                        Environment = session.Environment,
                        Target = session.Target,
                        Role = r.GetString(0),
                        CanLogin = login,
                        Superuser = superuser,
                        CreateRole = r.GetBoolean(3),
                        CreateDatabase = r.GetBoolean(4),
                        Replication = r.GetBoolean(5),
                        BypassRowSecurity = r.GetBoolean(6),
                        PasswordValidUntil = until,
                        PasswordExpiry = expiry,
                        PrivilegedMemberships = memberships,
                        Findings = findings,
                    });
                }
            }
            bool create, usage;
            await using (var cmd = new NpgsqlCommand("SELECT has_schema_privilege('public', 'public', 'CREATE'), has_schema_privilege('public', 'public', 'USAGE')", c))
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await r.ReadAsync(ct).ConfigureAwait(false);
                create = r.GetBoolean(0);
                usage = r.GetBoolean(1);
            }
            var publicSchema = new DatabasePublicSchemaAudit
            {
                Environment = session.Environment,
                Target = session.Target,
                PublicCanCreate = create,
                PublicCanUse = usage,
                Findings = create ? new string[] { "every role may create objects in schema public: REVOKE CREATE ON SCHEMA public FROM PUBLIC;" } : [],
            };
            return (roles, publicSchema);
        }, ct);

    internal static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetValue(i).ToString();

    /// <summary>A query as the module shows it: secrets masked (<see cref="SqlSecrets"/>), then cut unless <paramref name="full"/>.</summary>
    internal static string? Preview(string? query, bool full)
    {
        query = SqlSecrets.Scrub(query);
        return query is null || full || query.Length <= QueryPreviewLength ? query : query[..QueryPreviewLength] + "…";
    }
}
