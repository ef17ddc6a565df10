using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRunbook.Engine.Deploy;

/// <summary>
/// The HTTP loop the provider clients share, on the module's one retry rule (<see cref="Retries"/>): 429 and 5xx retried
/// up to <see cref="MaxRetries"/> times, waiting what Retry-After says (seconds or a date; at most 30 s) or the backoff.
/// Other failures come back as (status, text) for the provider to explain.
/// </summary>
internal sealed class ProviderHttp(HttpClient http, int maxRetries)
{
    private sealed record Attempt(int Status, string Text, TimeSpan? RetryAfter);

    public int MaxRetries { get; } = maxRetries;

    /// <summary>How retries wait (tests record the delays instead of sleeping).</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = Task.Delay;

    /// <summary>Sends the request <paramref name="build"/> makes (once per attempt); returns the status, the body and the parsed JSON when it parses.</summary>
    /// <remarks>With <paramref name="idempotent"/> false (a create), only 429 is retried: the server refused it before
    /// acting; a 5xx may have created the thing, and a second try would make two.</remarks>
    public async Task<(int status, string text, JsonNode? json)> SendAsync(Func<HttpRequestMessage> build, CancellationToken ct, bool idempotent = true)
    {
        var pipeline = Retries.OnResults<Attempt>(MaxRetries, a => a.Status == 429 || (idempotent && a.Status >= 500), a => a.RetryAfter, (d, t) => Delay(d, t));
        var last = await pipeline.ExecuteAsync(async token =>
        {
            using var request = build();
            using var response = await http.SendAsync(request, token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(token).ConfigureAwait(false);
            TimeSpan? retryAfter = response.Headers.RetryAfter?.Delta;
            if (retryAfter is null && response.Headers.RetryAfter?.Date is { } date) retryAfter = date - DateTimeOffset.UtcNow;
            return new Attempt((int)response.StatusCode, text, retryAfter);
        }, ct).ConfigureAwait(false);
        JsonNode? json = null;
        try
        {
            json = last.Text.Length == 0 ? null : JsonNode.Parse(last.Text);
        }
        catch (JsonException)
        {
        }
        return (last.Status, last.Text, json);
    }
}

/// <summary>Reading provider JSON: a field as text, whatever its JSON type (numbers and booleans as written).</summary>
internal static class JsonFields
{
    public static string? Str(JsonObject o, string name) => o[name] is JsonValue v ? v.TryGetValue<string>(out var s) ? s : v.ToJsonString() : null;
}
