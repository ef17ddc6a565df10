using System.Net;
using Microsoft.AspNetCore.Http;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Health.Checks;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Certificate, JWKS, DNS and threshold behaviour of the health checks, against real local servers.</summary>
public class HealthKindsTests(TestServers servers)
{
    private async Task<HealthCheckResult> Check(HealthCheckTarget target, HealthCheckOptions? options = null) =>
        (await HealthCheckSessionTests.RunAll(options ?? new HealthCheckOptions(), new SecretResolver(environment: servers.Lookup), target)).Single();

    [Fact]
    public async Task A_valid_certificate_reports_its_expiry_and_meets_the_condition()
    {
        using var certs = new TestCertificates();
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"), certs.Server);
        var r = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", CaCertificatePath = certs.CaPath, Conditions = ["[CERTIFICATE_EXPIRATION] > 14d", "[STATUS] == 200"] });
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Equal(28.0, r.Data["CertificateDaysLeft"]);
        Assert.Equal(true, r.Data["CertificateChainValid"]);
        Assert.Equal(true, r.Data["CertificateHostNameMatch"]);
        Assert.Contains("certificate expires in 28 days", r.Reason);
        var tooSoon = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", CaCertificatePath = certs.CaPath, Conditions = ["[CERTIFICATE_EXPIRATION] > 30d"] });
        Assert.Equal(HealthStatus.Unhealthy, tooSoon.Status);
        Assert.Contains("[CERTIFICATE_EXPIRATION] (", tooSoon.Reason);
    }

    [Fact]
    public async Task An_expired_certificate_fails_and_is_described()
    {
        using var certs = new TestCertificates(leafNotAfterDays: -2);
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"), certs.Server);
        var strict = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", CaCertificatePath = certs.CaPath });
        Assert.Equal(HealthStatus.Unhealthy, strict.Status);
        Assert.Contains("TLS", strict.Reason);
        // With the handshake allowed, the certificate itself is still inspected and the condition fails on it.
        var inspected = await Check(new HealthCheckTarget { Address = server.BaseUrl + "/", CaCertificatePath = certs.CaPath, SkipCertificateCheck = true, Conditions = ["[CERTIFICATE_EXPIRATION] > 14d"] });
        Assert.Equal(HealthStatus.Unhealthy, inspected.Status);
        Assert.Equal(false, inspected.Data["CertificateChainValid"]);
        Assert.True((double)inspected.Data["CertificateDaysLeft"]! < 0);
        Assert.Contains("NotTimeValid", inspected.Reason);
    }

    [Fact]
    public async Task A_certificate_for_another_host_is_a_name_mismatch()
    {
        using var certs = new TestCertificates(dnsName: "other.opsrunbook.test");
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok"), certs.Server);
        var url = server.BaseUrl.Replace("localhost", "127.0.0.1", StringComparison.Ordinal) + "/";
        var strict = await Check(new HealthCheckTarget { Address = url, CaCertificatePath = certs.CaPath });
        Assert.Equal(HealthStatus.Unhealthy, strict.Status);
        var inspected = await Check(new HealthCheckTarget { Address = url, CaCertificatePath = certs.CaPath, SkipCertificateCheck = true, CheckCertificate = true });
        Assert.Equal(false, inspected.Data["CertificateHostNameMatch"]);
        Assert.Contains("certificate is not for 127.0.0.1", inspected.Reason);
    }

    [Fact]
    public async Task The_sandbox_jwks_is_a_valid_key_set()
    {
        var r = await Check(new HealthCheckTarget { Name = "jwks", Kind = TargetKind.Jwks, Address = servers["OPSRUNBOOK_APP_URL"] + "/.well-known/jwks.json" });
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Equal(1, r.Data["KeyCount"]);
        Assert.Contains("sandbox-1", r.Reason);
    }

    [Theory]
    [InlineData("""{"keys":[]}""", "the key set is empty")]
    [InlineData("""{"nokeys":1}""", "no \"keys\" array")]
    [InlineData("""{"keys":[{"kty":"RSA","kid":"a","n":"x","e":"AQAB","d":"secret"}]}""", "exposes private key material (d)")]
    [InlineData("""{"keys":[{"kty":"RSA","kid":"a","e":"AQAB"}]}""", "lacks 'n'")]
    [InlineData("""{"keys":[{"kty":"XYZ"}]}""", "unknown kty 'XYZ'")]
    [InlineData("""<html>""", "not JSON")]
    public async Task An_invalid_jwks_is_unhealthy_with_the_reason(string body, string problem)
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync(body));
        var r = await Check(new HealthCheckTarget { Kind = TargetKind.Jwks, Address = server.BaseUrl + "/.well-known/jwks.json" });
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains(problem, r.Reason);
    }

    [Theory]
    // RFC 7517 §5: verifiers SHOULD ignore keys with a kty they do not understand (a new one: AKP, post-quantum ML-DSA).
    [InlineData("""{"keys":[{"kty":"AKP","kid":"pq","alg":"ML-DSA-44","pub":"x"},{"kty":"RSA","kid":"a","n":"x","e":"AQAB"}]}""", "ignored as RFC 7517 §5 says: key 0 has unknown kty 'AKP'")]
    // ...and keys missing required members, while another key is usable.
    [InlineData("""{"keys":[{"kty":"RSA","kid":"old","e":"AQAB"},{"kty":"EC","kid":"a","crv":"P-256","x":"x","y":"y"}]}""", "key 0 (RSA) lacks 'n'")]
    // RFC 7517 §4.5: distinct kids are a SHOULD; the same key published as RSA and as EC under one kid is its own example.
    [InlineData("""{"keys":[{"kty":"RSA","kid":"a","n":"x","e":"AQAB"},{"kty":"EC","kid":"a","crv":"P-256","x":"x","y":"y"}]}""", "2 key(s) (a, a)")]
    [InlineData("""{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"x","y":"y"},{"kty":"EC","kid":"a","crv":"P-256","x":"x","y":"y"}]}""", "2 key(s) (a, a)")]
    public async Task A_jwks_a_verifier_can_use_is_healthy_whatever_else_it_holds(string body, string said)
    {
        await using var server = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync(body));
        var r = await Check(new HealthCheckTarget { Kind = TargetKind.Jwks, Address = server.BaseUrl + "/.well-known/jwks.json" });
        Assert.True(r.Status == HealthStatus.Healthy, r.Reason);
        Assert.Contains(said, r.Reason);
    }

    private string Dns(string name, string type = "A") => $"dns://127.0.0.1:{servers["OPSRUNBOOK_DNS_PORT"]}/{name}?type={type}";

    [Fact]
    public async Task Dns_names_resolve_through_a_real_server()
    {
        var a = await Check(new HealthCheckTarget { Address = Dns("app.opsrunbook.test"), Conditions = ["[DNS_RCODE] == NOERROR", "[BODY] == 127.0.0.1"] });
        Assert.Equal(TargetKind.Dns, a.Kind);
        Assert.Equal(HealthStatus.Healthy, a.Status);
        Assert.Equal(["127.0.0.1"], (IReadOnlyList<string>)a.Data["Answers"]!);
        var txt = await Check(new HealthCheckTarget { Address = Dns("opsrunbook.test", "TXT") });
        Assert.Equal(["v=opsrunbook"], (IReadOnlyList<string>)txt.Data["Answers"]!);
        var mx = await Check(new HealthCheckTarget { Address = Dns("opsrunbook.test", "MX") });
        Assert.Equal(["10 mail.opsrunbook.test"], (IReadOnlyList<string>)mx.Data["Answers"]!);
        var cname = await Check(new HealthCheckTarget { Address = Dns("www.opsrunbook.test") });
        Assert.Contains("app.opsrunbook.test", (IReadOnlyList<string>)cname.Data["Answers"]!);
    }

    [Fact]
    public async Task A_dns_answer_too_big_for_udp_is_fetched_over_tcp()
    {
        // 5 KB of TXT: over UDP the server answers truncated and empty (the hand-written client stopped there, "no
        // answer"); DnsClient.NET sees the TC bit and asks again over TCP.
        var big = await Check(new HealthCheckTarget { Address = Dns("big.opsrunbook.test", "TXT") });
        Assert.Equal(HealthStatus.Healthy, big.Status);
        var text = Assert.Single((IReadOnlyList<string>)big.Data["Answers"]!);
        Assert.Equal(20 * 250, text.Length);
        Assert.StartsWith("01xx", text);
        Assert.Contains("20xx", text);
    }

    [Fact]
    public async Task Dns_failures_carry_the_response_code()
    {
        var nx = await Check(new HealthCheckTarget { Address = Dns("nothing-here.opsrunbook.test") });
        Assert.Equal(HealthStatus.Unhealthy, nx.Status);
        Assert.Equal("NXDOMAIN", nx.Data["ResponseCode"]);
        var expected = await Check(new HealthCheckTarget { Address = Dns("nothing-here.opsrunbook.test"), Conditions = ["[DNS_RCODE] == NXDOMAIN"] });
        Assert.Equal(HealthStatus.Healthy, expected.Status);
        var refused = await Check(new HealthCheckTarget { Address = Dns("elsewhere.invalid") });
        Assert.Equal("REFUSED", refused.Data["ResponseCode"]);
    }

    [Fact]
    public async Task The_system_resolver_answers_localhost()
    {
        var r = await Check(new HealthCheckTarget { Address = "dns:///localhost?type=A" });
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Contains("127.0.0.1", (IReadOnlyList<string>)r.Data["Answers"]!);
    }

    [Theory]
    [InlineData("dns://127.0.0.1/", "names no host")]
    [InlineData("dns://127.0.0.1/x?type=SRV", "not supported")]
    [InlineData("dns://dns.google/x", "must be an IP address")]
    [InlineData("dns://127.0.0.1/x?ttl=1", "not a DNS target option")]
    public void Bad_dns_targets_say_what_to_fix(string address, string problem)
    {
        var ex = Assert.Throws<ArgumentException>(() => DnsCheck.Parse(address));
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public async Task A_redis_replica_with_its_link_up_is_healthy_and_with_it_down_unhealthy()
    {
        var up = await Check(new HealthCheckTarget { Kind = TargetKind.Redis, Connection = SecretValue.Parse("env:OPSRUNBOOK_REDIS_REPLICA_URL") });
        Assert.Equal(HealthStatus.Healthy, up.Status);
        Assert.Equal("slave", up.Data["Role"]);
        Assert.Equal("up", up.Data["MasterLinkStatus"]);
        var down = await Check(new HealthCheckTarget { Kind = TargetKind.Redis, Connection = SecretValue.Parse("env:OPSRUNBOOK_REDIS_BROKEN_REPLICA_URL") });
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.Contains("replica link", down.Reason);
        Assert.Contains("is down", down.Reason);
    }

    [Fact]
    public async Task Postgres_reports_replication_and_connection_usage()
    {
        var primary = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse("env:OPSRUNBOOK_DATABASE_URL") });
        Assert.Equal(HealthStatus.Healthy, primary.Status);
        Assert.Equal(1, primary.Data["Replicas"]);
        Assert.True((double)primary.Data["ReplicaLagSeconds"]! < 10);
        Assert.InRange((int)primary.Data["Connections"]!, 1, 100);
        Assert.Equal(100, primary.Data["MaxConnections"]);
        var replica = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse("env:OPSRUNBOOK_REPLICA_DATABASE_URL") });
        Assert.Equal("streaming", replica.Data["WalReceiver"]);
        Assert.True((double)replica.Data["ReplicaLagBytes"]! >= 0);
    }

    [Fact]
    public async Task Thresholds_turn_measured_values_into_degraded_or_unhealthy()
    {
        // Levels set so that the real, small values cross them: the wiring, not the server, is under test.
        var warnUsage = ThresholdProfile.Defaults.With("t", [new ThresholdRule("db_connection_usage_percent", 0.0001, null)]);
        var degraded = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse("env:OPSRUNBOOK_DATABASE_URL"), Thresholds = warnUsage });
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains("connection usage % ", degraded.Reason);
        Assert.Contains("is warning (warning > 0.0001)", degraded.Reason);

        var critical = ThresholdProfile.Defaults.With("t", [new ThresholdRule("redis_memory", null, 0.0001)]);
        var redis = await Check(new HealthCheckTarget { Kind = TargetKind.Redis, Connection = SecretValue.Parse("env:OPSRUNBOOK_REDIS_URL"), Thresholds = critical });
        Assert.Equal(HealthStatus.Unhealthy, redis.Status);
        Assert.Contains("memory % ", redis.Reason);

        var lagRule = ThresholdProfile.Defaults.With("t", [new ThresholdRule("replica_lag_bytes", -1, null)]);
        var lag = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse("env:OPSRUNBOOK_REPLICA_DATABASE_URL"), Thresholds = lagRule });
        Assert.Equal(HealthStatus.Degraded, lag.Status);
        Assert.Contains("replica lag bytes", lag.Reason);
    }

    [Fact]
    public async Task Environment_thresholds_reach_the_targets()
    {
        var text = """
            { "system": "x", "environments": { "e": {
                "thresholdProfile": "cardmint",
                "thresholds": { "pool_utilization": { "warning": 0.0001, "critical": 99 }, "db_latency_ms": { "warning": 600000, "critical": 600000 } },
                "database": { "connection": "env:OPSRUNBOOK_DATABASE_URL" } } } }
            """;
        var env = Environments.RunbookConfigLoader.Parse(text, "runbook.json").GetEnvironment("e");
        var profile = env.GetThresholdProfile();
        Assert.Equal(30, profile.RuleFor("replica_lag")!.Critical);
        Assert.Equal(0.0001, profile.RuleFor("db_connection_usage_percent")!.Warning);
        // The profile's own latency rule (critical above 150 ms) is lifted: a busy machine must not decide this test.
        Assert.Equal(600000, profile.RuleFor("db_latency_ms")!.Critical);
        var r = await Check(env.GetHealthCheckTargets().Single());
        Assert.True(r.Status == HealthStatus.Degraded, $"{r.Status}: {r.Reason}");
        Assert.Contains("connections", r.Reason, StringComparison.OrdinalIgnoreCase);
    }
}
