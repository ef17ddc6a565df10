using OpsRunbook.Engine.Notify;

namespace OpsRunbook.Engine.Incidents;

/// <summary>What -Notify sends for an incident: the runbook's template to the chat and webhook targets, and its PagerDuty alert.</summary>
public static class IncidentNotice
{
    /// <summary>
    /// The requests for <paramref name="template"/> about <paramref name="incident"/>: the message to every Slack, Teams
    /// and webhook target, and with <paramref name="alertAction"/> an Events API request keyed by the incident
    /// (<c>opsrunbook/incident/&lt;id&gt;</c>) to a PagerDuty target with a routing key — a trigger only for levels
    /// that page at once; an acknowledge or resolve always.
    /// </summary>
    public static IReadOnlyList<NotificationRequest> Requests(Incident incident, IncidentProfile profile, NotificationTemplate template,
        IReadOnlyDictionary<string, string> fields, IReadOnlyList<ResolvedTarget> targets, string? alertAction)
    {
        var filled = MessageComposer.FromTemplate(template, fields, incident.Environment, incident.System);
        var message = new NotificationMessage
        {
            Title = $"{filled.Title} — {incident.Id}: {incident.Title}", Tone = filled.Tone, Fields = filled.Fields, Environment = filled.Environment,
            System = filled.System, Template = filled.Template,
        };
        var requests = targets.Where(t => t.Channel != NotificationChannel.PagerDuty).Select(t => NotifyOperations.Post(message, t)).OfType<NotificationRequest>().ToList();
        var pagerDuty = targets.FirstOrDefault(t => t.Channel == NotificationChannel.PagerDuty && t.RoutingKey is not null);
        var level = profile.Levels.FirstOrDefault(l => string.Equals(l.Severity, incident.Severity, StringComparison.OrdinalIgnoreCase));
        if (alertAction is not null && pagerDuty is not null && (alertAction != "trigger" || level?.PagesAtOnce == true))
        {
            var item = new NotificationItem("Incidents", incident.Id + " " + incident.Title, NotificationTone.Critical, incident.Severity, incident.Title, incident.Environment, incident.System);
            requests.Add(NotifyOperations.Alert(item, alertAction, pagerDuty, Payloads.SeverityOfPriority(incident.Severity), "opsrunbook/incident/" + incident.Id.ToLowerInvariant()));
        }
        return requests;
    }
}
