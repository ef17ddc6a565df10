using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRunbook.Engine.Deploy;

/// <summary>
/// The HTTP loop the provider clients share: 429 and 5xx retried up to <see cref="MaxRetries"/> times, waiting what
/// Retry-After says (seconds or a date; at most 30 s) or an exponential backoff from 200 ms. Other failures come back
/// as (status, text) for the provider to explain.
/// </summary>
internal sealed class ProviderHttp(HttpClient http, int maxRetries)
{
    public int MaxRetries { get; } = maxRetries;

    /// <summary>How retries wait (tests record the delays instead of sleeping).</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = Task.Delay;

    /// <summary>Sends the request <paramref name="build"/> makes (once per attempt); returns the status, the body and the parsed JSON when it parses.</summary>
    public async Task<(int status, string text, JsonNode? json)> SendAsync(Func<HttpRequestMessage> build, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = build();
            using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if ((status == 429 || status >= 500) && attempt < MaxRetries)
            {
                TimeSpan? retryAfter = response.Headers.RetryAfter?.Delta;
                if (retryAfter is null && response.Headers.RetryAfter?.Date is { } date) retryAfter = date - DateTimeOffset.UtcNow;
                var wait = retryAfter ?? TimeSpan.FromMilliseconds(200 * Math.Pow(2, attempt));
                await Delay(wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : wait, ct).ConfigureAwait(false);
                continue;
            }
            JsonNode? json = null;
            try
            {
                json = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (JsonException)
            {
            }
            return (status, text, json);
        }
    }
}

/// <summary>Reading provider JSON: a field as text, whatever its JSON type (numbers and booleans as written).</summary>
internal static class JsonFields
{
    public static string? Str(JsonObject o, string name) => o[name] is JsonValue v ? v.TryGetValue<string>(out var s) ? s : v.ToJsonString() : null;
}
