using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Get-EndpointCertificate's engine against local TLS servers with certificates made for each case.</summary>
public class EndpointCertificateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<EndpointCertificate> ReadAsync(FakeHttpServer server, string? caPath, string? serverName = null) =>
        await EndpointCertificate.ReadAsync("web", "127.0.0.1", new Uri(server.BaseUrl).Port, serverName ?? "localhost", caPath, "production", TimeSpan.FromSeconds(10), Ct);

    [Theory]
    [InlineData(60, AlertSeverity.Normal, HealthStatus.Healthy)]
    [InlineData(15, AlertSeverity.Warning, HealthStatus.Degraded)]
    [InlineData(5, AlertSeverity.Critical, HealthStatus.Unhealthy)]
    public async Task Reads_the_chain_and_the_days_left_which_thresholds_grade_at_30_and_7(int days, AlertSeverity severity, HealthStatus status)
    {
        using var certs = new TestCertificates("localhost", days);
        await using var server = await FakeHttpServer.StartAsync((_, _) => Task.CompletedTask, certs.Server);
        var cert = await ReadAsync(server, certs.CaPath);
        Assert.Equal(status, cert.Status);
        Assert.Equal(status != HealthStatus.Healthy, cert.Reason.StartsWith("renew: ", StringComparison.Ordinal));
        Assert.InRange(cert.DaysRemaining!.Value, days - 1, days);
        Assert.Equal("CN=localhost", cert.Subject);
        Assert.Equal("CN=OpsRunbook Unit Test CA", cert.Issuer);
        Assert.Contains("localhost", cert.SubjectAlternativeNames);
        Assert.Contains("127.0.0.1", cert.SubjectAlternativeNames);
        Assert.Equal(["CN=localhost", "CN=OpsRunbook Unit Test CA"], cert.Chain.Select(c => c.Subject));
        Assert.True(cert.Chain[1].IsSelfSigned && cert.Chain[1].IsCertificateAuthority);
        Assert.True(cert.HostNameMatches == true && cert.ChainValid == true);
        Assert.Matches("^Tls1[23]$", cert.Protocol);
        var alert = Assert.Single(ThresholdEvaluator.Evaluate(cert.Observations(), ThresholdProfile.Defaults));
        Assert.Equal((WellKnownMetrics.CertificateDaysRemaining, severity), (alert.Metric, alert.Severity));
        // Every profile grades certificates, though no runbook's table names them.
        Assert.Equal(severity, ThresholdEvaluator.Evaluate(cert.Observations(), ThresholdProfile.Paintbox).Single().Severity);
    }

    [Fact]
    public async Task A_certificate_for_another_name_is_unhealthy_and_says_which_names_it_is_for()
    {
        using var certs = new TestCertificates("other.example", 60);
        await using var server = await FakeHttpServer.StartAsync((_, _) => Task.CompletedTask, certs.Server);
        var cert = await ReadAsync(server, certs.CaPath);
        Assert.Equal(HealthStatus.Unhealthy, cert.Status);
        Assert.False(cert.HostNameMatches);
        Assert.Equal("not for localhost (it is for other.example)", cert.Reason);
        Assert.True(cert.ChainValid);
    }

    [Fact]
    public async Task A_self_signed_certificate_has_an_untrusted_chain_with_the_reason()
    {
        using var certs = new TestCertificates("localhost", 60);
        await using var server = await FakeHttpServer.StartAsync((_, _) => Task.CompletedTask, certs.Server);
        // Without the private CA the system's trust store decides: the CA is unknown to it.
        var cert = await ReadAsync(server, caPath: null);
        Assert.Equal(HealthStatus.Unhealthy, cert.Status);
        Assert.False(cert.ChainValid);
        Assert.Contains(cert.ChainProblems, p => p.StartsWith("UntrustedRoot", StringComparison.Ordinal) || p.StartsWith("PartialChain", StringComparison.Ordinal));
        Assert.StartsWith("untrusted chain: ", cert.Reason);
    }

    [Fact]
    public async Task An_intermediate_that_expires_first_sets_the_days_left()
    {
        var (leaf, chain, root) = TestCertificates.ShortLivedIntermediate(intermediateDays: 5, leafDays: 60);
        try
        {
            await using var server = await FakeHttpServer.StartAsync((_, _) => Task.CompletedTask, leaf, chain: chain);
            var cert = await ReadAsync(server, root);
            Assert.Equal("CN=OpsRunbook Test Intermediate", cert.ExpiresFirst);
            Assert.InRange(cert.DaysRemaining!.Value, 4, 5);
            Assert.InRange((cert.NotAfter!.Value - DateTimeOffset.UtcNow).TotalDays, 59, 60);
            Assert.Contains("CN=OpsRunbook Test Intermediate in its chain expires", cert.Reason);
            Assert.Equal(3, cert.Chain.Count);
        }
        finally
        {
            File.Delete(root);
            leaf.Dispose();
        }
    }

    [Fact]
    public async Task A_server_that_is_not_there_is_a_result_with_the_error()
    {
        var cert = await EndpointCertificate.ReadAsync("gone", "127.0.0.1", 1, null, null, null, TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(HealthStatus.Unhealthy, cert.Status);
        Assert.NotNull(cert.Error);
        Assert.StartsWith("cannot read the certificate of 127.0.0.1:1: ", cert.Reason);
        Assert.Null(cert.DaysRemaining);
        Assert.Empty(cert.Observations());
    }
}
