using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Railway logs as the Railway CLI fetches them (src/controllers/deployment.rs, src/commands/logs.rs), against the fake GraphQL API.</summary>
public sealed class RailwayLogsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly SecretRedactor _redactor = new();
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

    private RailwayProvider Provider(FakeRailway fake)
    {
        var p = new RailwayProvider(new RailwaySettings
        {
            ProjectId = FakeRailway.Project, ServiceId = FakeRailway.Service, EnvironmentId = FakeRailway.Environment, TokenKind = RailwayTokenKind.Project, Api = fake.Api,
        }, fake.Token, _redactor);
        p.Delay = (_, ct) => Task.Delay(10, ct);
        p.FollowInterval = TimeSpan.FromMilliseconds(50);
        return p;
    }

    private static async Task<(FakeRailway Fake, string Current)> SeededAsync()
    {
        var fake = await FakeRailway.StartAsync();
        var old = fake.AddDeployment("REMOVED", true, "img:v1", 100);
        var current = fake.AddDeployment("SUCCESS", true, "img:v2", 10);
        fake.AddDeployment("FAILED", false, "img:v3", 1);
        fake.AddLog(old, T0.AddMinutes(-90), "old deployment line");
        fake.AddLog(current, T0, "Server listening on :8080", "info", ("level", "\"info\""));
        fake.AddLog(current, T0.AddSeconds(1), "db timeout", "info", ("level", "\"error\""), ("took_ms", "5012"), ("service", "\"orders\""));
        fake.AddLog(current, T0.AddSeconds(2), """{"level":"warn","msg":"slow query","took":"1.2s"}""");
        fake.AddLog(current, T0.AddSeconds(3), "connect to postgres://app:hunter2@db:5432/app failed", "error");
        fake.AddHttpLog(current, T0, "GET", "/api/orders/1", 200, 85);
        fake.AddHttpLog(current, T0.AddSeconds(1), "GET", "/api/orders/2", 200, 1834);
        fake.AddHttpLog(current, T0.AddSeconds(2), "POST", "/api/checkout", 503, 30012);
        return (fake, current);
    }

    private static async Task<List<LogRecord>> All(IAsyncEnumerable<LogRecord> records)
    {
        var list = new List<LogRecord>();
        await foreach (var r in records) list.Add(r);
        return list;
    }

    [Fact]
    public async Task Reads_the_newest_successful_deployments_logs_with_their_attributes()
    {
        var (fake, current) = await SeededAsync();
        await using var _ = fake;
        using var p = Provider(fake);
        var records = await All(p.ReadLogsAsync(new DeploymentLogRequest(), _ => { }, Ct));
        Assert.Equal(4, records.Count);
        // The CLI's rule: the newest SUCCESS deployment, not the newer FAILED one; its default limit of 500.
        var (query, variables) = fake.Log.Last();
        Assert.Contains("deploymentLogs(deploymentId: $deploymentId, limit: $limit, filter: $filter, startDate: $startDate, endDate: $endDate)", query);
        Assert.Contains($"\"deploymentId\":\"{current}\"", variables);
        Assert.Contains("\"limit\":500", variables);
        Assert.Equal("ERROR", records[1].Level);
        Assert.Equal("5012", records[1].Fields["took_ms"]);
        Assert.Equal("orders", records[1].Fields["service"]);
        Assert.Equal("WARN", records[2].Level);
        Assert.Equal("1.2s", records[2].Fields["took"]);
        Assert.Equal("ERROR", records[3].Level);
        Assert.DoesNotContain("hunter2", records[3].Message + records[3].Raw);
        Assert.All(records, r => Assert.Equal(current, r.Instance));
    }

    [Fact]
    public async Task Keeps_the_last_n_as_the_cli_does_and_passes_the_window()
    {
        var (fake, _) = await SeededAsync();
        await using var __ = fake;
        using var p = Provider(fake);
        // The API answers one more than the limit; the CLI keeps the last N.
        var tail = await All(p.ReadLogsAsync(new DeploymentLogRequest { Tail = 2 }, _ => { }, Ct));
        Assert.Equal(["slow query", "connect to postgres://app:***@db:5432/app failed"], tail.Select(r => r.Message));
        var window = await All(p.ReadLogsAsync(new DeploymentLogRequest { Since = T0.AddSeconds(1), Until = T0.AddSeconds(3) }, _ => { }, Ct));
        Assert.Equal(2, window.Count);
        Assert.Contains("\"startDate\":\"2026-11-30T10:00:01.000Z\",\"endDate\":\"2026-11-30T10:00:03.000Z\"", fake.Log.Last().Variables);
        var notices = new List<string>();
        await All(p.ReadLogsAsync(new DeploymentLogRequest { Tail = 0, Since = T0.AddSeconds(-1) }, notices.Add, Ct));
        Assert.Empty(notices);
    }

    [Fact]
    public async Task Reads_request_logs_with_their_durations_for_the_slow_request_question()
    {
        var (fake, current) = await SeededAsync();
        await using var _ = fake;
        using var p = Provider(fake);
        var requests = await All(p.ReadLogsAsync(new DeploymentLogRequest { Http = true, Since = T0 }, _ => { }, Ct));
        Assert.Equal(3, requests.Count);
        Assert.Contains("httpLogs(deploymentId: $deploymentId, filter: $filter, beforeLimit: $beforeLimit, beforeDate: $beforeDate, anchorDate: $anchorDate", fake.Log.Last().Query);
        Assert.Contains("\"beforeLimit\":500,\"beforeDate\":\"2026-11-30T10:00:00.000Z\"", fake.Log.Last().Variables);
        Assert.Equal("POST /api/checkout 503 30012ms", requests[2].Message);
        Assert.Equal("ERROR", requests[2].Level);
        Assert.Equal("us-east4", requests[2].Region);
        var counter = new LogPatternCounter(new LogQuery { Preset = LogPreset.SlowRequest });
        foreach (var r in requests) counter.Add(r);
        Assert.Equal(2, counter.Matched);
    }

    [Fact]
    public async Task Follows_new_lines_from_the_newest_seen_and_stops_at_the_end_time()
    {
        var (fake, current) = await SeededAsync();
        await using var _ = fake;
        using var p = Provider(fake);
        var seen = new List<LogRecord>();
        var until = DateTimeOffset.UtcNow.AddSeconds(2);
        var reading = Task.Run(async () =>
        {
            await foreach (var r in p.ReadLogsAsync(new DeploymentLogRequest { Follow = true, Until = until }, _ => { }, Ct)) lock (seen) seen.Add(r);
        }, Ct);
        while (true)
        {
            lock (seen) if (seen.Count == 4) break;
            await Task.Delay(20, Ct);
        }
        fake.AddLog(current, T0.AddSeconds(10), "a new line");
        await reading.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(5, seen.Count);
        Assert.Equal("a new line", seen[^1].Message);
        // Later polls start at the newest record seen, and nothing is written twice.
        Assert.Contains(fake.Log, l => l.Variables.Contains("\"startDate\":\"2026-11-30T10:00:03.000Z\"", StringComparison.Ordinal));
    }
}
