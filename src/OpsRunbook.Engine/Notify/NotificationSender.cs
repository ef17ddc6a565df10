using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Notify;

/// <summary>One rendered message for one destination.</summary>
/// <param name="Channel">The service.</param>
/// <param name="Url">The resolved URL (a secret for webhooks: registered for redaction before it gets here).</param>
/// <param name="Target">The URL as it may be shown.</param>
/// <param name="Body">The JSON body.</param>
/// <param name="Idempotent">
/// Whether sending the body twice makes one message (PagerDuty's dedup_key, a Standard Webhooks receiver's webhook-id).
/// Slack and Teams make a second message, so an answer lost after the body went out is not retried.
/// </param>
/// <param name="Title">The message's title, for the result.</param>
/// <param name="Items">How many result lines the message carries.</param>
/// <param name="Environment">The environment the message is about.</param>
/// <param name="Key">The dedup_key or webhook-id.</param>
/// <param name="SigningSecret">A Standard Webhooks secret (whsec_...): the request is signed with it.</param>
public sealed record NotificationRequest(NotificationChannel Channel, string Url, string Target, string Body, bool Idempotent, string Title, int Items,
    string? Environment = null, string? Key = null, string? SigningSecret = null);

/// <summary>
/// Sends notifications as a good citizen of each service: paced per destination (Slack about one message a second per
/// webhook, Teams four requests a second, PagerDuty two a second), a 429 waits what Retry-After says (seconds or an
/// HTTP date) up to <see cref="MaxWait"/>, a 4xx is never retried, a connection that was never made is retried, and an
/// answer lost after the body went out is retried only where the service deduplicates (no duplicate messages).
/// Every send ends in a <see cref="NotificationResult"/>; nothing here throws for a failed send.
/// </summary>
public sealed class NotificationSender(HttpClient http, SecretRedactor redactor)
{
    private static readonly ConcurrentDictionary<string, Pace> Paces = new(StringComparer.Ordinal);

    /// <summary>The session's client for notifications: no redirects (a webhook URL is a credential), pooled connections.</summary>
    public static HttpClient SharedClient { get; } = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), AllowAutoRedirect = false })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        DefaultRequestHeaders = { { "User-Agent", "OpsRunbook/" + typeof(NotificationSender).Assembly.GetName().Version?.ToString(3) } },
    };

    /// <summary>How waits happen (tests record them instead of sleeping).</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;
    /// <summary>The longest Retry-After honoured; a longer one ends the send as Throttled.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Requests per send, at most.</summary>
    public int MaxAttempts { get; init; } = 4;
    /// <summary>How long one request may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The spacing between two requests to one destination.</summary>
    public static TimeSpan Spacing(NotificationChannel channel) => channel switch
    {
        NotificationChannel.Slack => TimeSpan.FromSeconds(1),
        NotificationChannel.Teams => TimeSpan.FromMilliseconds(250),
        NotificationChannel.PagerDuty => TimeSpan.FromMilliseconds(500),
        _ => TimeSpan.Zero,
    };

    /// <summary>Sends one request and says what became of it.</summary>
    public async Task<NotificationResult> SendAsync(NotificationRequest r, CancellationToken ct)
    {
        var waited = TimeSpan.Zero;
        var attempts = 0;
        var status = 0;
        var webhookId = r.SigningSecret is null ? null : r.Key ?? "msg_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        NotificationResult Result(NotificationStatus s, string reason) => new()
        {
            Channel = r.Channel, Target = r.Target, Status = s, Title = r.Title, Items = r.Items, Attempts = attempts, Waited = waited,
            StatusCode = status, Reason = redactor.Scrub(reason), Key = webhookId ?? r.Key, Environment = r.Environment, SentAt = DateTimeOffset.UtcNow,
        };
        async Task Wait(TimeSpan t)
        {
            if (t <= TimeSpan.Zero) return;
            waited += t;
            await Delay(t, ct).ConfigureAwait(false);
        }

        var pace = Paces.GetOrAdd(r.Channel + " " + r.Url, _ => new Pace());
        string last = "";
        while (attempts < MaxAttempts)
        {
            await Wait(await pace.TurnAsync(Spacing(r.Channel), ct).ConfigureAwait(false)).ConfigureAwait(false);
            attempts++;
            using var request = new HttpRequestMessage(HttpMethod.Post, r.Url) { Content = new StringContent(r.Body, Encoding.UTF8, "application/json") };
            if (r.SigningSecret is not null) Sign(request, webhookId!, r.Body, r.SigningSecret);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(Timeout);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError)
            {
                // Nothing went out: trying again cannot make a second message.
                last = $"could not connect to {r.Target}: {ex.Message}";
                await Wait(Retries.Wait(null, attempts)).ConfigureAwait(false);
                continue;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException && !ct.IsCancellationRequested)
            {
                var what = ex is OperationCanceledException ? $"no answer within {Timeout.TotalSeconds:0} s" : $"the connection failed ({ex.Message})";
                if (!r.Idempotent)
                {
                    return Result(NotificationStatus.Failed, $"{what} after the message was sent; it may have arrived, so it was not sent again (a second send would post it twice)");
                }
                last = what;
                await Wait(Retries.Wait(null, attempts)).ConfigureAwait(false);
                continue;
            }
            using (response)
            {
                status = (int)response.StatusCode;
                var text = await ReadAsync(response, ct).ConfigureAwait(false);
                if (status is >= 200 and < 300)
                {
                    return status == 202
                        ? Result(NotificationStatus.Accepted, r.Channel == NotificationChannel.Teams
                            ? "202 Accepted: the workflow queued it; Teams does not report whether it was posted"
                            : "202 Accepted" + (text.Length > 0 ? ": " + Short(text) : ""))
                        : Result(NotificationStatus.Sent, $"{status} {Short(text)}".Trim());
                }
                if (status == 429)
                {
                    var asked = RetryAfter(response.Headers.RetryAfter);
                    last = $"429 rate limited{(asked is { } a ? $" (Retry-After {a.TotalSeconds:0.#} s)" : "")}";
                    if (asked is { } a2 && a2 > MaxWait) return Result(NotificationStatus.Throttled, $"{last}: longer than the {MaxWait.TotalSeconds:0} s a send waits");
                    if (attempts >= MaxAttempts) break;
                    await Wait(asked ?? Retries.Wait(null, attempts)).ConfigureAwait(false);
                    continue;
                }
                var gateway = status is 408 or 502 or 503 or 504;
                if (status >= 500 || status == 408)
                {
                    last = $"{status} {Short(text)}".Trim();
                    if (!gateway && !r.Idempotent) return Result(NotificationStatus.Failed, last + "; not sent again: the service may have posted it");
                    await Wait(Retries.Wait(RetryAfter(response.Headers.RetryAfter), attempts)).ConfigureAwait(false);
                    continue;
                }
                return Result(NotificationStatus.Rejected, $"{status} {Short(text)}".Trim() + Hint(r.Channel, status));
            }
        }
        return last.StartsWith("429", StringComparison.Ordinal)
            ? Result(NotificationStatus.Throttled, $"{last} on each of {attempts} attempts")
            : Result(NotificationStatus.Failed, $"{last} (after {attempts} attempts)");
    }

    private static string Hint(NotificationChannel channel, int status) => (channel, status) switch
    {
        (NotificationChannel.Slack, 403 or 404 or 410) => ": the webhook was revoked, or its channel archived or deleted; make a new one",
        (NotificationChannel.Teams, 400) => ": the workflow rejected the card",
        (NotificationChannel.Teams, 413) => ": the card is over 28 KB",
        (NotificationChannel.PagerDuty, 400) => ": PagerDuty refused the event (check the routing key and the fields); not retried",
        (_, 401 or 403) => ": check the URL or key",
        _ => "",
    };

    private static async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            return text.Length > 2000 ? text[..2000] : text;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return "";
        }
    }

    private static string Short(string text)
    {
        var line = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }

    /// <summary>Retry-After in seconds or as an HTTP date; null when absent.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow is var d && d > TimeSpan.Zero ? d : TimeSpan.Zero;
        return null;
    }

    /// <summary>
    /// Standard Webhooks signing (github.com/standard-webhooks/standard-webhooks spec): webhook-id (the same on every
    /// retry, for the receiver to deduplicate), webhook-timestamp (Unix seconds of this attempt) and webhook-signature
    /// "v1," + base64 HMAC-SHA256 of "id.timestamp.body" with the secret after "whsec_", base64-decoded.
    /// </summary>
    public static void Sign(HttpRequestMessage request, string id, string body, string secret)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var key = SigningKey(secret);
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}")));
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", "v1," + signature);
    }

    /// <summary>The HMAC key of a Standard Webhooks secret: base64 after "whsec_"; a secret that is not base64 is used as its UTF-8 bytes.</summary>
    public static byte[] SigningKey(string secret)
    {
        var text = secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret;
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return Encoding.UTF8.GetBytes(text);
        }
    }

    /// <summary>One destination's turn: requests to it are spaced by the channel's interval, across the session.</summary>
    private sealed class Pace
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private DateTimeOffset _next = DateTimeOffset.MinValue;

        /// <summary>Takes the next turn and returns how long to wait for it.</summary>
        public async Task<TimeSpan> TurnAsync(TimeSpan spacing, CancellationToken ct)
        {
            await _gate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                var now = DateTimeOffset.UtcNow;
                var start = _next > now ? _next : now;
                _next = start + spacing;
                return start - now;
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
