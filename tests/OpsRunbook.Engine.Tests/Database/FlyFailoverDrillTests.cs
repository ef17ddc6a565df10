using Npgsql;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Runbook 003's drill as written for Fly ("flyctl machine kill [primary-machine-id] -a cardmint-db", "verify replica
/// promotion"): the Machines API is the fake built from fly-go (signal, role checks as postgres-flex reports them);
/// the cluster behind it is a real primary and streaming replica of the test's own (tests/pg-pair.sh), reached through
/// an address that follows the primary (Fly's port 5432) and failed over by the test as repmgr would, after the kill.
/// </summary>
public sealed class FlyFailoverDrillTests(TestServers servers) : IAsyncLifetime
{
    private const string App = "cardmint-db";
    private readonly Db _db = new(servers);
    private PgPair _pair = null!;
    private FakeFly _fly = null!;
    private TcpProxy _proxy = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _pair = await PgPair.StartAsync();
        _proxy = new TcpProxy(_pair.PrimaryPort);
        _fly = await FakeFly.StartAsync(App);
        _fly.AddPostgresMachine("pg1primary", "iad", "primary");
        _fly.AddPostgresMachine("pg2replica", "iad", "replica");
        _fly.AddPostgresMachine("pg3far", "lhr", "replica");
    }

    public async ValueTask DisposeAsync()
    {
        await _fly.DisposeAsync();
        await _proxy.DisposeAsync();
        await _pair.DisposeAsync();
    }

    /// <summary>The application's connection: through the address that follows the primary.</summary>
    private string ServiceUrl => _pair.PrimaryUrl.Replace($":{_pair.PrimaryPort}/", $":{_proxy.Port}/", StringComparison.Ordinal);

    private FlyProvider Fly() => new(new FlySettings { App = App, MachinesApi = _fly.MachinesApi }, _fly.Token, new SecretRedactor());

    private Task<DatabaseSession> SessionAsync(string url, string target) =>
        DatabaseSession.OpenAsync(SecretValue.Parse(url), new DatabaseSessionOptions { ConnectTimeout = TimeSpan.FromSeconds(2) }, target, _db.Context());

    private static Task<T> ScalarAsync<T>(string url, string sql) => PgPair.ScalarAsync<T>(url, sql);

    /// <summary>repmgr's part: the primary is gone, the replica of the primary region is promoted, port 5432 follows it.</summary>
    private void RepmgrPromotesOnKill(string killMode = "immediate") => _fly.FailOverOnKill("pg1primary", "pg2replica", async () =>
    {
        await _pair.RunAsync("kill-primary", killMode);
        await _pair.RunAsync("promote-replica");
        _proxy.Retarget(_pair.ReplicaPort);
    });

    [Fact]
    public async Task Killing_the_primary_machine_fails_over_to_the_replica_and_the_drill_measures_it()
    {
        RepmgrPromotesOnKill("fast");
        using var fly = Fly();
        await using var database = await SessionAsync(ServiceUrl, "database");
        var plan = await FailoverDrill.PlanFlyAsync(fly, App, database, null, 16 << 20, Ct);
        Assert.Null(plan.Refusal);
        Assert.Equal("fly machine kill", plan.Method);
        Assert.Equal("machine pg1primary (iad)", plan.Primary);
        Assert.Equal("machine pg2replica (iad)", plan.Replica);   // the London replica cannot be promoted
        Assert.NotNull(plan.LagBytes);                             // the login may read pg_stat_replication's positions
        Assert.All(_fly.Log, r => Assert.Equal("GET", r.Method));  // planning changes nothing

        var checks = 0;
        var steps = new List<FailoverStep>();
        var result = await FailoverDrill.RunFlyAsync(fly, database, plan, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5), "test", _ =>
        {
            checks++;
            return Task.FromResult<IReadOnlyList<HealthCheckResult>>([]);
        }, new Progress<FailoverStep>(steps.Add), Ct, TimeSpan.FromMilliseconds(100));

        Assert.True(result.Status == HealthStatus.Healthy, result.Reason);
        Assert.Equal(["Kill the primary machine", "New primary takes writes", "A replica was promoted", "Fly names the new primary", "Health checks"], result.Steps.Select(s => s.Step));
        Assert.Equal(0, result.DataLossBytes);
        Assert.Equal("machine pg1primary (iad)", result.OldPrimary);
        Assert.Equal("machine pg2replica (iad)", result.NewPrimary);
        Assert.Contains("timeline 1 -> 2", result.Steps[2].Detail);
        Assert.Equal(1, checks);
        Assert.Contains(result.NextSteps, s => s.Contains("fly machine start pg1primary -a cardmint-db", StringComparison.Ordinal));
        // flyctl machine kill's request, and nothing else that changes anything: no lease, no stop, no update.
        var changes = _fly.Log.Where(r => r.Method != "GET").ToList();
        var kill = Assert.Single(changes);
        Assert.Equal(("POST", "/v1/apps/cardmint-db/machines/pg1primary/signal", """{"signal":9}"""), (kill.Method, kill.Path, kill.Body));
        Assert.Equal("stopped", _fly.Machine("pg1primary")["state"]!.GetValue<string>());
        // The application's address takes writes on the promoted server.
        Assert.False(await ScalarAsync<bool>(ServiceUrl, "SELECT pg_is_in_recovery()"));
        Assert.Equal(101L, await ScalarAsync<long>(ServiceUrl, "INSERT INTO orders (total_cents) VALUES (7) RETURNING id"));
    }

    [Fact]
    public async Task What_the_primary_wrote_after_the_replica_stopped_receiving_is_reported_lost()
    {
        RepmgrPromotesOnKill();
        using var fly = Fly();
        await using var database = await SessionAsync(ServiceUrl, "database");
        var plan = await FailoverDrill.PlanFlyAsync(fly, App, database, null, 16 << 20, Ct);
        Assert.Null(plan.Refusal);
        // The replica stops receiving between plan and kill; 500 orders are then written that it never sees.
        await _pair.RunAsync("disconnect-replica");
        Assert.Equal(600L, await ScalarAsync<long>(ServiceUrl, "WITH i AS (INSERT INTO orders (total_cents) SELECT g FROM generate_series(1, 500) g RETURNING id) SELECT max(id) FROM i"));

        var result = await FailoverDrill.RunFlyAsync(fly, database, plan, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5), "test", null, null, Ct, TimeSpan.FromMilliseconds(100));

        Assert.True(result.DataLossBytes > 0, result.Reason);
        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains($"{result.DataLossBytes} bytes of WAL did not reach the replica", result.Reason);
        Assert.Contains("never reached it", result.Steps.Single(s => s.Step == "A replica was promoted").Detail);
        Assert.Equal(100L, await ScalarAsync<long>(ServiceUrl, "SELECT count(*) FROM orders"));   // the 500 are gone, as measured
    }

    [Fact]
    public async Task A_primary_that_comes_back_without_a_promotion_is_not_a_failover()
    {
        // Fly's restart policy starts the killed machine again before the cluster promotes anyone.
        _fly.FailOverOnKill("pg1primary", null, async () =>
        {
            await _pair.RunAsync("kill-primary");
            await _pair.RunAsync("start-primary");
        });
        using var fly = Fly();
        await using var database = await SessionAsync(ServiceUrl, "database");
        var plan = await FailoverDrill.PlanFlyAsync(fly, App, database, null, 16 << 20, Ct);
        var result = await FailoverDrill.RunFlyAsync(fly, database, plan, TimeSpan.FromSeconds(8), TimeSpan.FromMinutes(5), "test", null, null, Ct, TimeSpan.FromMilliseconds(100));

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Null(result.RecoveryTime);
        var failed = Assert.Single(result.Steps, s => !s.Succeeded);
        Assert.Equal("New primary takes writes", failed.Step);
        Assert.Contains("no write within 8 s: the server taking writes is still on timeline 1: machine pg1primary (iad) (alive, or restarted by Fly), no replica was promoted", failed.Detail);
        Assert.StartsWith("New primary takes writes failed", result.Reason, StringComparison.Ordinal);
        Assert.Contains(result.NextSteps, s => s.StartsWith("No new primary takes writes", StringComparison.Ordinal));
        Assert.True(await ScalarAsync<bool>(_pair.ReplicaUrl, "SELECT pg_is_in_recovery()"));
    }

    [Fact]
    public async Task The_plan_refuses_a_cluster_it_cannot_fail_over_and_says_why()
    {
        using var fly = Fly();
        await using var database = await SessionAsync(ServiceUrl, "database");
        await using var replicaSession = await SessionAsync(_pair.ReplicaUrl, "database-replica");
        async Task<string?> RefusalAsync(DatabaseSession? db = null, DatabaseSession? replica = null, long maxLag = 16 << 20) =>
            (await FailoverDrill.PlanFlyAsync(fly, App, db ?? database, replica, maxLag, Ct)).Refusal;

        // A replica's own connection measures the lag, or pg_stat_replication does; a limit below it refuses.
        Assert.Null(await RefusalAsync(replica: replicaSession));
        await _pair.AsPostgresAsync("SELECT pg_wal_replay_pause()", replica: true, database: "postgres");
        await ScalarAsync<long>(ServiceUrl, "WITH i AS (INSERT INTO orders (total_cents) SELECT g FROM generate_series(1, 50) g RETURNING id) SELECT max(id) FROM i");
        Assert.Contains("the replicas are", await RefusalAsync(replica: replicaSession, maxLag: 100));
        await Db.EventuallyAsync(() => RefusalAsync(maxLag: 100), r => r?.Contains("the replicas are", StringComparison.Ordinal) == true);
        await _pair.AsPostgresAsync("SELECT pg_wal_replay_resume()", replica: true, database: "postgres");
        // A replica that receives nothing is no standby at all.
        await _pair.RunAsync("disconnect-replica");
        await Db.EventuallyAsync(() => RefusalAsync(), r => r?.Contains("the primary streams to no replica (pg_stat_replication)", StringComparison.Ordinal) == true);
        // The connection must reach the primary, not a replica.
        Assert.Contains("reaches a server in recovery, not the primary", await RefusalAsync(db: replicaSession));
        // The roles as flyctl reads them.
        _fly.SetRole("pg2replica", "replica", "critical");
        Assert.Contains("no started replica of cardmint-db in the primary region iad (roles: pg1primary primary (started), pg2replica error (started), pg3far replica (started))", await RefusalAsync());
        _fly.SetRole("pg2replica", "primary");
        Assert.Contains("2 machines of cardmint-db say they are the primary (pg1primary, pg2replica)", await RefusalAsync());
        _fly.SetRole("pg1primary", "replica");
        _fly.SetRole("pg2replica", "replica");
        Assert.Contains("no started machine of cardmint-db has a passing role check that says primary", await RefusalAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await FailoverDrill.RunFlyAsync(fly, database, await FailoverDrill.PlanFlyAsync(fly, App, database, null, 16 << 20, Ct), TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1), null, null, null, Ct));
        Assert.All(_fly.Log, r => Assert.Equal("GET", r.Method));
        // A wrong token says where the cluster's token is set.
        using var wrong = new FlyProvider(new FlySettings { App = App, MachinesApi = _fly.MachinesApi, TokenSetting = "\"database\".\"fly\".\"token\"" }, "fm2_wrong", new SecretRedactor());
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => FailoverDrill.PlanFlyAsync(wrong, App, database, null, 16 << 20, Ct));
        Assert.Contains("set a token for app 'cardmint-db' in \"database\".\"fly\".\"token\"", e.Message);
    }
}
