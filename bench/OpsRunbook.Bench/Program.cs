using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

// Health-check throughput (issue 2):
//  1. 1,000 HTTP targets on a local server that answers each after 100 ms, ThrottleLimit 100.
//     Ideal = ceil(1000/100) x 100 ms = 1.0 s; also a raw HttpClient + SemaphoreSlim(100) loop over the same
//     requests, measured in the same run. Target: HealthCheckSession within 1.25x the ideal.
//  2. 1,000 instant targets: per-check overhead of the session over the raw loop.
const int Targets = 1000;
const int Throttle = 100;
const int DelayMs = 100;
var rounds = args.Contains("--quick") ? 1 : 5;

var mode = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "all";
if (mode == "pipe-child") return PipeBenchmark.Child(args);
if (mode == "pipes")
{
    await PipeBenchmark.RunAsync();
    return 0;
}
if (mode == "import") return await ImportBenchmark.RunAsync(args);
if (mode == "fleet")
{
    await FleetBenchmark.RunAsync(args.Contains("--quick") ? 1 : 3);
    return 0;
}
if (mode == "logs-child") return LogBenchmark.Child(args);
if (mode == "logs") return await LogBenchmark.RunAsync(args);
if (mode == "backup")
{
    await BackupBenchmark.RunAsync(args);
    return 0;
}
if (mode is "mixed" or "all")
{
    await MixedBenchmark.RunAsync(args.Contains("--quick") ? 1 : 3);
    if (mode == "mixed") return 0;
    Console.WriteLine();
}

var app = await StartServerAsync();
var baseUrl = app.Urls.First().TrimEnd('/');
Console.WriteLine($"server {baseUrl}; {Targets} targets, throttle {Throttle}, {rounds} rounds (best of each reported)");

// Warm up both paths (JIT, connection pool).
await RawLoopAsync(baseUrl + "/instant", 200);
await SessionAsync(baseUrl + "/instant", 200);

var ideal = TimeSpan.FromMilliseconds(Math.Ceiling(Targets / (double)Throttle) * DelayMs);
var rawSlow = Best(rounds, () => RawLoopAsync(baseUrl + "/slow", Targets));
var sessionSlow = Best(rounds, () => SessionAsync(baseUrl + "/slow", Targets));
Console.WriteLine();
Console.WriteLine("1,000 targets x 100 ms, ThrottleLimit 100");
Console.WriteLine($"  ideal (ceil(1000/100) x 100 ms)      {ideal.TotalMilliseconds,8:0} ms");
Console.WriteLine($"  raw HttpClient + SemaphoreSlim(100)  {rawSlow.TotalMilliseconds,8:0} ms   ratio to ideal {rawSlow / ideal:0.000}");
Console.WriteLine($"  HealthCheckSession                   {sessionSlow.TotalMilliseconds,8:0} ms   ratio to ideal {sessionSlow / ideal:0.000}  ratio to raw {sessionSlow / rawSlow:0.000}");
Console.WriteLine($"  target: ratio to ideal <= 1.25  -> {(sessionSlow / ideal <= 1.25 ? "met" : "NOT MET")}");

var rawFast = Best(rounds, () => RawLoopAsync(baseUrl + "/instant", Targets));
var sessionFast = Best(rounds, () => SessionAsync(baseUrl + "/instant", Targets));
Console.WriteLine();
Console.WriteLine("1,000 instant targets, ThrottleLimit 100");
Console.WriteLine($"  raw HttpClient + SemaphoreSlim(100)  {rawFast.TotalMilliseconds,8:0} ms   {rawFast.TotalMilliseconds * 1000 / Targets,7:0} us/check");
Console.WriteLine($"  HealthCheckSession                   {sessionFast.TotalMilliseconds,8:0} ms   {sessionFast.TotalMilliseconds * 1000 / Targets,7:0} us/check   ratio to raw {sessionFast / rawFast:0.000}");
Console.WriteLine($"  per-check overhead of the session    {(sessionFast - rawFast).TotalMilliseconds * 1000 / Targets,8:0} us");

await app.StopAsync();
return 0;

static TimeSpan Best(int rounds, Func<Task<TimeSpan>> run)
{
    var best = TimeSpan.MaxValue;
    for (var i = 0; i < rounds; i++)
    {
        var t = run().GetAwaiter().GetResult();
        if (t < best) best = t;
    }
    return best;
}

static async Task<TimeSpan> RawLoopAsync(string url, int count)
{
    using var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) });
    using var gate = new SemaphoreSlim(Throttle);
    var sw = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
    {
        await gate.WaitAsync();
        try
        {
            using var response = await client.GetAsync($"{url}?i={i}");
            await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException("unexpected status");
        }
        finally
        {
            gate.Release();
        }
    }));
    return sw.Elapsed;
}

static async Task<TimeSpan> SessionAsync(string url, int count)
{
    using var session = new HealthCheckSession(new HealthCheckOptions { ThrottleLimit = Throttle }, new SecretResolver());
    var targets = Enumerable.Range(0, count).Select(i => new HealthCheckTarget { Name = "t" + i, Address = $"{url}?i={i}", Conditions = ["[STATUS] == 200"] });
    var sw = Stopwatch.StartNew();
    var healthy = 0;
    await foreach (var r in session.RunAsync(targets))
    {
        if (r.Status == HealthStatus.Healthy) healthy++;
    }
    var elapsed = sw.Elapsed;
    if (healthy != count) throw new InvalidOperationException($"{count - healthy} checks were not healthy");
    return elapsed;
}

static async Task<WebApplication> StartServerAsync()
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
    var app = builder.Build();
    app.MapGet("/slow", async () => { await Task.Delay(DelayMs); return Results.Text("ok"); });
    app.MapGet("/instant", () => Results.Text("ok"));
    await app.StartAsync();
    return app;
}
