using Npgsql;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.Engine.Database;

/// <summary>
/// Runbook 003's drill as written for a Fly Postgres cluster ("flyctl machine kill [primary-machine-id] -a
/// cardmint-db", then "verify replica promotion"): the primary is the machine whose "role" check says so (as flyctl
/// finds it), it is killed (SIGKILL), and the cluster's own manager (repmgr) must promote a replica of the primary
/// region. The application's connection (the cluster's port 5432, which follows the primary) must take a write again;
/// the server that takes it must be on a new timeline (a promoted replica, not the old primary restarted), and the WAL
/// the old primary had written before the kill that the new one never replayed is what was lost.
/// </summary>
public static partial class FailoverDrill
{
    /// <summary>
    /// Reads the cluster's machines and roles and the database (read-only) and says what the Fly drill would do, or why
    /// it must not: no single started primary, no started replica in the primary region (repmgr promotes only there),
    /// a connection that does not reach the primary, no streaming replica, or one further behind than
    /// <paramref name="maxLagBytes"/>.
    /// </summary>
    /// <param name="fly">The cluster app's Machines API.</param>
    /// <param name="app">The cluster app's name, for messages.</param>
    /// <param name="database">The application's connection (it follows the primary).</param>
    /// <param name="replica">A replica's own connection, to measure its lag (null: from pg_stat_replication).</param>
    /// <param name="maxLagBytes">Refuse above this lag.</param>
    /// <param name="ct">Cancels the reads.</param>
    public static async Task<FailoverPlan> PlanFlyAsync(FlyProvider fly, string app, DatabaseSession database, DatabaseSession? replica, long maxLagBytes, CancellationToken ct)
    {
        var members = await fly.GetPostgresMembersAsync(ct).ConfigureAwait(false);
        var primaries = members.Where(m => m.IsPrimary && m.State == "started").ToList();
        var primary = primaries.Count == 1 ? primaries[0] : null;
        var region = primary?.PrimaryRegion ?? primary?.Region;
        var candidates = members.Where(m => m.IsReplica && m.State == "started" && (region is null || m.Region == region)).ToList();

        var (inRecovery, lsn, senders, streaming, visible, wsLag) = await database.ReadAsync(async c =>
        {
            // Everyone sees pg_stat_replication's rows; their state and positions only superusers and pg_read_all_stats.
            await using var cmd = new NpgsqlCommand("""
                SELECT pg_is_in_recovery(),
                       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,
                       (SELECT count(*) FROM pg_stat_replication),
                       (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'),
                       (SELECT count(*) FROM pg_stat_replication WHERE replay_lsn IS NOT NULL),
                       (SELECT min(greatest(0, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)))::bigint FROM pg_stat_replication WHERE state = 'streaming' AND NOT pg_is_in_recovery())
                """, c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return (r.GetBoolean(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.IsDBNull(5) ? (long?)null : r.GetInt64(5));
        }, ct).ConfigureAwait(false);
        long? lag = visible > 0 ? wsLag : null;
        if (replica is not null && lsn is not null)
        {
            lag = await replica.ReadAsync(async c =>
            {
                await using var cmd = new NpgsqlCommand("SELECT CASE WHEN pg_is_in_recovery() THEN greatest(0, pg_wal_lsn_diff(@lsn::pg_lsn, pg_last_wal_replay_lsn()))::bigint END", c);
                cmd.Parameters.AddWithValue("lsn", lsn);
                return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is long l ? l : (long?)null;
            }, ct).ConfigureAwait(false) ?? lag;
        }

        var refusal = members.Count == 0 ? $"app {app} has no machines: is it the Postgres cluster's app? (fly postgres list)"
            : primaries.Count == 0 ? $"no started machine of {app} has a passing role check that says primary (roles: {Roles(members)}): the cluster is not healthy; see fly status -a {app}"
            : primaries.Count > 1 ? $"{primaries.Count} machines of {app} say they are the primary ({string.Join(", ", primaries.Select(p => p.Id))}): a split cluster must be mended, not drilled"
            : candidates.Count == 0 ? $"no started replica of {app} in the primary region {region} (roles: {Roles(members)}): repmgr promotes only a replica there, so killing the primary would leave none"
            : inRecovery ? $"the database connection {database.Display} reaches a server in recovery, not the primary: use the cluster's port 5432 ({app}.flycast or {app}.internal), which follows the primary"
            : senders == 0 || (visible > 0 && streaming == 0) ? $"the primary streams to no replica (pg_stat_replication): a promoted replica would not have its last writes"
            : lag > maxLagBytes ? $"the replicas are {lag} bytes of WAL behind (more than {maxLagBytes}): wait until they catch up, or raise -MaxLagBytes"
            : null;
        var names = string.Join(", ", candidates.Select(c => c.Id));
        return new FailoverPlan
        {
            Method = "fly machine kill",
            Primary = primary?.Display ?? app,
            Replica = candidates.Count == 1 ? candidates[0].Display : $"{app} replicas in {region}: {names}",
            LagBytes = lag,
            Refusal = refusal,
            Fly = primary is null ? null : (app, primary),
            Steps =
            new string[]
            {
                $"Kill {primary?.Display ?? "the primary machine"} of {app} (SIGKILL, as fly machine kill)",
                $"Wait until {database.Display} takes a write (repmgr promotes one of: {names})",
                "Check that the server taking writes was promoted (a new timeline) and measure the WAL it never received",
                $"Wait until Fly's role checks name the new primary",
                "Run the environment's health checks",
            },
        };
    }

    /// <summary>The timeline the server writes on: the first eight hex digits of its current WAL file's name.</summary>
    private const string TimelineSql = "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint";

    /// <summary>Each machine's role and state, as the plan's and the drill's messages show them.</summary>
    private static string Roles(IReadOnlyList<FlyPostgresMember> members) =>
        members.Count == 0 ? "none" : string.Join(", ", members.Select(m => $"{m.Id} {m.Role} ({m.State})"));

    /// <summary>Kills the primary machine the plan names and measures the cluster's own failover (the plan must not be refused).</summary>
    /// <param name="fly">The cluster app's Machines API.</param>
    /// <param name="database">The application's connection, which follows the primary.</param>
    /// <param name="plan">From <see cref="PlanFlyAsync"/>.</param>
    /// <param name="timeout">How long the cluster has to take writes again and name its new primary.</param>
    /// <param name="target">The recovery time to meet.</param>
    /// <param name="targetSource">Where the target came from.</param>
    /// <param name="checks">The health checks to run once a primary takes writes (null: none).</param>
    /// <param name="progress">Told each step as it ends.</param>
    /// <param name="delay">How role checks are polled between reads (tests pass a shorter wait).</param>
    /// <param name="ct">Stops the drill between steps (a killed machine stays killed).</param>
    public static async Task<FailoverDrillResult> RunFlyAsync(FlyProvider fly, DatabaseSession database, FailoverPlan plan, TimeSpan timeout, TimeSpan target, string? targetSource,
        Func<CancellationToken, Task<IReadOnlyList<HealthCheckResult>>>? checks, IProgress<FailoverStep>? progress, CancellationToken ct, TimeSpan? delay = null)
    {
        if (plan.Refusal is not null) throw new InvalidOperationException(plan.Refusal);
        var (app, old) = plan.Fly ?? throw new ArgumentException("not a Fly plan: use PlanFlyAsync", nameof(plan));
        var start = $"fly machine start {old.Id} -a {app}";

        // Where the primary's WAL stood, and its timeline, just before the kill.
        var (lsnBefore, timelineBefore) = await database.ReadAsync(async c =>
        {
            await using var cmd = new NpgsqlCommand($"SELECT pg_current_wal_lsn()::text, {TimelineSql}", c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return (r.GetString(0), r.GetInt64(1));
        }, ct).ConfigureAwait(false);

        var drill = new DrillLog(progress);
        string newPrimary = database.Display;
        FailoverDrillResult Result(TimeSpan? recovery, long lost, IReadOnlyList<HealthCheckResult> health) => drill.Result(database.Environment, database.Target, old.Display, newPrimary,
            recovery, target, targetSource, lost, health, recovery is null
                ? new string[] { $"No new primary takes writes: see the cluster (fly status -a {app}, fly logs -a {app}); if {old.Display} stays stopped, start it ({start})" }
                : new string[] { $"See that {old.Display} rejoined as a replica (fly status -a {app}: its role check says replica); if it stays stopped, start it ({start})",
                   $"Nothing to repoint: the application's connection ({database.Display}) follows the primary" });
        try
        {
            await fly.KillMachineAsync(old.Id, ct).ConfigureAwait(false);
            drill.Step("Kill the primary machine", true, $"{old.Display}: SIGKILL sent; its last WAL {lsnBefore} (timeline {timelineBefore})");
        }
        catch (DeploymentProviderException e)
        {
            drill.Step("Kill the primary machine", false, e.Message);
            return Result(null, 0, []);
        }

        // The pool's connections went to the machine that died.
        database.ClearPool();
        // A write on the old timeline comes from the old primary: not dead yet, or restarted by Fly's restart policy
        // before the cluster promoted anyone. Either way no failover has happened yet: keep trying.
        var (recovery, after) = await drill.WaitForWriteAsync(database, timeout, async c =>
        {
            await using var cmd = new NpgsqlCommand($"""
                SELECT txid_current(), {TimelineSql},
                       greatest(0, pg_wal_lsn_diff(@before::pg_lsn, pg_last_wal_replay_lsn()))::bigint
                """, c);
            cmd.Parameters.AddWithValue("before", lsnBefore);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return (Timeline: r.GetInt64(1), Lost: r.IsDBNull(2) ? (long?)null : r.GetInt64(2));
        }, a => a.Timeline == timelineBefore ? $"the server taking writes is still on timeline {timelineBefore}: {old.Display} (alive, or restarted by Fly), no replica was promoted" : null,
        ct).ConfigureAwait(false);
        if (recovery is null) return Result(null, 0, []);
        var lost = after.Lost ?? 0;
        drill.Step("A replica was promoted", true, $"timeline {timelineBefore} -> {after.Timeline}; "
            + (after.Lost is null ? "its replay position is unknown" : lost == 0 ? "it had replayed everything written before the kill" : $"{lost} bytes written before the kill never reached it"));

        // Fly's view: flyctl's postgres commands find the primary by the role checks, which run on an interval.
        var wait = delay ?? TimeSpan.FromSeconds(2);
        FlyPostgresMember? named = null;
        IReadOnlyList<FlyPostgresMember> members = [];
        while (true)
        {
            try
            {
                members = await fly.GetPostgresMembersAsync(ct).ConfigureAwait(false);
                named = members.SingleOrDefault(m => m.IsPrimary && m.Id != old.Id && m.State == "started");
            }
            catch (DeploymentProviderException)
            {
                // The API is asked again until the time is up.
            }
            if (named is not null || drill.Elapsed >= timeout) break;
            await Task.Delay(wait, ct).ConfigureAwait(false);
        }
        if (named is null)
        {
            drill.Step("Fly names the new primary", false, $"after {drill.Elapsed.TotalSeconds:0} s no other machine's role check says primary (roles: {Roles(members)})");
            return Result(recovery, lost, []);
        }
        newPrimary = named.Display;
        drill.Step("Fly names the new primary", true, $"{named.Display}; {old.Display} is {members.FirstOrDefault(m => m.Id == old.Id)?.State ?? "gone"}");

        return Result(recovery, lost, await drill.HealthChecksAsync(checks, ct).ConfigureAwait(false));
    }
}
