using Npgsql;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Runbook 003's failover drill on a real PostgreSQL primary and streaming replica of the test's own
/// (tests/pg-pair.sh), while a client keeps writing: the plan's refusals, the fence, the promotion, what reached the new
/// primary, and the pair rebuilt afterwards as it was.
/// </summary>
public sealed class FailoverDrillTests(TestServers servers) : IAsyncLifetime
{
    private readonly Db _db = new(servers);
    private PgPair _pair = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _pair = await PgPair.StartAsync();

    public async ValueTask DisposeAsync() => await _pair.DisposeAsync();

    private Task<DatabaseSession> SessionAsync(string url, string target) =>
        DatabaseSession.OpenAsync(SecretValue.Parse(url), new DatabaseSessionOptions(), target, _db.Context());

    private static Task<T> ScalarAsync<T>(string url, string sql) => PgPair.ScalarAsync<T>(url, sql);

    [Fact]
    public async Task The_drill_fences_promotes_loses_nothing_and_the_pair_is_rebuilt_after()
    {
        var (primaryUrl, replicaUrl) = (_pair.PrimaryUrl, _pair.ReplicaUrl);
        await using (var primary = await SessionAsync(primaryUrl, "database"))
        await using (var replica = await SessionAsync(replicaUrl, "database-replica"))
        {
            // The plan reads both and refuses what would be wrong: the roles the other way round.
            var backwards = await FailoverDrill.PlanAsync(replica, primary, 16 << 20, Ct);
            Assert.Contains("is in recovery: it is not a primary", backwards.Refusal);
            var plan = await FailoverDrill.PlanAsync(primary, replica, 16 << 20, Ct);
            Assert.Null(plan.Refusal);
            Assert.Equal(5, plan.Steps.Count);
            Assert.True(await ScalarAsync<bool>(replicaUrl, "SELECT pg_is_in_recovery()"), "planning changes nothing");

            // A client writes all along; the drill stops it, promotes, and every committed row is on the new primary.
            var committed = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var writer = Task.Run(async () =>
            {
                var b = OpsRunbook.Engine.Clients.Postgres.PostgresConnectionString.Parse(primaryUrl);
                b.Pooling = false;
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await using var c = new NpgsqlConnection(b.ConnectionString);
                        await c.OpenAsync(stop.Token);
                        while (!stop.IsCancellationRequested)
                        {
                            await using var cmd = new NpgsqlCommand("INSERT INTO orders (total_cents) VALUES (1)", c);
                            await cmd.ExecuteNonQueryAsync(stop.Token);
                            Interlocked.Increment(ref committed);
                        }
                    }
                    catch (Exception e) when (e is NpgsqlException or PostgresException or OperationCanceledException)
                    {
                        await Task.Delay(20, CancellationToken.None);
                    }
                }
            }, Ct);
            await Db.EventuallyAsync(() => Task.FromResult(Volatile.Read(ref committed)), n => n > 50);
            var checks = 0;
            var steps = new List<FailoverStep>();
            var result = await FailoverDrill.RunAsync(primary, replica, plan, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5), "test", _ =>
            {
                checks++;
                return Task.FromResult<IReadOnlyList<HealthCheckResult>>([]);
            }, new Progress<FailoverStep>(steps.Add), Ct);
            stop.Cancel();
            await writer;

            Assert.Equal(HealthStatus.Healthy, result.Status);
            Assert.Equal(0, result.DataLossBytes);
            Assert.True(result.MetTarget);
            Assert.NotNull(result.RecoveryTime);
            Assert.Equal(["Fence the primary", "Replica caught up", "Promote the replica", "New primary takes writes", "Health checks"], result.Steps.Select(s => s.Step));
            Assert.Equal(1, checks);
            Assert.Contains("no WAL lost", result.Reason);
            Assert.Contains(result.NextSteps, s => s.Contains("Rebuild", StringComparison.Ordinal));
            // Every row a client saw committed is on the new primary, which takes writes; the old one takes none.
            Assert.False(await ScalarAsync<bool>(replicaUrl, "SELECT pg_is_in_recovery()"));
            Assert.Equal(100 + Volatile.Read(ref committed), await ScalarAsync<long>(replicaUrl, "SELECT count(*) FROM orders"));
            var e = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync<long>(primaryUrl, "INSERT INTO orders (total_cents) VALUES (2) RETURNING id"));
            Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, e.SqlState);
            var row = Assert.Single(result.ToReportRows());
            Assert.Equal(Reporting.ReportOutcome.Pass, row.Outcome);

            // Promoted already: a second drill is refused, and says why.
            Assert.Contains("is not in recovery: it is not a replica", (await FailoverDrill.PlanAsync(primary, replica, 16 << 20, Ct)).Refusal);
        }

        // The pair rebuilt as it was: the old primary takes writes again and the replica streams them.
        await _pair.RunAsync("rebuild-replica");
        Assert.True(await ScalarAsync<bool>(replicaUrl, "SELECT pg_is_in_recovery()"));
        var id = await ScalarAsync<long>(primaryUrl, "INSERT INTO orders (total_cents) VALUES (3) RETURNING id");
        await Db.EventuallyAsync(() => ScalarAsync<long>(replicaUrl, $"SELECT count(*) FROM orders WHERE id = {id}"), n => n == 1);
    }

    [Fact]
    public async Task A_login_that_may_not_promote_is_refused_before_anything_changes()
    {
        var (primaryUrl, replicaUrl) = (_pair.PrimaryUrl, _pair.ReplicaUrl);
        await _pair.AsPostgresAsync("REVOKE EXECUTE ON FUNCTION pg_promote(boolean, integer) FROM drill");
        await Db.EventuallyAsync(() => ScalarAsync<bool>(replicaUrl, "SELECT has_function_privilege('pg_promote(boolean, integer)', 'EXECUTE')"), can => !can);
        await using var primary = await SessionAsync(primaryUrl, "database");
        await using var replica = await SessionAsync(replicaUrl, "database-replica");
        var plan = await FailoverDrill.PlanAsync(primary, replica, 16 << 20, Ct);
        Assert.Contains("may not promote it: GRANT EXECUTE ON FUNCTION pg_promote", plan.Refusal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => FailoverDrill.RunAsync(primary, replica, plan, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), null, null, null, Ct));
        Assert.True(await ScalarAsync<bool>(replicaUrl, "SELECT pg_is_in_recovery()"));
        Assert.Equal(0L, await ScalarAsync<long>(primaryUrl, "SELECT count(*) FROM pg_db_role_setting"));
    }
}
