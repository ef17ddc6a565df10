using System.Buffers;
using System.Diagnostics;
using System.Text;
using OpsRunbook.Engine.Clients;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>
/// HTTP(S): one request; status, latency and body feed the conditions. Without conditions, 2xx/3xx is Healthy.
/// For https targets whose conditions read [CERTIFICATE_EXPIRATION] (or that ask for it), the certificate is
/// inspected too: expiry, chain and host name.
/// </summary>
internal class HttpCheck : ITargetCheck
{
    /// <summary>Bodies are read up to this size for conditions; the rest is discarded.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>What one request returned.</summary>
    protected sealed record Fetched(int Status, string? ReasonPhrase, string Body, double LatencyMs, Dictionary<string, object?> Data, TlsCertificateInfo? Certificate, string? Ip);

    public virtual async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var f = await FetchAsync(target, services, cancellationToken).ConfigureAwait(false);
        var ok = target.Conditions.Count > 0 || f.Status is >= 200 and < 400;
        var reason = $"HTTP {f.Status} {f.ReasonPhrase} in {f.LatencyMs:0} ms" + CertificateNote(f.Certificate);
        return Verdict.Decide(target, ok ? HealthStatus.Healthy : HealthStatus.Unhealthy, reason, f.LatencyMs, f.Data, Context(f));
    }

    protected static ConditionContext Context(Fetched f) =>
        new(f.Status, f.LatencyMs, f.Body, connected: true, certificateExpirationMs: f.Certificate?.ExpiresIn(DateTimeOffset.UtcNow).TotalMilliseconds, ip: f.Ip);

    protected static string CertificateNote(TlsCertificateInfo? c) => c is null
        ? ""
        : (c.LeafExpiresFirst
            ? $", certificate expires in {Math.Floor(c.ExpiresIn(DateTimeOffset.UtcNow).TotalDays)} days"
            : $", certificate chain expires in {Math.Floor(c.ExpiresIn(DateTimeOffset.UtcNow).TotalDays)} days (intermediate {c.FirstExpiring}; the leaf in {Math.Floor((c.NotAfter - DateTimeOffset.UtcNow).TotalDays)})")
          + (c.Problems.Length > 0 ? $" ({c.Problems})" : "");

    protected static async Task<Fetched> FetchAsync(HealthCheckTarget target, CheckServices services, CancellationToken cancellationToken)
    {
        var skip = services.SkipCertificateCheck || target.SkipCertificateCheck;
        var client = services.Http.Get(skip, target.CaCertificatePath);
        var uri = new Uri(target.Address);
        var wantsCertificate = uri.Scheme == Uri.UriSchemeHttps
            && (target.CheckCertificate || target.Conditions.Any(c => c.Contains("[CERTIFICATE_EXPIRATION]", StringComparison.Ordinal)));
        var probe = wantsCertificate ? TlsProbe.ProbeAsync(uri.IdnHost, uri.Port, target.CaCertificatePath, cancellationToken) : null;
        // [IP] is the first address the host resolves to, looked up only when a condition reads it (as Gatus does).
        var ip = target.Conditions.Any(c => c.Contains("[IP]", StringComparison.OrdinalIgnoreCase))
            ? (await System.Net.Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken).ConfigureAwait(false)).FirstOrDefault()?.ToString()
            : null;

        using var request = new HttpRequestMessage(new HttpMethod(target.Method), uri);
        var sw = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await ReadBodyAsync(response, cancellationToken).ConfigureAwait(false);
        var latency = sw.Elapsed.TotalMilliseconds;
        var status = (int)response.StatusCode;
        var data = new Dictionary<string, object?>
        {
            ["StatusCode"] = status,
            ["ContentType"] = response.Content.Headers.ContentType?.ToString(),
            ["BodyLength"] = body.Length,
            ["HttpVersion"] = response.Version.ToString(),
        };
        TlsCertificateInfo? certificate = null;
        if (probe is not null)
        {
            certificate = await probe.ConfigureAwait(false);
            data["CertificateSubject"] = certificate.Subject;
            data["CertificateIssuer"] = certificate.Issuer;
            data["CertificateNotAfter"] = certificate.NotAfter;
            data["CertificateChainFirstExpiry"] = certificate.FirstExpiry;
            data["CertificateFirstExpiring"] = certificate.FirstExpiring;
            data["CertificateDaysLeft"] = Math.Floor(certificate.ExpiresIn(DateTimeOffset.UtcNow).TotalDays);
            data["CertificateChainValid"] = certificate.ChainValid;
            data["CertificateHostNameMatch"] = certificate.HostNameMatches;
        }
        return new Fetched(status, response.ReasonPhrase, body, latency, data, certificate, ip);
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        // Health bodies are small: read in pooled chunks up to the cap, so a check allocates what it reads, not 1 MiB.
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var body = new MemoryStream();
            int n;
            while (body.Length < MaxBodyBytes && (n = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, MaxBodyBytes - body.Length)), ct).ConfigureAwait(false)) > 0)
            {
                body.Write(chunk, 0, n);
            }
            return Decode(response, body.GetBuffer().AsSpan(0, (int)body.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static string Decode(HttpResponseMessage response, ReadOnlySpan<byte> bytes)
    {
        var charset = response.Content.Headers.ContentType?.CharSet;
        Encoding encoding;
        try
        {
            encoding = charset is null ? Encoding.UTF8 : Encoding.GetEncoding(charset.Trim('"'));
        }
        catch (ArgumentException)
        {
            encoding = Encoding.UTF8;
        }
        return encoding.GetString(bytes);
    }
}

/// <summary>JWKS (runbook 002): the endpoint answers 200 with a valid key set of at least one public key.</summary>
internal sealed class JwksCheck : HttpCheck
{
    public override async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var f = await FetchAsync(target, services, cancellationToken).ConfigureAwait(false);
        if (f.Status != 200)
        {
            return Verdict.Decide(target, HealthStatus.Unhealthy, $"JWKS endpoint answered HTTP {f.Status} {f.ReasonPhrase}", f.LatencyMs, f.Data, Context(f));
        }
        var jwks = JwksValidator.Validate(f.Body);
        f.Data["KeyCount"] = jwks.Keys;
        f.Data["KeyIds"] = jwks.KeyIds;
        f.Data["Algorithms"] = jwks.Algorithms;
        f.Data["IgnoredKeys"] = jwks.Ignored;
        var status = jwks.Problems.Count == 0 ? HealthStatus.Healthy : HealthStatus.Unhealthy;
        var ignored = jwks.Ignored.Count == 0 ? "" : $"; ignored as RFC 7517 §5 says: {string.Join("; ", jwks.Ignored)}";
        var reason = jwks.Problems.Count == 0
            ? $"JWKS with {jwks.Keys} key(s) ({string.Join(", ", jwks.KeyIds)}) in {f.LatencyMs:0} ms{ignored}{CertificateNote(f.Certificate)}"
            : "invalid JWKS: " + string.Join("; ", jwks.Problems);
        return Verdict.Decide(target, status, reason, f.LatencyMs, f.Data, Context(f));
    }
}
