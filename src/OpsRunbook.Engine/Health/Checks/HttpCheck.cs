using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Text;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>HTTP(S): one request; status, latency and body feed the conditions. Without conditions, 2xx/3xx is Healthy.</summary>
internal sealed class HttpCheck : ITargetCheck
{
    /// <summary>Bodies are read up to this size for conditions; the rest is discarded.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var client = services.Http.Get(services.SkipCertificateCheck || target.SkipCertificateCheck, target.CaCertificatePath);
        using var request = new HttpRequestMessage(new HttpMethod(target.Method), target.Address);
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
        var context = new ConditionContext(status, latency, body, connected: true);
        var ok = target.Conditions.Count > 0 || status is >= 200 and < 400;
        var reason = $"HTTP {status} {response.ReasonPhrase} in {latency:0} ms";
        return Verdict.Decide(target, ok ? HealthStatus.Healthy : HealthStatus.Unhealthy, reason, latency, data, context);
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
