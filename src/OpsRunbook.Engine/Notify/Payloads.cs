using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace OpsRunbook.Engine.Notify;

/// <summary>
/// A message rendered for each service, within each service's documented limits; what does not fit is cut with a
/// visible marker, never refused. Slack: Block Kit, at most 50 blocks, a header of 150 characters, a section's text
/// of 3,000, ten fields of 2,000 (api.slack.com/reference/block-kit/blocks). Teams: an Adaptive Card in a "message"
/// envelope, the whole request under 28 KB (learn.microsoft.com, "Send messages using Workflows"). PagerDuty:
/// summary 1,024 characters, dedup_key 255 (developer.pagerduty.com, Events API v2).
/// </summary>
public static class Payloads
{
    /// <summary>The marker a cut text ends with.</summary>
    public const string Truncated = "… (truncated)";

    /// <summary>Slack's limits.</summary>
    public const int SlackBlocks = 50, SlackHeader = 150, SlackSection = 3000, SlackFields = 10, SlackField = 2000, SlackFallback = 3000;
    /// <summary>Teams' request size limit in bytes.</summary>
    public const int TeamsBytes = 28 * 1024;
    /// <summary>PagerDuty's limits.</summary>
    public const int PagerDutySummary = 1024, PagerDutyDedupKey = 255;

    /// <summary>Cuts <paramref name="text"/> to <paramref name="max"/> characters with the marker, never inside a surrogate pair.</summary>
    public static string Cut(string text, int max)
    {
        if (text.Length <= max) return text;
        var keep = max - Truncated.Length;
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1])) keep--;
        return text[..Math.Max(0, keep)] + Truncated;
    }

    private static string Icon(NotificationTone tone) => tone switch
    {
        NotificationTone.Critical => "🔴",
        NotificationTone.Warning => "🟠",
        NotificationTone.Good => "🟢",
        _ => "⚪",
    };

    /// <summary>Slack's mrkdwn escapes: &amp; &lt; &gt; (so a reason cannot @channel or make a link).</summary>
    public static string SlackEscape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Line(NotificationItem i, Func<string, string> escape, string bold) =>
        $"{Icon(i.Tone)} {bold}{escape(i.Subject)}{bold} {escape(i.Status)}" + (i.Reason.Length > 0 ? " — " + escape(i.Reason) : "");

    private static string Footer(NotificationMessage m) =>
        "OpsRunbook" + (m.Where.Length > 0 ? " · " + m.Where : "") + " · " + m.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A Slack incoming-webhook body: Block Kit blocks and a plain fallback text.</summary>
    public static JsonObject Slack(NotificationMessage m)
    {
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Cut(m.Template is null ? $"{Icon(m.Tone)} {m.Title}" : m.Title, SlackHeader), ["emoji"] = true } },
        };
        if (m.Text.Length > 0) blocks.Add(Section(Cut(SlackEscape(m.Text), SlackSection)));
        for (var f = 0; f < m.Fields.Count; f += SlackFields)
        {
            var fields = new JsonArray();
            foreach (var (k, v) in m.Fields.Skip(f).Take(SlackFields))
            {
                fields.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = Cut($"*{SlackEscape(k)}*\n{SlackEscape(v)}", SlackField) });
            }
            blocks.Add(new JsonObject { ["type"] = "section", ["fields"] = fields });
        }
        if (m.Items.Count > 0) blocks.Add(new JsonObject { ["type"] = "divider" });
        // Lines packed into sections of at most 3,000 characters; the last two blocks are kept for "…and N more" and the footer.
        var sections = new List<string>();
        var current = new StringBuilder();
        var shown = 0;
        foreach (var item in m.Items)
        {
            var line = Cut(Line(item, SlackEscape, "*"), SlackSection);
            if (current.Length > 0 && current.Length + 1 + line.Length > SlackSection)
            {
                if (blocks.Count + sections.Count + 1 >= SlackBlocks - 2) break;
                sections.Add(current.ToString());
                current.Clear();
            }
            if (current.Length > 0) current.Append('\n');
            current.Append(line);
            shown++;
        }
        if (current.Length > 0) sections.Add(current.ToString());
        foreach (var s in sections) blocks.Add(Section(s));
        if (shown < m.Items.Count) blocks.Add(Section($"…and {m.Items.Count - shown} more {(m.Items.Count - shown == 1 ? "line" : "lines")} (truncated: Slack shows at most {SlackBlocks} blocks)"));
        blocks.Add(new JsonObject { ["type"] = "context", ["elements"] = new JsonArray { new JsonObject { ["type"] = "mrkdwn", ["text"] = SlackEscape(Footer(m)) } } });
        return new JsonObject { ["text"] = Cut(SlackEscape(m.PlainSummary()), SlackFallback), ["blocks"] = blocks };

        static JsonObject Section(string mrkdwn) => new() { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = mrkdwn } };
    }

    /// <summary>A Teams Workflows webhook body: an Adaptive Card 1.4 in a "message" envelope, under 28 KB.</summary>
    public static JsonObject Teams(NotificationMessage m)
    {
        var shown = m.Items.Count;
        while (true)
        {
            var payload = TeamsCard(m, shown);
            if (Encoding.UTF8.GetByteCount(payload.ToJsonString()) <= TeamsBytes || shown == 0) return payload;
            shown = shown > 40 ? shown * 3 / 4 : shown - 1;
        }
    }

    private static JsonObject TeamsCard(NotificationMessage m, int shown)
    {
        static string Plain(string s) => s;
        var color = m.Tone switch { NotificationTone.Critical => "Attention", NotificationTone.Warning => "Warning", NotificationTone.Good => "Good", _ => "Default" };
        var body = new JsonArray
        {
            new JsonObject { ["type"] = "TextBlock", ["text"] = Cut(m.Title, 400), ["weight"] = "Bolder", ["size"] = "Medium", ["color"] = color, ["wrap"] = true },
        };
        if (m.Text.Length > 0) body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = Cut(m.Text, 4000), ["wrap"] = true });
        if (m.Fields.Count > 0)
        {
            var facts = new JsonArray();
            foreach (var (k, v) in m.Fields) facts.Add(new JsonObject { ["title"] = Cut(k, 200), ["value"] = Cut(v, 2000) });
            body.Add(new JsonObject { ["type"] = "FactSet", ["facts"] = facts });
        }
        foreach (var item in m.Items.Take(shown))
        {
            body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = Cut(Line(item, Plain, "**"), 2000), ["wrap"] = true, ["spacing"] = "Small" });
        }
        if (shown < m.Items.Count)
        {
            body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = $"…and {m.Items.Count - shown} more (truncated: Teams takes at most 28 KB)", ["wrap"] = true, ["isSubtle"] = true });
        }
        body.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = Footer(m), ["isSubtle"] = true, ["size"] = "Small", ["wrap"] = true });
        return new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject
                {
                    ["contentType"] = "application/vnd.microsoft.card.adaptive",
                    ["contentUrl"] = null,
                    ["content"] = new JsonObject
                    {
                        ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                        ["type"] = "AdaptiveCard",
                        ["version"] = "1.4",
                        ["body"] = body,
                        ["msteams"] = new JsonObject { ["width"] = "Full" },
                    },
                },
            },
        };
    }

    /// <summary>A generic webhook body in Standard Webhooks' shape: type, timestamp, data.</summary>
    public static JsonObject Webhook(NotificationMessage m)
    {
        var fields = new JsonObject();
        foreach (var (k, v) in m.Fields) fields[k] = v;
        var items = new JsonArray();
        foreach (var i in m.Items)
        {
            items.Add(new JsonObject
            {
                ["kind"] = i.Kind, ["subject"] = i.Subject, ["status"] = i.Status, ["tone"] = i.Tone.ToString(), ["reason"] = i.Reason,
                ["environment"] = i.Environment, ["system"] = i.System, ["key"] = i.Key,
            });
        }
        return new JsonObject
        {
            ["type"] = m.Template is { } t ? "opsrunbook.incident." + t : "opsrunbook.notification",
            ["timestamp"] = m.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["data"] = new JsonObject
            {
                ["title"] = m.Title, ["tone"] = m.Tone.ToString(), ["text"] = m.Text, ["fields"] = fields, ["items"] = items,
                ["system"] = m.System, ["environment"] = m.Environment,
            },
        };
    }

    /// <summary>A PagerDuty change event (a deployment, a rollback, a rotation): shown beside incidents, pages no one.</summary>
    public static JsonObject PagerDutyChange(NotificationMessage m, string routingKey)
    {
        var details = new JsonObject();
        foreach (var (k, v) in m.Fields) details[k] = v;
        if (m.Items.Count > 0) details["results"] = new JsonArray(m.Items.Take(50).Select(i => (JsonNode)JsonValue.Create(Line(i, s => s, ""))!).ToArray());
        if (m.Items.Count > 50) details["truncated"] = $"{m.Items.Count - 50} more results left out";
        return new JsonObject
        {
            ["routing_key"] = routingKey,
            ["payload"] = new JsonObject
            {
                ["summary"] = Cut(m.PlainSummary(), PagerDutySummary),
                ["timestamp"] = m.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["source"] = m.Where.Length > 0 ? m.Where : "OpsRunbook",
                ["custom_details"] = details,
            },
        };
    }

    /// <summary>PagerDuty's alert severity for a tone (a resolved item sends no severity).</summary>
    public static string Severity(NotificationTone tone) => tone switch
    {
        NotificationTone.Critical => "critical",
        NotificationTone.Warning => "warning",
        _ => "info",
    };

    /// <summary>PagerDuty's severity for an incident priority: P0 critical, P1 error, P2 warning, P3 and P4 info.</summary>
    public static string SeverityOfPriority(string priority) => priority.Trim().ToUpperInvariant() switch
    {
        "P0" or "SEV0" or "SEV1" or "CRITICAL" => "critical",
        "P1" or "SEV2" or "HIGH" => "error",
        "P2" or "SEV3" or "MEDIUM" => "warning",
        _ => "info",
    };

    /// <summary>
    /// The dedup_key of what is broken: "opsrunbook/" and the item's key (system, environment, kind, subject), never the
    /// run or the time, so every run that finds it broken updates the one alert. Over 255 characters, the head and a hash.
    /// </summary>
    public static string DedupKey(NotificationItem item)
    {
        var key = "opsrunbook/" + item.Key;
        if (key.Length <= PagerDutyDedupKey) return key;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16].ToLowerInvariant();
        return key[..(PagerDutyDedupKey - 17)] + "#" + hash;
    }

    /// <summary>A PagerDuty Events API v2 event: trigger (with the payload), acknowledge or resolve (the key alone).</summary>
    public static JsonObject PagerDutyEvent(NotificationItem item, string action, string routingKey, string? severity = null, string? dedupKey = null)
    {
        var body = new JsonObject
        {
            ["routing_key"] = routingKey,
            ["event_action"] = action,
            ["dedup_key"] = dedupKey ?? DedupKey(item),
        };
        if (action == "trigger")
        {
            body["payload"] = new JsonObject
            {
                ["summary"] = Cut($"{item.Status}: {item.Subject}" + (item.Environment is null ? "" : $" in {item.Environment}") + (item.Reason.Length > 0 ? " — " + item.Reason : ""), PagerDutySummary),
                ["source"] = string.Join(" / ", new[] { item.System, item.Environment }.Where(s => !string.IsNullOrEmpty(s))) is { Length: > 0 } s ? s : "OpsRunbook",
                ["severity"] = severity ?? Severity(item.Tone),
                ["timestamp"] = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ["component"] = item.Subject,
                ["group"] = item.Environment,
                ["class"] = item.Kind,
                ["custom_details"] = new JsonObject { ["status"] = item.Status, ["reason"] = item.Reason, ["system"] = item.System, ["environment"] = item.Environment },
            };
            body["client"] = "OpsRunbook";
        }
        return body;
    }
}
