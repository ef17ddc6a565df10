using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Fly.io logs through the polling API flyctl uses (fly-go resource_logs.go, flyctl logs/polling.go), against the fake.</summary>
public sealed class FlyLogsTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private FakeFly _fly = null!;
    private readonly SecretRedactor _redactor = new();
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddMinutes(-30);

    public async ValueTask InitializeAsync()
    {
        _fly = await FakeFly.StartAsync();
        _fly.AddLog(T0, "Starting machine");
        _fly.AddLog(T0.AddSeconds(1), """{"level":"error","msg":"db timeout","took_ms":5012}""", instance: "m1");
        _fly.AddLog(T0.AddSeconds(2), "GET /api/orders 200 response_time=80ms", region: "lhr", instance: "m2");
        _fly.AddLog(T0.AddSeconds(3), "connect to postgres://app:hunter2@db:5432/app refused", level: "error", instance: "m1");
        _fly.AddLog(T0.AddSeconds(4), "level=warn msg=\"slow query\" took=1.2s", instance: "m2", region: "lhr");
        _fly.AddLog(T0.AddSeconds(5), "health check passed");
        _fly.AddLog(T0.AddSeconds(6), "health check passed");
    }

    public async ValueTask DisposeAsync() => await _fly.DisposeAsync();

    private FlyProvider Provider(List<TimeSpan>? delays = null)
    {
        var p = new FlyProvider(new FlySettings { App = _fly.App, MachinesApi = _fly.MachinesApi, GraphQl = _fly.GraphQl }, _fly.Token, _redactor);
        p.Delay = (d, ct) => { delays?.Add(d); return Task.Delay(TimeSpan.FromMilliseconds(5), ct); };
        return p;
    }

    private static async Task<List<LogRecord>> All(IAsyncEnumerable<LogRecord> records)
    {
        var list = new List<LogRecord>();
        await foreach (var r in records) list.Add(r);
        return list;
    }

    [Fact]
    public async Task Reads_every_buffered_page_by_next_token_and_reads_the_apps_own_line()
    {
        using var p = Provider();
        var notices = new List<string>();
        var records = await All(p.ReadLogsAsync(new DeploymentLogRequest(), notices.Add, Ct));
        Assert.Equal(7, records.Count);
        Assert.Empty(notices);
        // Three pages of three, then an empty page ends a read without -Follow; each request carried the last token.
        var queries = _fly.Log.Where(l => l.Path.StartsWith($"/api/v1/apps/{_fly.App}/logs", StringComparison.Ordinal)).Select(l => l.Path).ToList();
        Assert.Equal([$"/api/v1/apps/{_fly.App}/logs?next_token=", $"/api/v1/apps/{_fly.App}/logs?next_token=3", $"/api/v1/apps/{_fly.App}/logs?next_token=6", $"/api/v1/apps/{_fly.App}/logs?next_token=7"], queries);
        Assert.All(_fly.Log.Where(l => l.Path.Contains("/logs", StringComparison.Ordinal)), l => Assert.Equal("FlyV1 " + _fly.Token, l.Authorization));
        var json = records[1];
        Assert.Equal("ERROR", json.Level);
        Assert.Equal("db timeout", json.Message);
        Assert.Equal("5012", json.Fields["took_ms"]);
        Assert.Equal("m1", json.Instance);
        Assert.Equal("ord", json.Region);
        Assert.Equal(T0.AddSeconds(1).ToUnixTimeMilliseconds(), json.Timestamp!.Value.ToUnixTimeMilliseconds());
        Assert.Equal("WARN", records[4].Level);
        Assert.Equal("lhr", records[4].Region);
        Assert.Equal("ERROR", records[3].Level);
        Assert.DoesNotContain("hunter2", records[3].Message + records[3].Raw);
        Assert.All(records, r => Assert.Equal(_fly.App, r.Service));
    }

    [Fact]
    public async Task Filters_by_machine_or_region_on_the_server_and_by_time_and_tail_here()
    {
        using var p = Provider();
        Assert.Equal(["m1", "m1"], (await All(p.ReadLogsAsync(new DeploymentLogRequest { Instance = "m1", Region = "lhr" }, _ => { }, Ct))).Select(r => r.Instance));
        Assert.Contains(_fly.Log, l => l.Path.EndsWith("&instance=m1", StringComparison.Ordinal));
        Assert.Equal(2, (await All(p.ReadLogsAsync(new DeploymentLogRequest { Region = "lhr" }, _ => { }, Ct))).Count);
        var window = await All(p.ReadLogsAsync(new DeploymentLogRequest { Since = T0.AddSeconds(2), Until = T0.AddSeconds(5) }, _ => { }, Ct));
        Assert.Equal(3, window.Count);
        var tail = await All(p.ReadLogsAsync(new DeploymentLogRequest { Tail = 2 }, _ => { }, Ct));
        Assert.Equal([T0.AddSeconds(5).ToUnixTimeSeconds(), T0.AddSeconds(6).ToUnixTimeSeconds()], tail.Select(r => r.Timestamp!.Value.ToUnixTimeSeconds()));
    }

    [Fact]
    public async Task Says_when_the_window_reaches_past_what_fly_still_keeps()
    {
        using var p = Provider();
        var notices = new List<string>();
        var records = await All(p.ReadLogsAsync(new DeploymentLogRequest { Since = T0.AddHours(-1) }, notices.Add, Ct));
        Assert.Equal(7, records.Count);
        Assert.Contains("short log buffer", Assert.Single(notices));
    }

    [Fact]
    public async Task Follows_new_records_pausing_as_flyctl_does_until_the_end_time()
    {
        var delays = new List<TimeSpan>();
        using var p = Provider(delays);
        var seen = new List<LogRecord>();
        var until = DateTimeOffset.UtcNow.AddSeconds(3);
        var reading = Task.Run(async () =>
        {
            await foreach (var r in p.ReadLogsAsync(new DeploymentLogRequest { Follow = true, Until = until }, _ => { }, Ct))
            {
                lock (seen) seen.Add(r);
            }
        }, Ct);
        while (true)
        {
            lock (seen) if (seen.Count == 7) break;
            await Task.Delay(20, Ct);
        }
        _fly.AddLog(DateTimeOffset.UtcNow, "new request after the deploy");
        await reading.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal("new request after the deploy", seen[^1].Message);
        // flyctl's pause after an empty page: backoff(minWait, maxWait) = 128 ms, every time (polling.go).
        Assert.NotEmpty(delays);
        Assert.All(delays, d => Assert.Equal(TimeSpan.FromMilliseconds(128), d));
    }

    [Fact]
    public async Task Stops_following_when_cancelled_and_refuses_a_wrong_token_with_what_to_do()
    {
        using var p = Provider();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var count = 0;
        var reading = Task.Run(async () =>
        {
            await foreach (var _ in p.ReadLogsAsync(new DeploymentLogRequest { Follow = true }, _ => { }, cts.Token)) count++;
        }, Ct);
        while (Volatile.Read(ref count) < 7) await Task.Delay(20, Ct);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);

        using var wrong = new FlyProvider(new FlySettings { App = _fly.App, MachinesApi = _fly.MachinesApi, GraphQl = _fly.GraphQl }, "fm2_wrong", _redactor);
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => All(wrong.ReadLogsAsync(new DeploymentLogRequest(), _ => { }, Ct)));
        Assert.Contains("fly tokens create deploy", e.Message);
        Assert.DoesNotContain("fm2_wrong", e.Message);
    }
}
