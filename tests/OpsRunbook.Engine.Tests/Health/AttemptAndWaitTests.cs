using System.Collections;
using Microsoft.AspNetCore.Http;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

public class AttemptAndWaitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A server that answers each request with the next status of <paramref name="script"/> (the last repeats).</summary>
    private static Task<FakeHttpServer> Scripted(params int[] script) =>
        FakeHttpServer.StartAsync((ctx, n) =>
        {
            ctx.Response.StatusCode = script[Math.Min(n, script.Length) - 1];
            return Task.CompletedTask;
        });

    private static async Task<HealthCheckResult> Check(string url, int failureThreshold, int successThreshold)
    {
        var options = new HealthCheckOptions { FailureThreshold = failureThreshold, SuccessThreshold = successThreshold, RetryDelay = TimeSpan.FromMilliseconds(5) };
        return (await HealthCheckSessionTests.RunAll(options, new SecretResolver(), new HealthCheckTarget { Address = url })).Single();
    }

    [Fact]
    public async Task Unhealthy_only_after_failure_threshold_consecutive_failures()
    {
        await using var down = await Scripted(503);
        var r = await Check(down.BaseUrl + "/", failureThreshold: 3, successThreshold: 1);
        Assert.Equal((HealthStatus.Unhealthy, 3), (r.Status, r.Attempts));
        Assert.Equal(3, down.Requests);
    }

    [Fact]
    public async Task A_pass_before_the_threshold_ends_the_attempts()
    {
        await using var blip = await Scripted(503, 200);
        var r = await Check(blip.BaseUrl + "/", failureThreshold: 3, successThreshold: 1);
        Assert.Equal((HealthStatus.Healthy, 2), (r.Status, r.Attempts));
    }

    [Fact]
    public async Task Success_threshold_needs_consecutive_passes()
    {
        await using var recovering = await Scripted(200, 503, 200, 200);
        var r = await Check(recovering.BaseUrl + "/", failureThreshold: 3, successThreshold: 2);
        Assert.Equal((HealthStatus.Healthy, 4), (r.Status, r.Attempts));
    }

    [Fact]
    public async Task A_flapping_target_is_degraded_and_says_so()
    {
        await using var flapping = await Scripted(503, 200, 503, 200, 503, 200, 503, 200);
        var r = await Check(flapping.BaseUrl + "/", failureThreshold: 2, successThreshold: 2);
        Assert.Equal(HealthStatus.Degraded, r.Status);
        Assert.Equal(5, r.Attempts);
        Assert.StartsWith("flapping: 3 of 5 attempts failed, never 2 in a row", r.Reason);
    }

    [Fact]
    public async Task Wait_emits_a_report_per_round_until_healthy()
    {
        await using var server = await Scripted(503, 503, 200);
        var target = new HealthCheckTarget { Name = "api", Address = server.BaseUrl + "/" };
        var rounds = new List<HealthReport>();
        await foreach (var r in HealthWait.RunAsync([target], new HealthCheckOptions(), new SecretResolver(), HealthStatus.Healthy,
            TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(50), Ct))
        {
            rounds.Add(r);
        }
        Assert.Equal([1, 2, 3], rounds.Select(r => r.Round!.Value));
        Assert.Equal([HealthStatus.Unhealthy, HealthStatus.Unhealthy, HealthStatus.Healthy], rounds.Select(r => r.Status));
    }

    [Fact]
    public async Task Wait_times_out_naming_what_still_fails()
    {
        await using var server = await Scripted(503);
        var target = new HealthCheckTarget { Name = "api", Address = server.BaseUrl + "/" };
        var rounds = 0;
        var ex = await Assert.ThrowsAsync<HealthWaitTimeoutException>(async () =>
        {
            await foreach (var _ in HealthWait.RunAsync([target], new HealthCheckOptions(), new SecretResolver(), HealthStatus.Healthy,
                TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(200), Ct))
            {
                rounds++;
            }
        });
        Assert.InRange(rounds, 2, 4);
        Assert.StartsWith("not Healthy after 600ms", ex.Message);
        Assert.Contains("api: Unhealthy (HTTP 503", ex.Message);
        Assert.Equal(HealthStatus.Unhealthy, ex.LastReport.Status);
    }

    [Fact]
    public async Task Waiting_until_degraded_accepts_a_degraded_target()
    {
        await using var slow = await FakeHttpServer.StartAsync(async (ctx, _) => { await Task.Delay(60); await ctx.Response.WriteAsync("ok"); });
        var target = new HealthCheckTarget { Address = slow.BaseUrl + "/", DegradedAfter = TimeSpan.FromMilliseconds(10) };
        var reports = new List<HealthReport>();
        await foreach (var r in HealthWait.RunAsync([target], new HealthCheckOptions(), new SecretResolver(), HealthStatus.Degraded, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10), Ct))
        {
            reports.Add(r);
        }
        Assert.Equal(HealthStatus.Degraded, Assert.Single(reports).Status);
    }

    [Fact]
    public void Threshold_tables_come_from_hashtables_with_clear_errors()
    {
        var rules = ThresholdProfile.RulesFrom(new Hashtable
        {
            ["cpu"] = new Hashtable { ["warning"] = 70, ["critical"] = "85" },
            ["uptime"] = new Hashtable { ["Warning"] = 99.9, ["direction"] = "below" },
        });
        Assert.Contains(new ThresholdRule("cpu_percent", 70, 85, Source: "-Threshold"), rules);
        Assert.Contains(rules, r => r.Metric == "uptime_percent" && r.Direction == ThresholdDirection.Below && r.Warning == 99.9);
        Assert.Contains("@{ warning = 70; critical = 85 }", Assert.Throws<ArgumentException>(() => ThresholdProfile.RulesFrom(new Hashtable { ["cpu"] = 70 })).Message);
        Assert.Contains("unknown key 'warn'", Assert.Throws<ArgumentException>(() => ThresholdProfile.RulesFrom(new Hashtable { ["cpu"] = new Hashtable { ["warn"] = 1 } })).Message);
        Assert.Contains("must be a number", Assert.Throws<ArgumentException>(() => ThresholdProfile.RulesFrom(new Hashtable { ["cpu"] = new Hashtable { ["warning"] = "high" } })).Message);
        Assert.Contains("above", Assert.Throws<ArgumentException>(() => ThresholdProfile.RulesFrom(new Hashtable { ["cpu"] = new Hashtable { ["warning"] = 1, ["direction"] = "up" } })).Message);
    }

    [Fact]
    public void Metrics_endpoints_load_from_the_environment()
    {
        var env = Environments.RunbookConfigLoader.Parse("""
            { "system": "s", "environments": { "e": { "metrics": [ { "name": "app", "url": "${OPSRUNBOOK_T_UNSET:-http://127.0.0.1:9}/metrics", "timeout": "2s" } ] } } }
            """, "r.json").GetEnvironment("e");
        Assert.Equal("http://127.0.0.1:9/metrics", env.Metrics.Single().ExpandedUri().ToString());
        var bad = Assert.Throws<Environments.RunbookConfigException>(() => Environments.RunbookConfigLoader.Parse("""
            { "system": "s", "environments": { "e": { "metrics": [ { "name": "app", "url": "tcp://x:1" } ] } } }
            """, "r.json"));
        Assert.Equal("environments.e.metrics[0].url", bad.Field);
    }
}
