using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Database;

/// <summary>What a failover drill would do, and whether it may: read from both servers, nothing changed.</summary>
public sealed class FailoverPlan
{
    /// <summary>The primary (host:port/database).</summary>
    public required string Primary { get; init; }
    /// <summary>The replica to promote.</summary>
    public required string Replica { get; init; }
    /// <summary>WAL the replica has not replayed yet, in bytes, when the plan was made.</summary>
    public long? LagBytes { get; init; }
    /// <summary>The steps, in order, in words.</summary>
    public IReadOnlyList<string> Steps { get; init; } = [];
    /// <summary>Why the drill must not run (null: it may).</summary>
    public string? Refusal { get; init; }
    /// <summary>How the primary is taken away: "pg_promote" (fence the primary, promote the replica) or "fly machine kill" (kill the primary machine, the cluster's manager promotes).</summary>
    public string Method { get; init; } = "pg_promote";
    /// <summary>The database whose sessions are fenced.</summary>
    internal string Database { get; init; } = "";
    /// <summary>Fly: the cluster's app and the primary machine to kill.</summary>
    internal (string App, FlyPostgresMember Primary)? Fly { get; init; }
}

/// <summary>One step of a drill, when it ended and how.</summary>
public sealed record FailoverStep(string Step, DateTimeOffset At, TimeSpan Elapsed, bool Succeeded, string Detail);

/// <summary>
/// A failover drill's account (runbook 003's monthly drill, "document results and recovery time"): each step with its
/// time, the recovery time from the moment writes stopped to the moment the promoted replica took a write, against
/// the target, the WAL that did not reach the replica (0 when nothing was lost), and the health checks run after.
/// </summary>
public sealed class FailoverDrillResult : DatabaseResult, IReportable
{
    /// <summary>The old primary.</summary>
    public required string OldPrimary { get; init; }
    /// <summary>The promoted replica, the primary now.</summary>
    public required string NewPrimary { get; init; }
    /// <summary>When writes stopped (the old primary was fenced).</summary>
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>From writes stopped to the new primary taking a write; null when it never did.</summary>
    public TimeSpan? RecoveryTime { get; init; }
    /// <summary>The recovery time the runbook commits to.</summary>
    public TimeSpan RecoveryTarget { get; init; }
    /// <summary>Where the target came from (the environment's rto, -RecoveryTarget, the default).</summary>
    public string? RecoveryTargetSource { get; init; }
    /// <summary>Bytes of WAL the old primary had written that the replica had not replayed when it was promoted (Fly: written before the kill).</summary>
    public long DataLossBytes { get; init; }
    /// <summary>The steps as they happened.</summary>
    public IReadOnlyList<FailoverStep> Steps { get; init; } = [];
    /// <summary>The health checks run after the promotion.</summary>
    public IReadOnlyList<HealthCheckResult> HealthChecks { get; init; } = [];
    /// <summary>What to do next (point the application at the new primary, rebuild the old one as a replica).</summary>
    public IReadOnlyList<string> NextSteps { get; init; } = [];

    /// <summary>Whether the recovery time is within the target.</summary>
    public bool MetTarget => RecoveryTime is { } t && t <= RecoveryTarget;

    /// <summary>Healthy: promoted within the target, nothing lost, every check healthy; Degraded: promoted, but slower than the target, with loss, or a check not healthy; Unhealthy: no primary took a write.</summary>
    public HealthStatus Status => RecoveryTime is null || Steps.Any(s => !s.Succeeded) ? HealthStatus.Unhealthy
        : !MetTarget || DataLossBytes > 0 || HealthChecks.Any(h => h.Status != HealthStatus.Healthy) ? HealthStatus.Degraded : HealthStatus.Healthy;

    /// <summary>Why, in words.</summary>
    public string Reason
    {
        get
        {
            if (Steps.FirstOrDefault(s => !s.Succeeded) is { } failed) return $"{failed.Step} failed: {failed.Detail}";
            var parts = new List<string> { $"recovered in {Seconds(RecoveryTime!.Value)} (target {Seconds(RecoveryTarget)}{(MetTarget ? "" : ": missed")})" };
            parts.Add(DataLossBytes == 0 ? "no WAL lost" : $"{DataLossBytes} bytes of WAL did not reach the replica");
            var unhealthy = HealthChecks.Where(h => h.Status != HealthStatus.Healthy).Select(h => $"{h.Name} {h.Status}").ToList();
            parts.Add(HealthChecks.Count == 0 ? "no health checks" : unhealthy.Count == 0 ? $"{HealthChecks.Count} health checks healthy" : $"not healthy: {string.Join(", ", unhealthy)}");
            return string.Join("; ", parts);
        }
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds < 120 ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0} s") : string.Create(CultureInfo.InvariantCulture, $"{t.TotalMinutes:0.0} min");

    /// <inheritdoc />
    public override string ToString() => $"Failover {OldPrimary} -> {NewPrimary}: {Status} ({Reason})";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Status switch { HealthStatus.Unhealthy => ReportOutcome.Fail, HealthStatus.Degraded => ReportOutcome.Warn, _ => ReportOutcome.Pass };
        yield return new ReportRow("Failover drill", $"{OldPrimary} -> {NewPrimary}", outcome, Status.ToString(), Environment, Reason,
            new KeyValuePair<string, string>[] { new("RecoveryTime", RecoveryTime is { } t ? Seconds(t) : "-"), new("Target", Seconds(RecoveryTarget)), new("DataLossBytes", DataLossBytes.ToString(CultureInfo.InvariantCulture)) },
            StartedAt, RecoveryTime?.TotalMilliseconds);
    }
}

/// <summary>
/// Runbook 003's monthly failover drill on a self-managed primary and streaming replica, with the privileges a
/// database owner can be given (EXECUTE on pg_promote, pg_signal_backend), no superuser: the old primary's database
/// is fenced (default_transaction_read_only for new sessions, the open sessions ended) so no write can land on it once
/// the replica is promoted; the replica replays what the primary last wrote; pg_promote; then the new primary must
/// take a write. Every step is timed. The fence stays (undo it with ALTER DATABASE … RESET default_transaction_read_only
/// once the old primary is rebuilt as a replica of the new one).
/// </summary>
public static partial class FailoverDrill
{
    /// <summary>Checks both servers (read-only) and says what the drill would do, or why it must not.</summary>
    public static async Task<FailoverPlan> PlanAsync(DatabaseSession primary, DatabaseSession replica, long maxLagBytes, CancellationToken ct)
    {
        var (primaryInRecovery, database, ownsDatabase, canSignal, primaryLsn) = await primary.ReadAsync(async c =>
        {
            await using var cmd = new NpgsqlCommand("""
                SELECT pg_is_in_recovery(), current_database(),
                       pg_has_role(current_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'MEMBER'),
                       pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END
                """, c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return (r.GetBoolean(0), r.GetString(1), r.GetBoolean(2), r.GetBoolean(3), r.IsDBNull(4) ? null : r.GetString(4));
        }, ct).ConfigureAwait(false);
        var (replicaInRecovery, receiver, canSeeReceiver, canPromote, lagBytes) = await replica.ReadAsync(async c =>
        {
            await using var cmd = new NpgsqlCommand("""
                SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver LIMIT 1),
                       pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
                       has_function_privilege('pg_promote(boolean, integer)', 'EXECUTE'),
                       CASE WHEN @lsn::text IS NULL OR NOT pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(@lsn::pg_lsn, pg_last_wal_replay_lsn())::bigint END
                """, c);
            cmd.Parameters.Add(new NpgsqlParameter("lsn", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)primaryLsn ?? DBNull.Value });
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return (r.GetBoolean(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetBoolean(2), r.GetBoolean(3), r.IsDBNull(4) ? (long?)null : Math.Max(0, r.GetInt64(4)));
        }, ct).ConfigureAwait(false);
        var refusal = primaryInRecovery ? $"{primary.Display} is in recovery: it is not a primary (name the primary and its replica)"
            : !replicaInRecovery ? $"{replica.Display} is not in recovery: it is not a replica (was it promoted already?)"
            : !canSeeReceiver ? $"the login on {replica.Display} cannot see its WAL receiver (is it streaming?): GRANT pg_read_all_stats TO it"
            : receiver != "streaming" ? $"{replica.Display} is not streaming from its primary (WAL receiver: {receiver ?? "none"}): promoting it would lose what it has not received"
            : !canPromote ? $"the login on {replica.Display} may not promote it: GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO it (in that database), or use a superuser"
            : !ownsDatabase ? $"the login on {primary.Display} does not own database {database}: it cannot fence it (ALTER DATABASE ... SET default_transaction_read_only)"
            : !canSignal ? $"the login on {primary.Display} may not end other sessions: GRANT pg_signal_backend TO it"
            : lagBytes > maxLagBytes ? $"the replica is {lagBytes} bytes of WAL behind (more than {maxLagBytes}): wait until it catches up, or raise -MaxLagBytes"
            : null;
        return new FailoverPlan
        {
            Primary = primary.Display,
            Replica = replica.Display,
            LagBytes = lagBytes,
            Database = database,
            Refusal = refusal,
            Steps =
            new string[]
            {
                $"Fence {primary.Display}: database {database} read-only for new sessions, its open sessions ended",
                $"Wait until {replica.Display} has replayed the primary's last WAL",
                $"Promote {replica.Display} (pg_promote)",
                $"Wait until {replica.Display} takes a write",
                "Run the environment's health checks",
            },
        };
    }

    /// <summary>Runs the drill <paramref name="plan"/> describes (it must not be refused).</summary>
    /// <param name="primary">The primary to fence.</param>
    /// <param name="replica">The replica to promote.</param>
    /// <param name="plan">From <see cref="PlanAsync"/>.</param>
    /// <param name="timeout">How long the promoted replica has to take a write.</param>
    /// <param name="target">The recovery time to meet.</param>
    /// <param name="targetSource">Where the target came from, for the account.</param>
    /// <param name="checks">The health checks to run once a primary takes writes (null: none).</param>
    /// <param name="progress">Told each step as it ends.</param>
    /// <param name="ct">Stops the drill between steps (a fence already set stays).</param>
    public static async Task<FailoverDrillResult> RunAsync(DatabaseSession primary, DatabaseSession replica, FailoverPlan plan, TimeSpan timeout, TimeSpan target, string? targetSource,
        Func<CancellationToken, Task<IReadOnlyList<HealthCheckResult>>>? checks, IProgress<FailoverStep>? progress, CancellationToken ct)
    {
        if (plan.Refusal is not null) throw new InvalidOperationException(plan.Refusal);
        var drill = new DrillLog(progress);
        FailoverDrillResult Result(TimeSpan? recovery, long lost, IReadOnlyList<HealthCheckResult> health) => drill.Result(primary.Environment, replica.Target, primary.Display, replica.Display,
            recovery, target, targetSource, lost, health, recovery is null
                ? new string[] { $"No primary takes writes: lift the fence on {primary.Display} (ALTER DATABASE {plan.Database} RESET default_transaction_read_only) to bring the old primary back" }
                : new string[] { $"Point the application at {replica.Display} (its DATABASE_URL), then restart it",
                   $"Rebuild {primary.Display} as a replica of {replica.Display} (pg_basebackup or pg_rewind); its database stays read-only until then (ALTER DATABASE {plan.Database} RESET default_transaction_read_only lifts the fence)" });

        // 1. Fence: no new session may write, and the open ones end.
        string finalLsn;
        try
        {
            finalLsn = await primary.AutocommitAsync(async c =>
            {
                await DatabaseSession.ExecAsync(c, $"ALTER DATABASE {Identifier.Quote(plan.Database)} SET default_transaction_read_only = on", ct).ConfigureAwait(false);
                await DatabaseSession.ExecAsync(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'", ct).ConfigureAwait(false);
                await using var lsn = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", c);
                return (string)(await lsn.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            drill.Step("Fence the primary", true, $"database {plan.Database} read-only for new sessions, open sessions ended; last WAL {finalLsn}");
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException)
        {
            drill.Step("Fence the primary", false, e.Message);
            return Result(null, 0, []);
        }

        // 2. The replica replays everything the primary wrote (bounded: a replica that cannot catch up loses the rest).
        long lost = 0;
        var catchUp = Stopwatch.StartNew();
        while (true)
        {
            lost = await replica.ReadAsync(async c =>
            {
                await using var cmd = new NpgsqlCommand("SELECT greatest(0, pg_wal_lsn_diff(@lsn::pg_lsn, pg_last_wal_replay_lsn()))::bigint", c);
                cmd.Parameters.AddWithValue("lsn", finalLsn);
                return (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }, ct).ConfigureAwait(false);
            if (lost == 0 || catchUp.Elapsed > TimeSpan.FromSeconds(30)) break;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        drill.Step("Replica caught up", true, lost == 0 ? $"replayed up to {finalLsn}" : $"{lost} bytes still not replayed after 30 s: promoting without them");

        // 3. Promote.
        try
        {
            var promoted = await replica.AutocommitAsync(async c =>
            {
                await using var cmd = new NpgsqlCommand($"SELECT pg_promote(true, {Math.Max(1, (int)timeout.TotalSeconds)})", c);
                return (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            }, timeout + TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
            if (!promoted)
            {
                drill.Step("Promote the replica", false, $"pg_promote did not finish within {timeout.TotalSeconds:0} s");
                return Result(null, lost, []);
            }
            drill.Step("Promote the replica", true, "pg_promote: out of recovery");
        }
        catch (Exception e) when (e is NpgsqlException or PostgresException)
        {
            drill.Step("Promote the replica", false, e.Message);
            return Result(null, lost, []);
        }

        // 4. A primary answers when it takes a write.
        var (recovery, _) = await drill.WaitForWriteAsync(replica, timeout, async c =>
        {
            await using var cmd = new NpgsqlCommand("SELECT txid_current()", c);
            return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
        }, null, ct).ConfigureAwait(false);
        if (recovery is null) return Result(null, lost, []);

        // 5. Health checks.
        return Result(recovery, lost, await drill.HealthChecksAsync(checks, ct).ConfigureAwait(false));
    }
}
