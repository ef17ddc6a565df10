using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// The notification services on one Kestrel server, each enforcing its documented contract and limits:
/// <list type="bullet">
/// <item>Slack incoming webhooks, POST /slack/services/T/B/X (api.slack.com/messaging/webhooks, reference/block-kit/blocks):
/// 200 "ok"; plain-text errors 400 invalid_payload / no_text / invalid_blocks, 404 no_service for an unknown hook,
/// 410 channel_is_archived; at most 50 blocks, a header of 150 characters, a section's text of 3,000, ten fields of
/// 2,000; about one message a second per hook (429 with Retry-After: 1 when faster).</item>
/// <item>Teams Workflows webhooks, POST /teams/workflows/ID (learn.microsoft.com "Create incoming webhooks with
/// Workflows"): a "message" with an Adaptive Card attachment, 202 Accepted; 400 without attachments; 413 over 28 KB;
/// 429 beyond four requests a second.</item>
/// <item>PagerDuty Events API v2, POST /pagerduty/v2/enqueue and /pagerduty/v2/change/enqueue
/// (developer.pagerduty.com/docs/events-api-v2): 202 {"status":"success",...,"dedup_key"}, 400 {"status":"invalid
/// event","errors":[...]} for a bad routing key (32 characters), action, severity, summary over 1,024 or dedup_key
/// over 255; alerts open on trigger and close on resolve, by dedup_key.</item>
/// <item>A Standard Webhooks receiver, POST /webhook/NAME: the signature checked with the spec's .NET implementation
/// (package StandardWebhooks), deliveries deduplicated by webhook-id as the spec asks receivers to.</item>
/// </list>
/// Faults on demand: <see cref="Throttle"/> (429 with a Retry-After of seconds or an HTTP date), <see cref="Fail"/>
/// (any status and body), <see cref="Stall"/> (read the body, then answer late).
/// </summary>
public sealed class FakeNotify : IAsyncDisposable
{
    public const string SlackHook = "/slack/services/T0OPS/B0RUNBOOK/xoxsecretwebhookpart0123";
    public const string TeamsHook = "/teams/workflows/4f0c2a7e9b/triggers/manual/paths/invoke?sig=teamssecretsig0123";
    public const string RoutingKey = "R0UT1NGKEY0123456789ABCDEFGHIJKL"; // 32 characters
    public const string WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private readonly FakeHttpServer _server;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastSlack = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<DateTimeOffset> _teamsTimes = new();
    private readonly ConcurrentDictionary<string, (int Count, string? RetryAfter)> _throttle = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Count, int Status, string Body)> _fail = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TimeSpan> _stall = new(StringComparer.Ordinal);

    private FakeNotify(FakeHttpServer server) => _server = server;

    public string BaseUrl => _server.BaseUrl;
    public string SlackUrl => BaseUrl + SlackHook;
    public string TeamsUrl => BaseUrl + TeamsHook;
    public string WebhookUrl(string name = "ops") => BaseUrl + "/webhook/" + name;
    public string PagerDutyEndpoint => BaseUrl + "/pagerduty";

    /// <summary>Every request: which service, the path, the body, the headers and what was answered.</summary>
    public ConcurrentQueue<(string Service, string Path, string Body, IHeaderDictionary Headers, int Status, DateTimeOffset At)> Log { get; } = new();
    /// <summary>Messages each service took (Slack and Teams: each posted message; webhooks: each distinct webhook-id).</summary>
    public ConcurrentQueue<(string Service, JsonNode Body)> Delivered { get; } = new();
    /// <summary>PagerDuty alerts open now, by dedup_key, with their trigger payload.</summary>
    public ConcurrentDictionary<string, JsonNode> OpenAlerts { get; } = new(StringComparer.Ordinal);
    /// <summary>Standard Webhooks ids already delivered.</summary>
    public ConcurrentDictionary<string, int> WebhookIds { get; } = new(StringComparer.Ordinal);

    /// <summary>The next <paramref name="count"/> requests to <paramref name="service"/> (slack, teams, pagerduty, webhook) answer 429.</summary>
    public void Throttle(string service, int count, string? retryAfter = "1") => _throttle[service] = (count, retryAfter);

    /// <summary>The next <paramref name="count"/> requests to <paramref name="service"/> answer <paramref name="status"/> with <paramref name="body"/>.</summary>
    public void Fail(string service, int status, string body, int count = 1) => _fail[service] = (count, status, body);

    /// <summary>Requests to <paramref name="service"/> are taken (and, for webhooks, delivered) but answered after <paramref name="delay"/>.</summary>
    public void Stall(string service, TimeSpan delay) => _stall[service] = delay;

    public static async Task<FakeNotify> StartAsync(int port = 0)
    {
        FakeNotify? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeNotify(server);
        return self;
    }

    private async Task Handle(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        if (path.StartsWith("/_fake/", StringComparison.Ordinal))
        {
            await Control(ctx, path["/_fake/".Length..]);
            return;
        }
        var body = await new StreamReader(ctx.Request.Body, Encoding.UTF8).ReadToEndAsync();
        var service = path.StartsWith("/slack/", StringComparison.Ordinal) ? "slack"
            : path.StartsWith("/teams/", StringComparison.Ordinal) ? "teams"
            : path.StartsWith("/pagerduty/", StringComparison.Ordinal) ? "pagerduty"
            : path.StartsWith("/webhook/", StringComparison.Ordinal) ? "webhook" : "?";
        var (status, text, contentType) = Answer(ctx, service, path, body);
        if (_stall.TryGetValue(service, out var stall)) await Task.Delay(stall);
        Log.Enqueue((service, path + ctx.Request.QueryString, body, ctx.Request.Headers, status, DateTimeOffset.UtcNow));
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        await ctx.Response.WriteAsync(text);
    }

    private (int Status, string Text, string ContentType) Answer(HttpContext ctx, string service, string path, string body)
    {
        if (_throttle.TryGetValue(service, out var t) && t.Count > 0)
        {
            _throttle[service] = t with { Count = t.Count - 1 };
            if (t.RetryAfter is not null) ctx.Response.Headers.RetryAfter = t.RetryAfter;
            return (429, service == "pagerduty" ? """{"status":"throttle event","message":"Requests for this service are arriving too quickly."}""" : "rate_limited", "text/plain");
        }
        if (_fail.TryGetValue(service, out var f) && f.Count > 0)
        {
            _fail[service] = f with { Count = f.Count - 1 };
            return (f.Status, f.Body, "text/plain");
        }
        return service switch
        {
            "slack" => Slack(ctx, path, body),
            "teams" => Teams(ctx, body),
            "pagerduty" => PagerDuty(path, body),
            "webhook" => Webhook(ctx, body),
            _ => (404, "not found", "text/plain"),
        };
    }

    private (int, string, string) Slack(HttpContext ctx, string path, string body)
    {
        if (path != SlackHook) return (404, "no_service", "text/plain");
        var now = DateTimeOffset.UtcNow;
        if (_lastSlack.TryGetValue(path, out var last) && now - last < TimeSpan.FromMilliseconds(900))
        {
            ctx.Response.Headers.RetryAfter = "1";
            return (429, "rate_limited", "text/plain");
        }
        _lastSlack[path] = now;
        JsonNode? json;
        try { json = JsonNode.Parse(body); } catch (JsonException) { return (400, "invalid_payload", "text/plain"); }
        if (json is not JsonObject o) return (400, "invalid_payload", "text/plain");
        var blocks = o["blocks"] as JsonArray;
        if (o["text"] is null && blocks is null) return (400, "no_text", "text/plain");
        if (blocks is not null)
        {
            if (blocks.Count > 50) return (400, "invalid_blocks", "text/plain");
            foreach (var b in blocks)
            {
                var type = b?["type"]?.GetValue<string>();
                var text = b?["text"]?["text"]?.GetValue<string>();
                if (type == "header" && (text is null || text.Length > 150 || b!["text"]!["type"]!.GetValue<string>() != "plain_text")) return (400, "invalid_blocks", "text/plain");
                if (type == "section")
                {
                    if (text is not null && text.Length > 3000) return (400, "invalid_blocks", "text/plain");
                    if (b!["fields"] is JsonArray fields && (fields.Count > 10 || fields.Any(x => x?["text"]?.GetValue<string>().Length > 2000))) return (400, "invalid_blocks", "text/plain");
                    if (text is null && b["fields"] is null) return (400, "invalid_blocks", "text/plain");
                }
            }
        }
        Delivered.Enqueue(("slack", o));
        return (200, "ok", "text/plain");
    }

    private (int, string, string) Teams(HttpContext ctx, string body)
    {
        if (!ctx.Request.QueryString.Value!.Contains("sig=teamssecretsig0123", StringComparison.Ordinal)) return (401, """{"error":{"code":"DirectApiAuthorizationRequired"}}""", "application/json");
        var now = DateTimeOffset.UtcNow;
        _teamsTimes.Enqueue(now);
        while (_teamsTimes.TryPeek(out var first) && now - first > TimeSpan.FromSeconds(1)) _teamsTimes.TryDequeue(out _);
        if (_teamsTimes.Count > 4) return (429, """{"error":{"code":"TooManyRequests"}}""", "application/json");
        if (Encoding.UTF8.GetByteCount(body) > 28 * 1024) return (413, """{"error":{"code":"MessageTooLarge"}}""", "application/json");
        JsonNode? json;
        try { json = JsonNode.Parse(body); } catch (JsonException) { return (400, """{"error":{"code":"InvalidRequestContent"}}""", "application/json"); }
        var attachment = json?["attachments"]?[0];
        if (json?["type"]?.GetValue<string>() != "message" || attachment?["contentType"]?.GetValue<string>() != "application/vnd.microsoft.card.adaptive"
            || attachment["content"]?["type"]?.GetValue<string>() != "AdaptiveCard")
        {
            return (400, """{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}""", "application/json");
        }
        Delivered.Enqueue(("teams", json!));
        return (202, "", "text/plain");
    }

    private (int, string, string) PagerDuty(string path, string body)
    {
        JsonNode? json;
        try { json = JsonNode.Parse(body); } catch (JsonException) { return Invalid("Invalid JSON"); }
        var errors = new List<string>();
        var key = json?["routing_key"]?.GetValue<string>();
        if (key is null || key.Length != 32) errors.Add("'routing_key' is invalid or missing");
        else if (key != RoutingKey) errors.Add("Invalid routing key");
        var summary = json?["payload"]?["summary"]?.GetValue<string>();
        if (path == "/pagerduty/v2/change/enqueue")
        {
            if (string.IsNullOrEmpty(summary) || summary.Length > 1024) errors.Add("'payload.summary' is missing or over 1024 characters");
            if (errors.Count > 0) return Invalid(errors);
            Delivered.Enqueue(("pagerduty-change", json!));
            return (202, """{"status":"success","message":"Change event processed"}""", "application/json");
        }
        if (path != "/pagerduty/v2/enqueue") return (404, "{}", "application/json");
        var action = json?["event_action"]?.GetValue<string>();
        var dedup = json?["dedup_key"]?.GetValue<string>();
        if (action is not ("trigger" or "acknowledge" or "resolve")) errors.Add("'event_action' is invalid");
        if (dedup is { Length: > 255 }) errors.Add("'dedup_key' is longer than 255 characters");
        if (action is "acknowledge" or "resolve" && string.IsNullOrEmpty(dedup)) errors.Add("'dedup_key' is required for acknowledge and resolve");
        if (action == "trigger")
        {
            if (string.IsNullOrEmpty(summary) || summary.Length > 1024) errors.Add("'payload.summary' is missing or over 1024 characters");
            if (string.IsNullOrEmpty(json?["payload"]?["source"]?.GetValue<string>())) errors.Add("'payload.source' is missing");
            if (json?["payload"]?["severity"]?.GetValue<string>() is not ("critical" or "error" or "warning" or "info")) errors.Add("'payload.severity' is invalid");
        }
        if (errors.Count > 0) return Invalid(errors);
        dedup ??= Guid.NewGuid().ToString("N");
        if (action == "trigger") OpenAlerts[dedup] = json!;
        else if (action == "resolve") OpenAlerts.TryRemove(dedup, out _);
        Delivered.Enqueue(("pagerduty", json!));
        return (202, $$"""{"status":"success","message":"Event processed","dedup_key":"{{dedup}}"}""", "application/json");

        static (int, string, string) Invalid(object errors) =>
            (400, JsonSerializer.Serialize(new { status = "invalid event", message = "Event object is invalid", errors = errors is string s ? [s] : (List<string>)errors }), "application/json");
    }

    private (int, string, string) Webhook(HttpContext ctx, string body)
    {
        try
        {
            new StandardWebhooks.StandardWebhook(WebhookSecret).Verify(body, ctx.Request.Headers);
        }
        catch (Exception ex)
        {
            return (401, "signature: " + ex.Message, "text/plain");
        }
        var id = ctx.Request.Headers["webhook-id"].ToString();
        if (WebhookIds.AddOrUpdate(id, 1, (_, n) => n + 1) == 1) Delivered.Enqueue(("webhook", JsonNode.Parse(body)!));
        return (204, "", "text/plain");
    }

    /// <summary>
    /// What a test in another process (Pester, against the sandbox's FakeCloud) reads and sets: GET delivered, alerts
    /// and log; POST throttle?service=&amp;count=&amp;retryAfter=, fail?service=&amp;status=&amp;count=&amp;body=,
    /// stall?service=&amp;ms=, reset.
    /// </summary>
    private async Task Control(HttpContext ctx, string what)
    {
        string Q(string name) => ctx.Request.Query[name].ToString();
        ctx.Response.ContentType = "application/json";
        switch (ctx.Request.Method, what)
        {
            case ("GET", "delivered"):
                await ctx.Response.WriteAsync(new JsonArray(Delivered.Select(d => (JsonNode)new JsonObject { ["service"] = d.Service, ["body"] = d.Body.DeepClone() }).ToArray()).ToJsonString());
                return;
            case ("GET", "alerts"):
                var alerts = new JsonObject();
                foreach (var (k, v) in OpenAlerts) alerts[k] = v.DeepClone();
                await ctx.Response.WriteAsync(alerts.ToJsonString());
                return;
            case ("GET", "log"):
                await ctx.Response.WriteAsync(new JsonArray(Log.Select(l => (JsonNode)new JsonObject { ["service"] = l.Service, ["status"] = l.Status, ["body"] = l.Body }).ToArray()).ToJsonString());
                return;
            case ("POST", "throttle"):
                Throttle(Q("service"), int.Parse(Q("count"), System.Globalization.CultureInfo.InvariantCulture), Q("retryAfter") is { Length: > 0 } r ? r : null);
                break;
            case ("POST", "fail"):
                Fail(Q("service"), int.Parse(Q("status"), System.Globalization.CultureInfo.InvariantCulture), Q("body"), int.Parse(Q("count"), System.Globalization.CultureInfo.InvariantCulture));
                break;
            case ("POST", "stall"):
                Stall(Q("service"), TimeSpan.FromMilliseconds(int.Parse(Q("ms"), System.Globalization.CultureInfo.InvariantCulture)));
                break;
            case ("POST", "reset"):
                Log.Clear();
                Delivered.Clear();
                OpenAlerts.Clear();
                WebhookIds.Clear();
                _throttle.Clear();
                _fail.Clear();
                _stall.Clear();
                break;
            default:
                ctx.Response.StatusCode = 404;
                return;
        }
        await ctx.Response.WriteAsync("{}");
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
