using System.Diagnostics;
using Npgsql;
using OpsRunbook.Engine.Common;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Runbook 003's weekly load test with the real pgbench against a PostgreSQL of the test's own (tests/pg-pair.sh's
/// primary, database "drill"): refusals before anything runs, pgbench's tables created, a select-only run that writes
/// nothing and whose every transaction's latency is counted, aborted clients as data, and Ctrl-C.
/// </summary>
public sealed class LoadTestTests(TestServers servers) : IAsyncLifetime
{
    private readonly Db _db = new(servers);
    private PgPair _pair = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _pair = await PgPair.StartAsync();

    public async ValueTask DisposeAsync() => await _pair.DisposeAsync();

    private Task<DatabaseSession> SessionAsync() =>
        DatabaseSession.OpenAsync(SecretValue.Parse(_pair.PrimaryUrl), new DatabaseSessionOptions(), "database", _db.Context());

    private Task<T> ScalarAsync<T>(string sql) => PgPair.ScalarAsync<T>(_pair.PrimaryUrl, sql);

    private OperationContext Context(List<OperationStatus>? statuses = null, CancellationToken? ct = null) =>
        _db.Context() with { Progress = statuses is null ? null : new SyncProgress(statuses), Cancellation = ct ?? Ct };

    private sealed class SyncProgress(List<OperationStatus> statuses) : IProgress<OperationStatus>
    {
        public void Report(OperationStatus value) { lock (statuses) statuses.Add(value); }
    }

    [Fact]
    public async Task A_select_only_run_counts_every_transaction_and_writes_nothing()
    {
        await using var session = await SessionAsync();
        // Without pgbench's tables the plan says how to get them, and nothing runs.
        var missing = await DatabaseLoadTest.PlanAsync(session, new LoadTestOptions(), Ct);
        Assert.Contains("pgbench's tables are not in 127.0.0.1:", missing.Refusal);
        Assert.Contains("add -Initialize (pgbench -i -s 1: 100000 accounts)", missing.Refusal);
        Assert.Matches(@"^pgbench \(PostgreSQL\) \d+", missing.Pgbench);

        var options = new LoadTestOptions { Clients = 4, Threads = 2, Duration = TimeSpan.FromSeconds(6), Initialize = true, LatencyTarget = TimeSpan.FromSeconds(30) };
        var plan = await DatabaseLoadTest.PlanAsync(session, options, Ct);
        Assert.Null(plan.Refusal);
        Assert.True(plan.Changes);
        Assert.Equal(2, plan.Steps.Count);
        var statuses = new List<OperationStatus>();
        var first = await DatabaseLoadTest.RunAsync(session, plan, options, Context(statuses));
        Assert.Equal(100_000L, await ScalarAsync<long>("SELECT count(*) FROM pgbench_accounts"));
        Assert.Equal(HealthStatus.Healthy, first.Status);
        lock (statuses) Assert.Contains(statuses, s => s.Phase == "Load test" && s.Status.Contains("tps", StringComparison.Ordinal));   // pgbench's progress, every 5 s

        // Initializing again would drop the tables: refused unless allowed.
        Assert.Contains("initializing drops and recreates them; add -Force", (await DatabaseLoadTest.PlanAsync(session, options, Ct)).Refusal);

        // Select only: nothing written (no vacuum, no truncate), every transaction logged at this length.
        var before = await ScalarAsync<long>("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables WHERE relname LIKE 'pgbench%'");
        await ScalarAsync<long>("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 1, now()) RETURNING 1::bigint");
        var readOnly = options with { Initialize = false };
        var result = await DatabaseLoadTest.RunAsync(session, await DatabaseLoadTest.PlanAsync(session, readOnly, Ct), readOnly, Context());
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM pgbench_history"));
        await Db.EventuallyAsync(() => ScalarAsync<long>("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables WHERE relname LIKE 'pgbench%'"), n => n == before + 1);

        Assert.Equal("select only", result.Script);
        Assert.Equal((4, 2, TimeSpan.FromSeconds(6)), (result.Clients, result.Threads, result.Duration));
        Assert.True(result.Transactions > 0);
        Assert.Equal(result.Transactions, result.Samples);   // sampling rate 1 up to a minute: every latency counted
        Assert.True(result.Tps > 0);
        Assert.True(result.LatencyP50Ms <= result.LatencyP95Ms && result.LatencyP95Ms <= result.LatencyP99Ms && result.LatencyP99Ms <= result.LatencyMaxMs);
        Assert.NotNull(result.LatencyAverageMs);
        Assert.NotNull(result.LatencyStdDevMs);
        Assert.Equal(0, result.FailedTransactions);
        Assert.Empty(result.Errors);
        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Contains("within the 30000 ms target", result.Reason);
        var row = Assert.Single(result.ToReportRows());
        Assert.Equal(Reporting.ReportOutcome.Pass, row.Outcome);

        // A target below what any server can do: Degraded, and said.
        var strict = readOnly with { Duration = TimeSpan.FromSeconds(2), LatencyTarget = TimeSpan.FromTicks(1) };
        var slow = await DatabaseLoadTest.RunAsync(session, await DatabaseLoadTest.PlanAsync(session, strict, Ct), strict, Context());
        Assert.Equal(HealthStatus.Degraded, slow.Status);
        Assert.Contains("over the 0 ms target", slow.Reason);
    }

    [Fact]
    public async Task Clients_that_abort_on_an_error_are_data_and_a_missing_script_is_refused()
    {
        await using var session = await SessionAsync();
        var script = Path.Combine(_pair.Dir, "broken.sql");
        Assert.Contains("does not exist", (await DatabaseLoadTest.PlanAsync(session, new LoadTestOptions { Script = LoadTestScript.File, ScriptFile = script }, Ct)).Refusal);
        await File.WriteAllTextAsync(script, "SELECT count(*) FROM orders;\nSELECT 1 / (random() * 0)::int;\n", Ct);
        var options = new LoadTestOptions { Script = LoadTestScript.File, ScriptFile = script, Clients = 3, Threads = 1, Duration = TimeSpan.FromSeconds(2) };
        var plan = await DatabaseLoadTest.PlanAsync(session, options, Ct);
        Assert.Null(plan.Refusal);   // a file of the application's own statements needs no pgbench tables
        Assert.False(plan.Changes);
        var result = await DatabaseLoadTest.RunAsync(session, plan, options, Context());
        Assert.Equal(3, result.AbortedClients);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains(result.Errors, e => e.Contains("division by zero", StringComparison.Ordinal));
        Assert.Contains("division by zero", result.Reason);
    }

    [Fact]
    public async Task Cancelling_stops_pgbench_and_its_sessions_at_once()
    {
        await using var session = await SessionAsync();
        var script = Path.Combine(_pair.Dir, "sleep.sql");
        await File.WriteAllTextAsync(script, "SELECT pg_sleep(0.05);\n", Ct);
        var options = new LoadTestOptions { Script = LoadTestScript.File, ScriptFile = script, Clients = 2, Threads = 1, Duration = TimeSpan.FromMinutes(5) };
        var plan = await DatabaseLoadTest.PlanAsync(session, options, Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = DatabaseLoadTest.RunAsync(session, plan, options, Context(ct: cancel.Token));
        await Db.EventuallyAsync(() => ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{session.ApplicationName}' AND pid <> pg_backend_pid()"), n => n == 2);
        var clock = Stopwatch.StartNew();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the run ended when cancelled, not after its five minutes");
        await Db.EventuallyAsync(() => ScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{session.ApplicationName}'"), n => n == 0);
    }
}
