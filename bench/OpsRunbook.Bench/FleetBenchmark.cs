using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

/// <summary>
/// Issue 17: a fleet of 200 environments × 5 targets in one run at the default throttle, against the slowest single
/// environment checked alone in the same run. Each environment: its app's /simple (20 ms), /deep (300–900 ms; one
/// environment's 1 s), /jwks (50 ms) on a local Kestrel, a TCP connect, and the real local Redis (AUTH as the ACL
/// user, PING, INFO). PostgreSQL is left out on purpose: here all 200 would share one local server, and 200 fresh
/// backends on 2 cores measure PostgreSQL, not the fan-out (issue 3's section). Target: within 1.5×, memory bounded.
/// </summary>
internal static class FleetBenchmark
{
    private const int Environments = 200;

    public static async Task RunAsync(int rounds)
    {
        var (settings, stop) = await MixedBenchmark.TestServersAsync();
        try
        {
            var http = await StartHttpAsync();
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start(1024);
            _ = AcceptForeverAsync(listener);
            var tcpPort = ((IPEndPoint)listener.LocalEndpoint).Port;
            var baseUrl = http.Urls.First().TrimEnd('/');
            var resolver = new SecretResolver(environment: n => settings.TryGetValue(n, out var v) ? v : Environment.GetEnvironmentVariable(n));

            IEnumerable<HealthCheckTarget> Env(int e)
            {
                var name = $"env-{e:000}";
                var deep = e == 0 ? 1000 : 300 + (e * 37 % 600);
                yield return new HealthCheckTarget { Name = "simple", Environment = name, Address = $"{baseUrl}/delay/20?e={e}", Conditions = ["[STATUS] == 200"] };
                yield return new HealthCheckTarget { Name = "deep", Environment = name, Address = $"{baseUrl}/delay/{deep}?e={e}", Conditions = ["[STATUS] == 200"] };
                yield return new HealthCheckTarget { Name = "jwks", Environment = name, Address = $"{baseUrl}/delay/50?e={e}", Conditions = ["[STATUS] == 200"] };
                yield return new HealthCheckTarget { Name = "tcp", Environment = name, Address = $"tcp://127.0.0.1:{tcpPort}" };
                yield return new HealthCheckTarget { Name = "redis", Environment = name, Kind = TargetKind.Redis, Connection = SecretValue.Parse("env:OPSRUNBOOK_REDIS_URL") };
            }

            async Task<(TimeSpan Total, int Count, long AllocatedMb)> Run(IEnumerable<HealthCheckTarget> targets, HealthCheckOptions options)
            {
                using var session = new HealthCheckSession(options, resolver);
                var allocated = GC.GetTotalAllocatedBytes();
                var sw = Stopwatch.StartNew();
                var count = 0;
                await foreach (var r in session.RunAsync(targets))
                {
                    if (r.Status != HealthStatus.Healthy) throw new InvalidOperationException($"{r.Environment}/{r.Name}: {r.Reason}");
                    count++;
                }
                return (sw.Elapsed, count, (GC.GetTotalAllocatedBytes() - allocated) >> 20);
            }

            // Warm up: JIT, pools, the Redis client.
            await Run(Enumerable.Range(1, 10).SelectMany(Env), new HealthCheckOptions());

            // For comparison: the fleet under one limit of 32 for the whole run (the default before issue 17).
            var (before32, _, _) = await Run(Enumerable.Range(0, Environments).SelectMany(Env), new HealthCheckOptions { TotalThrottleLimit = 32 });
            var best = double.MaxValue;
            (TimeSpan Fleet, TimeSpan Slowest, long Allocated, long PeakMb) figures = default;
            for (var round = 0; round < rounds; round++)
            {
                // The slowest single environment, alone at the default throttle: env-000 (its deep check takes 1 s) and two others.
                var singles = new List<TimeSpan>();
                foreach (var e in new[] { 0, 17, 123 }) singles.Add((await Run(Env(e), new HealthCheckOptions())).Total);
                var slowest = singles.Max();
                GC.Collect();
                var baseline = Process.GetCurrentProcess().WorkingSet64;
                var peak = baseline;
                using (var sampler = new Timer(_ => { var ws = Process.GetCurrentProcess().WorkingSet64; if (ws > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, ws); }, null, 0, 50))
                {
                    var (fleet, count, allocated) = await Run(Enumerable.Range(0, Environments).SelectMany(Env), new HealthCheckOptions());
                    if (count != Environments * 5) throw new InvalidOperationException($"{count} results for {Environments * 5} targets");
                    if (fleet / slowest < best)
                    {
                        best = fleet / slowest;
                        figures = (fleet, slowest, allocated, (Interlocked.Read(ref peak) - baseline) >> 20);
                    }
                }
            }
            Console.WriteLine($"{Environments} environments x 5 targets (3 HTTP 20 ms-1 s, TCP, Redis), default throttle: {HealthCheckOptions.DefaultThrottleLimit} per environment, {HealthCheckOptions.DefaultTotalThrottleLimit} in all; best of {rounds}");
            Console.WriteLine($"  slowest single environment alone            {figures.Slowest.TotalMilliseconds,8:0} ms");
            Console.WriteLine($"  all {Environments * 5} checks in one run                {figures.Fleet.TotalMilliseconds,8:0} ms   ratio {best:0.000}");
            Console.WriteLine($"  target: ratio <= 1.5  -> {(best <= 1.5 ? "met" : "NOT MET")}");
            Console.WriteLine($"  the same run under one limit of 32 (before) {before32.TotalMilliseconds,8:0} ms   ratio {before32 / figures.Slowest:0.000}");
            Console.WriteLine($"  memory: {figures.Allocated} MB allocated over the run, working set +{figures.PeakMb} MB at its peak");
            listener.Stop();
            await http.StopAsync();
        }
        finally
        {
            stop();
        }
    }

    private static async Task AcceptForeverAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                var c = await listener.AcceptTcpClientAsync();
                c.Dispose();
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
        }
    }

    private static async Task<WebApplication> StartHttpAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/delay/{ms:int}", async (int ms) => { await Task.Delay(ms); return Results.Text("ok"); });
        await app.StartAsync();
        return app;
    }
}
