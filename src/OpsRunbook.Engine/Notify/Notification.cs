using System.Globalization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Notify;

/// <summary>Where a notification goes.</summary>
public enum NotificationChannel
{
    /// <summary>A Slack incoming webhook (Block Kit).</summary>
    Slack,
    /// <summary>A Microsoft Teams Workflows webhook (an Adaptive Card in a message envelope).</summary>
    Teams,
    /// <summary>Any HTTPS endpoint, signed as Standard Webhooks sign.</summary>
    Webhook,
    /// <summary>PagerDuty: change events (Send-RunbookNotification) or alerts (Send-RunbookAlert).</summary>
    PagerDuty,
}

/// <summary>What became of one send. A failed send is data, never an exception.</summary>
public enum NotificationStatus
{
    /// <summary>The service said it delivered the message (Slack's 200 "ok", a webhook's 2xx).</summary>
    Sent,
    /// <summary>The service queued it and will not say whether it was delivered (Teams Workflows' and PagerDuty's 202).</summary>
    Accepted,
    /// <summary>Rate limited (429) longer than the send may wait.</summary>
    Throttled,
    /// <summary>The service refused the message (4xx): sending it again would not help.</summary>
    Rejected,
    /// <summary>No answer, a server error, or an answer that cannot be read.</summary>
    Failed,
}

/// <summary>How a message looks: its colour and the word in its title.</summary>
public enum NotificationTone
{
    /// <summary>Neutral.</summary>
    Info,
    /// <summary>Healthy, resolved, recovered.</summary>
    Good,
    /// <summary>Degraded, warning.</summary>
    Warning,
    /// <summary>Unhealthy, critical, failed.</summary>
    Critical,
}

/// <summary>One line of a message: a result's subject, status and reason.</summary>
public sealed record NotificationItem(string Kind, string Subject, NotificationTone Tone, string Status, string Reason, string? Environment, string? System)
{
    /// <summary>
    /// What is broken, stable across runs (never the run, the time or the reason): the key of -OnChange state and of
    /// PagerDuty's dedup_key.
    /// </summary>
    public string Key => string.Join('/', new[] { System, Environment, Kind, Subject }.Select(p => (p ?? "-").Trim().ToLowerInvariant()));

    /// <summary>The item of a report row (every OpsRunbook result makes rows).</summary>
    public static NotificationItem FromRow(ReportRow row, string? system = null) =>
        new(row.Kind, row.Name, ToneOf(row.Outcome), row.Status, row.Message, row.Environment, system);

    /// <summary>The tone of a report outcome.</summary>
    public static NotificationTone ToneOf(ReportOutcome outcome) => outcome switch
    {
        ReportOutcome.Fail => NotificationTone.Critical,
        ReportOutcome.Warn => NotificationTone.Warning,
        ReportOutcome.Pass => NotificationTone.Good,
        _ => NotificationTone.Info,
    };

    /// <summary>
    /// The tone of a status word, for results that crossed a job or remoting boundary as property bags: Unhealthy,
    /// Critical, Failed, Error, Overdue... are critical; Degraded, Warning, DueSoon warn; Healthy, Succeeded, Normal,
    /// Current pass.
    /// </summary>
    public static NotificationTone ToneOf(string status) => status.ToLowerInvariant() switch
    {
        "unhealthy" or "critical" or "failed" or "failure" or "error" or "overdue" or "rejected" or "down" or "crashed" or "expired" => NotificationTone.Critical,
        "degraded" or "warning" or "warn" or "duesoon" or "throttled" or "partial" or "stale" => NotificationTone.Warning,
        "healthy" or "succeeded" or "success" or "normal" or "current" or "ok" or "passed" or "resolved" or "verified" or "running" or "sent" or "accepted" => NotificationTone.Good,
        _ => NotificationTone.Info,
    };
}

/// <summary>A message before it is rendered for a channel: a title, a summary, named fields and result lines.</summary>
public sealed class NotificationMessage
{
    /// <summary>The headline.</summary>
    public required string Title { get; init; }
    /// <summary>The colour.</summary>
    public NotificationTone Tone { get; init; } = NotificationTone.Info;
    /// <summary>A paragraph under the title (may be empty).</summary>
    public string Text { get; init; } = "";
    /// <summary>Named values (Severity, Status, ETA...), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; init; } = [];
    /// <summary>Result lines.</summary>
    public IReadOnlyList<NotificationItem> Items { get; init; } = [];
    /// <summary>The system the message is about, if any.</summary>
    public string? System { get; init; }
    /// <summary>The environment the message is about, if any.</summary>
    public string? Environment { get; init; }
    /// <summary>The template it was made from (IncidentAlert, IncidentUpdate, IncidentResolved), if any.</summary>
    public string? Template { get; init; }
    /// <summary>When it was composed.</summary>
    public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>"system / environment", or whichever is known.</summary>
    public string Where => string.Join(" / ", new[] { System, Environment }.Where(s => !string.IsNullOrEmpty(s)));

    /// <summary>The message as one line of plain text (a fallback for notifications that show no blocks).</summary>
    public string PlainSummary()
    {
        var counts = Items.Count == 0 ? "" : " (" + string.Join(", ", Items.GroupBy(i => i.Status).Select(g => $"{g.Count()} {g.Key}")) + ")";
        return Title + counts;
    }
}

/// <summary>The outcome of one send: a row of output, and of a report.</summary>
public sealed class NotificationResult : IReportable
{
    /// <summary>Slack, Teams, Webhook or PagerDuty.</summary>
    public required NotificationChannel Channel { get; init; }
    /// <summary>Where it went, masked: https://hooks.slack.com/services/*** (webhook URLs and routing keys are secrets).</summary>
    public required string Target { get; init; }
    /// <summary>Sent, Accepted, Throttled, Rejected or Failed.</summary>
    public required NotificationStatus Status { get; init; }
    /// <summary>The message's title.</summary>
    public required string Title { get; init; }
    /// <summary>How many result lines it carried.</summary>
    public int Items { get; init; }
    /// <summary>How many requests were made (1 unless a 429 or a connection failure was retried).</summary>
    public int Attempts { get; init; }
    /// <summary>How long the send waited for rate limits and backoff.</summary>
    public TimeSpan Waited { get; init; }
    /// <summary>The HTTP status of the last answer; 0 without one.</summary>
    public int StatusCode { get; init; }
    /// <summary>What the service said, or why nothing was sent; never a secret.</summary>
    public string Reason { get; init; } = "";
    /// <summary>PagerDuty's dedup_key for alerts; the idempotency key (webhook-id) for signed webhooks.</summary>
    public string? Key { get; init; }
    /// <summary>The environment the message was about.</summary>
    public string? Environment { get; init; }
    /// <summary>When the send finished.</summary>
    public DateTimeOffset SentAt { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Channel} {Target}: {Title}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Status switch
        {
            NotificationStatus.Sent or NotificationStatus.Accepted => ReportOutcome.Pass,
            NotificationStatus.Throttled => ReportOutcome.Warn,
            _ => ReportOutcome.Fail,
        };
        yield return new ReportRow("Notifications", $"{Channel} {Target}", outcome, Status.ToString(), Environment, Reason.Length > 0 ? Reason : Title,
            new KeyValuePair<string, string>[] { new("Title", Title), new("Attempts", Attempts.ToString(CultureInfo.InvariantCulture)), new("Waited s", Waited.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)) },
            SentAt);
    }
}
