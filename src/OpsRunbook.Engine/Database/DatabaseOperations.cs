using Npgsql;
using NpgsqlTypes;
using OpsRunbook.Engine.Clients.Postgres;

namespace OpsRunbook.Engine.Database;

/// <summary>A backend Stop-DatabaseQuery may stop, found by the read-only plan.</summary>
public sealed record QueryStopCandidate(int Pid, string? User, string? BackendType, string? State, TimeSpan? Duration, string? Query, bool Found, string? SkipReason);

/// <summary>One table (or the whole database) to maintain, found by the read-only plan.</summary>
public sealed record MaintenanceItem(string Object, string? Schema, string? Table, long? SizeBytes);

/// <summary>Maintenance operations (flags).</summary>
[Flags]
public enum MaintenanceOperation
{
    /// <summary>Nothing.</summary>
    None = 0,
    /// <summary>ANALYZE.</summary>
    Analyze = 1,
    /// <summary>VACUUM (with ANALYZE when both are asked).</summary>
    Vacuum = 2,
    /// <summary>VACUUM FULL: rewrites the table under an ACCESS EXCLUSIVE lock.</summary>
    VacuumFull = 4,
    /// <summary>REINDEX, CONCURRENTLY where the server allows (PostgreSQL 12+).</summary>
    Reindex = 8,
}

/// <summary>
/// Mutating database procedures, each split in two: a read-only plan (which backends, which tables — what -WhatIf shows)
/// and an act per item that the cmdlet calls only after ShouldProcess. Identifiers come from the catalog and are quoted;
/// values are parameters.
/// </summary>
public static class DatabaseOperations
{
    private static readonly HashSet<string> ProtectedBackends = new(StringComparer.Ordinal)
    {
        "walsender", "autovacuum worker", "autovacuum launcher", "logical replication launcher", "logical replication worker",
        "background writer", "checkpointer", "walwriter", "startup", "archiver", "walreceiver",
    };

    /// <summary>
    /// The backends to stop: the named <paramref name="pids"/>, or active queries running longer than <paramref name="olderThan"/>.
    /// This session's own connections are never candidates; replication senders, autovacuum and other system processes
    /// only when named explicitly by pid.
    /// </summary>
    public static Task<IReadOnlyList<QueryStopCandidate>> PlanStopAsync(DatabaseSession session, IReadOnlyCollection<int>? pids, TimeSpan? olderThan, IReadOnlyList<string>? states, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<QueryStopCandidate>>(async c =>
        {
            if ((pids is null || pids.Count == 0) && olderThan is null)
            {
                throw new ArgumentException("name the backends to stop: -Pid, pipeline input from Get-DatabaseActivity or Get-DatabaseLock, or -OlderThan");
            }
            const string sql = """
                SELECT pid, usename, backend_type, state, clock_timestamp() - query_start, query,
                       pid = pg_backend_pid() OR application_name IS NOT DISTINCT FROM @own
                FROM pg_stat_activity
                WHERE (@pids::int[] IS NOT NULL AND pid = ANY(@pids))
                   OR (@older::interval IS NOT NULL AND state = ANY(coalesce(@states, ARRAY['active'])) AND clock_timestamp() - query_start >= @older)
                ORDER BY pid
                """;
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.AddWithValue("own", session.ApplicationName);
            cmd.Parameters.Add(new NpgsqlParameter("pids", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = pids is { Count: > 0 } ? pids.ToArray() : DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter("older", NpgsqlDbType.Interval) { Value = (object?)olderThan ?? DBNull.Value });
            cmd.Parameters.Add(new NpgsqlParameter("states", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)states?.ToArray() ?? DBNull.Value });
            var found = new List<QueryStopCandidate>();
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    var pid = r.GetInt32(0);
                    var backendType = DatabaseDiagnostics.Text(r, 2);
                    var explicitly = pids?.Contains(pid) == true;
                    string? skip = r.GetBoolean(6)
                        ? "OpsRunbook's own connection"
                        : backendType is not null && ProtectedBackends.Contains(backendType) && !explicitly
                            ? $"{backendType} (system process; name its pid to stop it)"
                            : null;
                    found.Add(new QueryStopCandidate(pid, DatabaseDiagnostics.Text(r, 1), backendType, DatabaseDiagnostics.Text(r, 3),
                        r.IsDBNull(4) ? null : r.GetTimeSpan(4), DatabaseDiagnostics.Preview(DatabaseDiagnostics.Text(r, 5), false), true, skip));
                }
            }
            foreach (var missing in (pids ?? []).Where(p => found.All(f => f.Pid != p)).Distinct())
            {
                found.Add(new QueryStopCandidate(missing, null, null, null, null, null, false, "no such backend (it may have ended)"));
            }
            return found;
        }, ct);

    /// <summary>Cancels (pg_cancel_backend) or terminates (pg_terminate_backend) one planned backend.</summary>
    public static async Task<QueryStopResult> StopAsync(DatabaseSession session, QueryStopCandidate candidate, bool terminate, CancellationToken ct)
    {
        var action = terminate ? "Terminate" : "Cancel";
        QueryStopResult Result(string outcome, string reason) => new()
        {
            Environment = session.Environment,
            Target = session.Target,
            Pid = candidate.Pid,
            Action = action,
            Outcome = outcome,
            Reason = reason,
            User = candidate.User,
            Duration = candidate.Duration,
            Query = candidate.Query,
        };
        if (!candidate.Found) return Result("NotFound", candidate.SkipReason!);
        if (candidate.SkipReason is not null) return Result("Skipped", candidate.SkipReason);
        try
        {
            var signalled = await session.WriteAsync(async c =>
            {
                await using var cmd = new NpgsqlCommand(terminate ? "SELECT pg_terminate_backend(@pid)" : "SELECT pg_cancel_backend(@pid)", c);
                cmd.Parameters.AddWithValue("pid", candidate.Pid);
                return (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            return signalled
                ? Result("Stopped", terminate ? "terminated: the connection was closed" : "cancelled: the running query was stopped, the connection stays")
                : Result("NotFound", "the backend had already ended");
        }
        catch (PostgresException ex) when (ex.SqlState == "42501")
        {
            return Result("Failed", $"permission denied: {ex.MessageText} (stopping other roles' queries needs pg_signal_backend; a superuser's only a superuser)");
        }
    }

    /// <summary>
    /// The tables to maintain: each name in <paramref name="tables"/> (table, schema.table, "Quoted"."Names"), resolved in
    /// the catalog; none means the whole database.
    /// </summary>
    public static Task<IReadOnlyList<MaintenanceItem>> PlanMaintenanceAsync(DatabaseSession session, IReadOnlyList<string>? tables, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<MaintenanceItem>>(async c =>
        {
            if (tables is null || tables.Count == 0)
            {
                await using var db = new NpgsqlCommand("SELECT current_database(), pg_database_size(current_database())", c);
                await using var r = await db.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await r.ReadAsync(ct).ConfigureAwait(false);
                return new MaintenanceItem[] { new MaintenanceItem(r.GetString(0), null, null, r.GetInt64(1)) };
            }
            var items = new List<MaintenanceItem>();
            foreach (var name in tables)
            {
                var (schema, table) = Identifier.ParseQualified(name);
                const string sql = """
                    SELECT n.nspname, c.relname, pg_total_relation_size(c.oid)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relkind IN ('r', 'p', 'm') AND c.relname = @table
                      AND (n.nspname = @schema OR (@schema::text IS NULL AND n.nspname = ANY(current_schemas(false))))
                    ORDER BY array_position(current_schemas(false), n.nspname::name) NULLS LAST
                    LIMIT 1
                    """;
                await using var cmd = new NpgsqlCommand(sql, c);
                cmd.Parameters.AddWithValue("table", table);
                cmd.Parameters.Add(new NpgsqlParameter("schema", NpgsqlDbType.Text) { Value = (object?)schema ?? DBNull.Value });
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                if (!await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    throw new ArgumentException($"there is no table {name} in {session.Display} (schemas on the search path: give schema.table otherwise)");
                }
                var (s, t) = (r.GetString(0), r.GetString(1));
                items.Add(new MaintenanceItem($"{Identifier.Quote(s)}.{Identifier.Quote(t)}", s, t, r.GetInt64(2)));
            }
            return items;
        }, ct);

    /// <summary>The statement one operation sends for one item (built from quoted catalog names only).</summary>
    public static string Statement(MaintenanceItem item, MaintenanceOperation operation, int serverVersionNum, bool analyzeToo)
    {
        var database = item.Table is null;
        var concurrently = serverVersionNum >= 120000 ? " CONCURRENTLY" : "";
        return operation switch
        {
            MaintenanceOperation.Analyze => database ? "ANALYZE" : $"ANALYZE {item.Object}",
            MaintenanceOperation.Vacuum => (analyzeToo ? "VACUUM (ANALYZE)" : "VACUUM") + (database ? "" : " " + item.Object),
            MaintenanceOperation.VacuumFull => (analyzeToo ? "VACUUM (FULL, ANALYZE)" : "VACUUM (FULL)") + (database ? "" : " " + item.Object),
            MaintenanceOperation.Reindex => database ? $"REINDEX DATABASE{concurrently} {Identifier.Quote(item.Object)}" : $"REINDEX TABLE{concurrently} {item.Object}",
            _ => throw new ArgumentException("one operation at a time"),
        };
    }

    /// <summary>Runs one operation on one item, outside a transaction (as VACUUM and REINDEX CONCURRENTLY require), measuring size before and after.</summary>
    public static async Task<MaintenanceResult> RunMaintenanceAsync(DatabaseSession session, MaintenanceItem item, MaintenanceOperation operation, bool analyzeToo, TimeSpan timeout, CancellationToken ct)
    {
        var sql = Statement(item, operation, session.ServerVersionNum, analyzeToo);
        var name = sql.Split(' ')[0] + (operation == MaintenanceOperation.VacuumFull ? " FULL" : operation == MaintenanceOperation.Reindex && sql.Contains("CONCURRENTLY", StringComparison.Ordinal) ? " CONCURRENTLY" : "");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var after = await session.AutocommitAsync(async c =>
            {
                await DatabaseSession.ExecAsync(c, sql, ct).ConfigureAwait(false);
                var sizeSql = item.Table is null ? "SELECT pg_database_size(current_database())" : "SELECT pg_total_relation_size(@oid::regclass)";
                await using var size = new NpgsqlCommand(sizeSql, c);
                if (item.Table is not null) size.Parameters.AddWithValue("oid", item.Object);
                return (long)(await size.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }, timeout, ct).ConfigureAwait(false);
            return new MaintenanceResult
            {
                Environment = session.Environment, Target = session.Target, Object = item.Object, Operation = name, Outcome = "Succeeded",
                Duration = sw.Elapsed, SizeBeforeBytes = item.SizeBytes, SizeAfterBytes = after,
            };
        }
        catch (PostgresException ex)
        {
            return new MaintenanceResult
            {
                Environment = session.Environment, Target = session.Target, Object = item.Object, Operation = name, Outcome = "Failed",
                Duration = sw.Elapsed, SizeBeforeBytes = item.SizeBytes, Error = $"{ex.MessageText} ({ex.SqlState})",
            };
        }
    }
}
