using OpsRunbook.Engine.Clients;

namespace OpsRunbook.Engine.Metrics;

/// <summary>Reads a metrics endpoint: Prometheus text, or JSON (by Content-Type, or a body that starts with { or [).</summary>
public sealed class MetricScraper : IDisposable
{
    private readonly HttpClientCache _http = new();

    /// <summary>
    /// Scrapes <paramref name="uri"/>. Lines of a Prometheus exposition that cannot be read are skipped and listed, so
    /// one odd line (an exporter's bug) does not lose the rest; an endpoint that cannot be read at all, or whose every
    /// sample line is bad, throws <see cref="MetricScrapeException"/> with a readable reason.
    /// </summary>
    public async Task<MetricScrape> ScrapeAsync(Uri uri, string? environment, TimeSpan timeout, bool skipCertificateCheck,
        CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        string body;
        string? contentType;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.ParseAdd("text/plain;version=0.0.4;q=0.9, application/json;q=0.8, */*;q=0.1");
            using var response = await _http.Get(skipCertificateCheck, null).SendAsync(request, cts.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new MetricScrapeException($"{uri} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }
            contentType = response.Content.Headers.ContentType?.MediaType;
            body = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new MetricScrapeException($"{uri} did not answer within {OpsRunbook.Engine.Common.Duration.Format(timeout)}");
        }
        catch (HttpRequestException ex)
        {
            throw new MetricScrapeException(FailureDescriber.Describe(ex, uri.OriginalString), ex);
        }
        var now = DateTimeOffset.UtcNow;
        var trimmed = body.TrimStart();
        var json = contentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true || trimmed.StartsWith('{') || trimmed.StartsWith('[');
        try
        {
            if (json) return new MetricScrape(JsonMetrics.Parse(body, uri.OriginalString, environment, now), []);
            var skipped = new List<string>();
            var samples = PrometheusTextParser.Parse(body, uri.OriginalString, environment, now, skipped);
            if (samples.Count == 0 && skipped.Count > 0)
            {
                throw new FormatException(skipped[0] + (skipped.Count > 1 ? $" (and {skipped.Count - 1} more bad lines)" : ""));
            }
            return new MetricScrape(samples, skipped);
        }
        catch (FormatException ex)
        {
            throw new MetricScrapeException($"{uri}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}

/// <summary>What one endpoint gave: its samples, and the lines that were skipped (with their line numbers and why).</summary>
public sealed record MetricScrape(IReadOnlyList<MetricSample> Samples, IReadOnlyList<string> Skipped);

/// <summary>A metrics endpoint could not be read or parsed.</summary>
public sealed class MetricScrapeException(string message, Exception? inner = null) : Exception(message, inner);
