namespace OpsRunbook.Engine.Notify;

/// <summary>The runbooks' message templates (runbook 004, "Communication Templates").</summary>
public enum NotificationTemplate
{
    /// <summary>🚨 INCIDENT ALERT: Severity, Status, Impact, ETA, Lead.</summary>
    IncidentAlert,
    /// <summary>📊 INCIDENT UPDATE: Status, Progress, Next Steps, ETA.</summary>
    IncidentUpdate,
    /// <summary>✅ INCIDENT RESOLVED: Duration, Root Cause, Resolution, Follow-up.</summary>
    IncidentResolved,
}

/// <summary>Turns results into few messages, and fills the runbooks' templates.</summary>
public static class MessageComposer
{
    /// <summary>
    /// One message per environment (results of one run about one environment are one message, not one per check),
    /// titled with what is wrong, coloured by the worst line, lines ordered worst first.
    /// </summary>
    public static IReadOnlyList<NotificationMessage> FromItems(IReadOnlyList<NotificationItem> items, string? title = null, string? text = null, string? system = null)
    {
        if (items.Count == 0) return [];
        return items.GroupBy(i => i.Environment ?? "", StringComparer.OrdinalIgnoreCase).Select(g =>
        {
            var lines = g.OrderByDescending(i => i.Tone).ThenBy(i => i.Kind, StringComparer.Ordinal).ThenBy(i => i.Subject, StringComparer.Ordinal).ToList();
            var worst = lines.Max(i => i.Tone);
            var bad = lines.Count(i => i.Tone == NotificationTone.Critical);
            var warn = lines.Count(i => i.Tone == NotificationTone.Warning);
            var env = g.Key.Length > 0 ? g.Key : null;
            var kinds = string.Join(", ", lines.Select(l => l.Kind).Distinct(StringComparer.Ordinal));
            var what = bad > 0 ? $"{bad} failing" + (warn > 0 ? $", {warn} warning" : "")
                : warn > 0 ? $"{warn} warning"
                : "all good";
            return new NotificationMessage
            {
                Title = title ?? $"{kinds}: {what}" + (env is null ? "" : $" in {env}"),
                Tone = worst,
                Text = text ?? "",
                Items = lines,
                Environment = env,
                System = system ?? lines.Select(l => l.System).FirstOrDefault(s => s is not null),
            };
        }).ToList();
    }

    /// <summary>
    /// A runbook template with its fields; fields not given read "TBD" (the ETA of a first alert is "Investigating"),
    /// as the runbook's blanks do. Extra fields are added after the template's own.
    /// </summary>
    public static NotificationMessage FromTemplate(NotificationTemplate template, IReadOnlyDictionary<string, string> fields, string? environment, string? system,
        IReadOnlyList<NotificationItem>? items = null)
    {
        var (title, tone, names) = template switch
        {
            NotificationTemplate.IncidentAlert => ("🚨 INCIDENT ALERT", NotificationTone.Critical, new[] { "Severity", "Status", "Impact", "ETA", "Lead" }),
            NotificationTemplate.IncidentUpdate => ("📊 INCIDENT UPDATE", NotificationTone.Warning, new[] { "Status", "Progress", "Next Steps", "ETA" }),
            _ => ("✅ INCIDENT RESOLVED", NotificationTone.Good, new[] { "Duration", "Root Cause", "Resolution", "Follow-up" }),
        };
        string Value(string name) =>
            fields.FirstOrDefault(f => string.Equals(f.Key.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal), name.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)).Value
            ?? (template, name) switch
            {
                (NotificationTemplate.IncidentAlert, "Status") => "Investigating",
                (NotificationTemplate.IncidentAlert, "ETA") => "Investigating",
                _ => "TBD",
            };
        var ordered = names.Select(n => new KeyValuePair<string, string>(n, Value(n))).ToList();
        var known = names.Select(n => n.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        ordered.AddRange(fields.Where(f => !known.Contains(f.Key.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal))));
        return new NotificationMessage
        {
            Title = title + (environment is null ? "" : $" — {environment}"),
            Tone = tone,
            Fields = ordered,
            Items = items ?? [],
            Environment = environment,
            System = system,
            Template = template.ToString(),
        };
    }
}
