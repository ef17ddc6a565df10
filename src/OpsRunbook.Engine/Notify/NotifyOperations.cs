using System.Text.Json.Nodes;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.Engine.Notify;

/// <summary>A destination with its secrets resolved (and registered for redaction).</summary>
/// <param name="Channel">The service.</param>
/// <param name="Url">Slack/Teams/webhook: the URL. PagerDuty: the Events API base URL.</param>
/// <param name="Display">How it may be shown.</param>
/// <param name="SigningSecret">Webhook: the Standard Webhooks secret.</param>
/// <param name="RoutingKey">PagerDuty: the alerts routing key.</param>
/// <param name="ChangeRoutingKey">PagerDuty: the change events routing key.</param>
public sealed record ResolvedTarget(NotificationChannel Channel, string Url, string Display, string? SigningSecret = null, string? RoutingKey = null, string? ChangeRoutingKey = null);

/// <summary>From an environment's "notify" section (or explicit parameters) to requests the sender sends.</summary>
public static class NotifyOperations
{
    /// <summary>PagerDuty's Events API, unless the environment names another (the EU service region).</summary>
    public const string PagerDutyEvents = "https://events.pagerduty.com";

    /// <summary>
    /// A webhook URL as it may be shown: the scheme and host, the path hidden (Slack's, Teams' and most webhooks' paths
    /// are the credential): https://hooks.slack.com/***.
    /// </summary>
    public static string Mask(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) ? $"{u.Scheme}://{u.Authority}/***" : "***";

    /// <summary>Resolves the targets' secrets; every value is registered with the context's redactor first.</summary>
    public static async Task<IReadOnlyList<ResolvedTarget>> ResolveAsync(IEnumerable<NotifyTarget> targets, OperationContext context)
    {
        var resolved = new List<ResolvedTarget>();
        foreach (var t in targets)
        {
            async Task<string?> Value(Secrets.SecretValue? v)
            {
                if (v is null) return null;
                var value = await v.ResolveAsync(context.Secrets, context.Cancellation).ConfigureAwait(false);
                context.Redactor.Add(value);
                return value;
            }
            if (t.Channel == NotificationChannel.PagerDuty)
            {
                var routing = t.Address == t.ChangeRoutingKey ? null : await Value(t.Address).ConfigureAwait(false);
                var change = await Value(t.ChangeRoutingKey).ConfigureAwait(false);
                var events = Secrets.EnvTemplate.Expand(t.Endpoint ?? PagerDutyEvents).TrimEnd('/');
                resolved.Add(new ResolvedTarget(t.Channel, events, $"{Mask(events)[..^4]} (routing key ***)", RoutingKey: routing, ChangeRoutingKey: change));
            }
            else
            {
                var url = (await Value(t.Address).ConfigureAwait(false))!;
                if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http"))
                {
                    throw new ArgumentException($"the {t.Channel} notification address ({t.Address.Display}) is not an http(s) URL");
                }
                resolved.Add(new ResolvedTarget(t.Channel, url, Mask(url), SigningSecret: await Value(t.SigningSecret).ConfigureAwait(false)));
            }
        }
        return resolved;
    }

    /// <summary>
    /// The request that posts <paramref name="message"/> to <paramref name="target"/>; null for PagerDuty without a
    /// change-events key (chat messages are not alerts: Send-RunbookAlert pages).
    /// </summary>
    public static NotificationRequest? Post(NotificationMessage message, ResolvedTarget target) => target.Channel switch
    {
        NotificationChannel.Slack => new(target.Channel, target.Url, target.Display, Payloads.Slack(message).ToJsonString(), false, message.Title, message.Items.Count, message.Environment),
        NotificationChannel.Teams => new(target.Channel, target.Url, target.Display, Payloads.Teams(message).ToJsonString(), false, message.Title, message.Items.Count, message.Environment),
        NotificationChannel.Webhook => new(target.Channel, target.Url, target.Display, Payloads.Webhook(message).ToJsonString(),
            Idempotent: target.SigningSecret is not null, message.Title, message.Items.Count, message.Environment, SigningSecret: target.SigningSecret),
        _ when target.ChangeRoutingKey is { } key => new(target.Channel, target.Url + "/v2/change/enqueue", target.Display,
            Payloads.PagerDutyChange(message, key).ToJsonString(), true, message.Title, message.Items.Count, message.Environment),
        _ => null,
    };

    /// <summary>An Events API v2 request for one item: trigger, acknowledge or resolve under its dedup_key.</summary>
    public static NotificationRequest Alert(NotificationItem item, string action, ResolvedTarget target, string? severity = null, string? dedupKey = null)
    {
        var key = dedupKey ?? Payloads.DedupKey(item);
        var body = Payloads.PagerDutyEvent(item, action, target.RoutingKey ?? throw new ArgumentException("PagerDuty alerts need a routingKey in the environment's notify.pagerduty (or -RoutingKey)"), severity, key);
        return new(NotificationChannel.PagerDuty, target.Url + "/v2/enqueue", target.Display, body.ToJsonString(), true, $"{action} {item.Subject}", 1, item.Environment, key);
    }

    /// <summary>Kinds of result that are changes (PagerDuty change events are for these): deployments, rollbacks, rotations, restores, maintenance.</summary>
    public static bool IsChange(NotificationItem item) =>
        item.Kind is "Deployment actions" or "Rollbacks" or "Secret rotation" or "Restores" or "Maintenance" or "Stopped queries";

    /// <summary>
    /// Whether a target gets a message by default (no -Channel): chat and webhooks always; PagerDuty change events only
    /// for messages about changes (a deployment, a rollback, a rotation), so a health report does not clutter its timeline.
    /// </summary>
    public static bool ByDefault(ResolvedTarget target, NotificationMessage message) =>
        target.Channel != NotificationChannel.PagerDuty || (message.Items.Count > 0 && message.Items.Any(IsChange));

    /// <summary>A request's body as -WhatIf shows it: indented, routing keys masked.</summary>
    public static string Preview(NotificationRequest request)
    {
        var json = JsonNode.Parse(request.Body)!;
        if (json["routing_key"] is not null) json["routing_key"] = "***";
        var text = json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        // The encoder escapes characters outside the BMP (emoji) as surrogate pairs; show them as they will look.
        return System.Text.RegularExpressions.Regex.Replace(text, @"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})",
            m => char.ConvertFromUtf32(char.ConvertToUtf32((char)Convert.ToInt32(m.Groups[1].Value, 16), (char)Convert.ToInt32(m.Groups[2].Value, 16))),
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);
    }
}
