using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>HTTP and TCP checks against real Kestrel servers on 127.0.0.1, and the session's concurrency, retries and streaming.</summary>
public class HealthCheckSessionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static async Task<List<HealthCheckResult>> RunAll(HealthCheckOptions options, SecretResolver resolver, params HealthCheckTarget[] targets)
    {
        using var session = new HealthCheckSession(options, resolver);
        var results = new List<HealthCheckResult>();
        await foreach (var r in session.RunAsync(targets, Ct)) results.Add(r);
        return results;
    }

    private static async Task<HealthCheckResult> Check(HealthCheckTarget target, HealthCheckOptions? options = null) =>
        (await RunAll(options ?? new HealthCheckOptions(), new SecretResolver(), target)).Single();

    private static int RefusedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public async Task A_passing_http_endpoint_is_healthy_with_data()
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsJsonAsync(new { status = "ok", checks = new { db = "ok" } }));
        var r = await Check(new HealthCheckTarget { Name = "deep", Address = server.BaseUrl + "/api/health", Conditions = ["[STATUS] == 200", "[BODY].status == ok", "[BODY].checks.db == ok", "[RESPONSE_TIME] < 5000"] });
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Equal(200, r.Data["StatusCode"]);
        Assert.Equal(4, r.Conditions.Count);
        Assert.All(r.Conditions, c => Assert.True(c.Success));
        Assert.StartsWith("HTTP 200", r.Reason);
        Assert.True(r.LatencyMs > 0);
        Assert.Equal("deep", r.Name);
        Assert.Equal(TargetKind.Http, r.Kind);
    }

    [Fact]
    public async Task A_failing_condition_is_unhealthy_and_says_which()
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = 503;
            return ctx.Response.WriteAsJsonAsync(new { status = "degraded" });
        });
        var r = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", Conditions = ["[STATUS] == any(200, 204)", "[BODY].status == ok"] });
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("[STATUS] (503) == any(200, 204)", r.Reason);
        Assert.Contains("[BODY].status (degraded) == ok", r.Reason);
    }

    [Fact]
    public async Task Without_conditions_2xx_and_3xx_are_healthy_and_errors_are_not()
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = ctx.Request.Path == "/ok" ? 204 : 500;
            return Task.CompletedTask;
        });
        Assert.Equal(HealthStatus.Healthy, (await Check(new HealthCheckTarget { Address = server.BaseUrl + "/ok" })).Status);
        var bad = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/bad" });
        Assert.Equal(HealthStatus.Unhealthy, bad.Status);
        Assert.Contains("HTTP 500", bad.Reason);
    }

    [Fact]
    public async Task A_slow_answer_past_degradedAfter_is_degraded()
    {
        await using var server = await FakeHttpServer.StartAsync(async (ctx, _) =>
        {
            await Task.Delay(150);
            await ctx.Response.WriteAsync("ok");
        });
        var r = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", DegradedAfter = TimeSpan.FromMilliseconds(50) });
        Assert.Equal(HealthStatus.Degraded, r.Status);
        Assert.Contains("degraded threshold", r.Reason);
    }

    [Fact]
    public async Task A_timeout_is_unhealthy_with_a_readable_reason()
    {
        await using var server = await FakeHttpServer.StartAsync(async (ctx, _) => await Task.Delay(5000, ctx.RequestAborted));
        var sw = Stopwatch.StartNew();
        var r = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", Timeout = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("within 300ms", r.Reason);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), "the timeout must cut the check short");
    }

    [Fact]
    public async Task A_refused_port_is_unhealthy_for_http_and_tcp()
    {
        var port = RefusedPort();
        var http = await Check(new HealthCheckTarget { Address = $"http://127.0.0.1:{port}/" });
        Assert.Equal(HealthStatus.Unhealthy, http.Status);
        Assert.Contains("refused", http.Reason, StringComparison.OrdinalIgnoreCase);
        var tcp = await Check(new HealthCheckTarget { Address = $"tcp://127.0.0.1:{port}" });
        Assert.Equal(HealthStatus.Unhealthy, tcp.Status);
        Assert.Contains("connection refused", tcp.Reason);
    }

    [Fact]
    public async Task A_listening_tcp_port_is_healthy()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var r = await Check(new HealthCheckTarget { Name = "tcp", Address = $"127.0.0.1:{port}", Conditions = ["[CONNECTED] == true"] });
            Assert.Equal(TargetKind.Tcp, r.Kind);
            Assert.Equal(HealthStatus.Healthy, r.Status);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task Tls_failures_are_unhealthy_unless_the_ca_is_given_or_the_check_skipped()
    {
        using var certs = new TestCertificates();
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"), certs.Server);
        var url = server.BaseUrl + "/";
        var untrusted = await Check(new HealthCheckTarget { Address = url });
        Assert.Equal(HealthStatus.Unhealthy, untrusted.Status);
        Assert.Contains("TLS", untrusted.Reason);
        Assert.Contains("SkipCertificateCheck", untrusted.Reason);
        Assert.Equal(HealthStatus.Healthy, (await Check(new HealthCheckTarget { Address = url, CaCertificatePath = certs.CaPath })).Status);
        Assert.Equal(HealthStatus.Healthy, (await Check(new HealthCheckTarget { Address = url }, new HealthCheckOptions { SkipCertificateCheck = true })).Status);
        // A trusted CA does not excuse a name mismatch.
        var mismatch = await Check(new HealthCheckTarget { Address = url.Replace("localhost", "127.0.0.2", StringComparison.Ordinal), CaCertificatePath = certs.CaPath, Timeout = TimeSpan.FromSeconds(3) });
        Assert.Equal(HealthStatus.Unhealthy, mismatch.Status);
    }

    [Fact]
    public async Task Certificate_expiration_is_the_first_expiry_in_the_presented_chain_and_names_it()
    {
        // Gatus reads the leaf only (PeerCertificates[0]); clients fail when any presented certificate expires.
        var (leaf, chain, root) = TestCertificates.ShortLivedIntermediate(intermediateDays: 5, leafDays: 60);
        try
        {
            await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"), leaf, chain: chain);
            var r = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", CaCertificatePath = root, Conditions = ["[STATUS] == 200", "[CERTIFICATE_EXPIRATION] > 14d"] });
            Assert.Equal(HealthStatus.Unhealthy, r.Status);
            Assert.Contains("CN=OpsRunbook Test Intermediate", r.Reason);
            Assert.Equal("CN=OpsRunbook Test Intermediate", r.Data["CertificateFirstExpiring"]);
            Assert.InRange((double)r.Data["CertificateDaysLeft"]!, 3, 5);
            Assert.True(((DateTimeOffset)r.Data["CertificateNotAfter"]!) > DateTimeOffset.UtcNow.AddDays(50)); // the leaf's own
            Assert.Equal(true, r.Data["CertificateChainValid"]);
        }
        finally
        {
            File.Delete(root);
            leaf.Dispose();
            foreach (var c in chain) c.Dispose();
        }
    }

    [Fact]
    public async Task A_token_in_a_url_variable_is_shown_as_the_variable_and_masked_in_every_reason()
    {
        // runbook.json allows ${VAR} in an endpoint URL, and a token often lives there (?token=${STATUS_TOKEN}).
        var variable = "OPSRUNBOOK_TEST_URL_TOKEN_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        const string token = "tok-9f8e7d6c5b4a";
        System.Environment.SetEnvironmentVariable(variable, token);
        try
        {
            // The endpoint answers with the token it was given, as a debug echo might.
            await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("echo " + ctx.Request.Query["token"]));
            var config = OpsRunbook.Engine.Environments.RunbookConfigLoader.Parse($$"""
                { "system": "s", "environments": { "p": { "endpoints": [
                  { "name": "status", "url": "{{server.BaseUrl}}/status?token=${{{variable}}}", "expect": ["[STATUS] == 200", "[BODY] == ok"] } ] } } }
                """, "runbook.json");
            var target = config.GetEnvironment("p").GetHealthCheckTargets().Single();
            Assert.Contains(token, target.Address);                            // what is connected to
            Assert.Equal($"{server.BaseUrl}/status?token=${{{variable}}}", target.DisplayAddress);
            Assert.DoesNotContain(token, target.ToString());
            var r = await Check(target);
            Assert.Equal(HealthStatus.Unhealthy, r.Status);
            var everything = r.Reason + string.Join("", r.Conditions.Select(c => c.Description)) + r.Target;
            Assert.DoesNotContain(token, everything);
            var report = new OpsRunbook.Engine.Reporting.ReportWriter();
            report.Add(r);
            foreach (var format in new[] { OpsRunbook.Engine.Reporting.ReportFormat.Markdown, OpsRunbook.Engine.Reporting.ReportFormat.JUnit, OpsRunbook.Engine.Reporting.ReportFormat.Json })
            {
                Assert.DoesNotContain(token, report.Write(format, "t", DateTimeOffset.UtcNow).Content);
            }
            // A base URL in a variable is not a secret: failures still say where.
            var (baseUrl, baseDisplay, baseSecrets) = EnvTemplate.ExpandUrl("${APP_URL}/health", n => n == "APP_URL" ? "http://10.0.0.7:8080" : null);
            Assert.Equal(("http://10.0.0.7:8080/health", "http://10.0.0.7:8080/health", 0), (baseUrl, baseDisplay, baseSecrets.Count));
            Assert.Equal("https://${USER}:${PW}@h/x", EnvTemplate.ExpandUrl("https://${USER}:${PW}@h/x", n => n == "USER" ? "bob" : "hunter22").Display);
            Assert.Equal("https://hooks.example/services/${SLACK_TOKEN}", EnvTemplate.ExpandUrl("https://hooks.example/services/${SLACK_TOKEN}", _ => "T0/B0/xyz").Display);
            // A refused connection names the endpoint by its template too.
            var down = OpsRunbook.Engine.Environments.RunbookConfigLoader.Parse($$"""
                { "system": "s", "environments": { "p": { "endpoints": [ { "name": "down", "url": "http://127.0.0.1:1/x?token=${{{variable}}}" } ] } } }
                """, "runbook.json").GetEnvironment("p").GetHealthCheckTargets().Single();
            var refused = await Check(down);
            Assert.DoesNotContain(token, refused.Reason);
            Assert.Contains($"${{{variable}}}", refused.Reason);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public async Task Retries_an_unhealthy_outcome_and_counts_attempts()
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, n) =>
        {
            ctx.Response.StatusCode = n < 3 ? 503 : 200;
            return Task.CompletedTask;
        });
        var r = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/" }, new HealthCheckOptions { RetryCount = 3, RetryDelay = TimeSpan.FromMilliseconds(10) });
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Equal(3, r.Attempts);
        Assert.Equal(3, server.Requests);
    }

    [Fact]
    public async Task Gives_up_after_the_retries_and_reports_the_last_reason()
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = 502;
            return Task.CompletedTask;
        });
        var r = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/" }, new HealthCheckOptions { RetryCount = 2, RetryDelay = TimeSpan.Zero });
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Equal(3, r.Attempts);
        Assert.Contains("HTTP 502", r.Reason);
    }

    [Fact]
    public async Task Never_runs_more_checks_at_once_than_the_throttle_limit()
    {
        await using var server = await FakeHttpServer.StartAsync(async (ctx, _) =>
        {
            await Task.Delay(50);
            await ctx.Response.WriteAsync("ok");
        });
        var targets = Enumerable.Range(0, 24).Select(i => new HealthCheckTarget { Name = "t" + i, Address = $"{server.BaseUrl}/{i}" }).ToArray();
        var results = await RunAll(new HealthCheckOptions { ThrottleLimit = 4 }, new SecretResolver(), targets);
        Assert.Equal(24, results.Count);
        Assert.All(results, r => Assert.Equal(HealthStatus.Healthy, r.Status));
        Assert.InRange(server.MaxConcurrent, 2, 4);
    }

    [Fact]
    public async Task Each_environment_gets_its_own_limit_within_the_sessions_total()
    {
        // Requests wait until ten are in flight (or five seconds pass): a fleet must reach the total, never more, and no
        // environment more than its own limit.
        var inFlight = 0;
        var perEnvironment = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var maxPerEnvironment = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var ten = new TaskCompletionSource();
        await using var server = await FakeHttpServer.StartAsync(async (ctx, _) =>
        {
            var env = ctx.Request.Path.Value!.Split('/')[1];
            var now = perEnvironment.AddOrUpdate(env, 1, (_, n) => n + 1);
            maxPerEnvironment.AddOrUpdate(env, now, (_, m) => Math.Max(m, now));
            if (Interlocked.Increment(ref inFlight) >= 10) ten.TrySetResult();
            await Task.WhenAny(ten.Task, Task.Delay(5000));
            perEnvironment.AddOrUpdate(env, 0, (_, n) => n - 1);
            Interlocked.Decrement(ref inFlight);
            await ctx.Response.WriteAsync("ok");
        });
        var targets = new[] { "eu", "us", "ap" }.SelectMany(env => Enumerable.Range(0, 12).Select(i =>
            new HealthCheckTarget { Name = $"t{i}", Environment = env, Address = $"{server.BaseUrl}/{env}/{i}" })).ToArray();
        var results = await RunAll(new HealthCheckOptions { ThrottleLimit = 4, TotalThrottleLimit = 10 }, new SecretResolver(), targets);
        Assert.Equal(36, results.Count);
        Assert.True(ten.Task.IsCompleted, "ten checks of three environments were never in flight at once");
        Assert.Equal(10, server.MaxConcurrent);
        Assert.All(maxPerEnvironment.Values, m => Assert.InRange(m, 1, 4));
    }

    [Fact]
    public async Task Streams_results_as_they_complete_not_in_submission_order()
    {
        await using var server = await FakeHttpServer.StartAsync(async (ctx, _) =>
        {
            if (ctx.Request.Path == "/slow") await Task.Delay(1500);
            await ctx.Response.WriteAsync("ok");
        });
        using var session = new HealthCheckSession(new HealthCheckOptions(), new SecretResolver());
        session.Submit(new HealthCheckTarget { Name = "slow", Address = server.BaseUrl + "/slow" });
        session.Submit(new HealthCheckTarget { Name = "fast", Address = server.BaseUrl + "/fast" });
        var order = session.CompleteAndDrain(Ct).Select(r => r.Name).ToList();
        Assert.Equal(["fast", "slow"], order);
    }

    [Fact]
    public async Task A_result_can_be_taken_while_targets_are_still_being_submitted()
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"));
        using var session = new HealthCheckSession(new HealthCheckOptions(), new SecretResolver());
        session.Submit(new HealthCheckTarget { Name = "first", Address = server.BaseUrl + "/" });
        HealthCheckResult? early = null;
        var deadline = Stopwatch.StartNew();
        while (early is null && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (!session.TryTakeResult(out var r)) await Task.Delay(10, Ct);
            else early = r;
        }
        Assert.Equal("first", early?.Name);
        session.Submit(new HealthCheckTarget { Name = "second", Address = server.BaseUrl + "/" });
        Assert.Equal(["second"], session.CompleteAndDrain(Ct).Select(r => r.Name));
    }

    [Fact]
    public void Rejects_targets_that_cannot_be_checked_saying_what_to_fix()
    {
        using var session = new HealthCheckSession(new HealthCheckOptions(), new SecretResolver());
        Assert.Contains("not an http", Assert.Throws<ArgumentException>(() => session.Submit(new HealthCheckTarget { Kind = TargetKind.Http, Address = "ftp://x" })).Message, StringComparison.Ordinal);
        Assert.Contains("needs a Connection", Assert.Throws<ArgumentException>(() => session.Submit(new HealthCheckTarget { Name = "db", Kind = TargetKind.Postgres })).Message, StringComparison.Ordinal);
        Assert.Throws<Health.Conditions.ConditionSyntaxException>(() => session.Submit(new HealthCheckTarget { Address = "http://127.0.0.1/", Conditions = ["[STATUS] = 1"] }));
        Assert.Contains("password", Assert.Throws<ArgumentException>(() => new HealthCheckTarget { Address = "postgres://u:pw@h/db" }).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new HealthCheckSession(new HealthCheckOptions { ThrottleLimit = 0 }, new SecretResolver()));
    }

    [Fact]
    public void A_report_takes_the_worst_status_and_sorts_worst_first()
    {
        HealthCheckResult R(string name, HealthStatus s) => new() { Target = new HealthCheckTarget { Name = name, Address = "http://x/" }, Status = s, Reason = "", Environment = "prod" };
        var report = HealthReport.From([R("b", HealthStatus.Healthy), R("a", HealthStatus.Degraded), R("c", HealthStatus.Unhealthy), R("d", HealthStatus.Healthy)], TimeSpan.FromSeconds(1), DateTimeOffset.UtcNow);
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Equal(["c", "a", "b", "d"], report.Entries.Select(e => e.Name));
        Assert.Equal((2, 1, 1), (report.Healthy, report.Degraded, report.Unhealthy));
        Assert.Equal("prod", report.Environment);
        Assert.Equal(HealthStatus.Degraded, HealthReport.From([R("a", HealthStatus.Degraded), R("b", HealthStatus.Healthy)], TimeSpan.Zero, DateTimeOffset.UtcNow).Status);
        Assert.Equal(HealthStatus.Healthy, HealthReport.From([], TimeSpan.Zero, DateTimeOffset.UtcNow).Status);
    }

    [Fact]
    public void Describes_dns_failures_readably()
    {
        var target = new HealthCheckTarget { Address = "https://no-such-host.invalid/" };
        var ex = new HttpRequestException(HttpRequestError.NameResolutionError, "Name or service not known (no-such-host.invalid:443)");
        Assert.Equal("DNS lookup failed for https://no-such-host.invalid/", OpsRunbook.Engine.Health.Checks.TargetFailures.Describe(ex, target));
    }
}
