using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRunbook.Engine.Incidents;

/// <summary>
/// The post-mortem draft of an incident, in the fields of the Google SRE book's example postmortem (Summary, Impact,
/// Root Causes, Trigger, Resolution, Detection, Action Items, Lessons Learned: what went well, what went wrong, where
/// we got lucky; Timeline), filled from the journal; what the journal does not say is marked for the author to fill in.
/// </summary>
public static class IncidentReport
{
    /// <summary>The marker of a field to fill in.</summary>
    public const string Unknown = "_To fill in._";

    /// <summary>The post-mortem fields in order, and the journal Field names that fill them.</summary>
    public static readonly IReadOnlyList<(string Heading, string Field)> Sections =
    new (string Heading, string Field)[]
    {
        ("Summary", "Summary"), ("Impact", "Impact"), ("Root Causes", "RootCause"), ("Trigger", "Trigger"),
        ("Resolution", "Resolution"), ("Detection", "Detection"),
    };

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Field(Incident i, string name) => name switch
    {
        "Resolution" => i.Resolution ?? i.Fields.GetValueOrDefault("Resolution") ?? Unknown,
        "Summary" => i.Fields.GetValueOrDefault("Summary") ?? $"{i.Title} ({i.Severity}{(i.Environment is null ? "" : ", " + i.Environment)}), declared {Utc(i.DeclaredAt)}"
            + (i.ResolvedAt is { } r ? $", resolved {Utc(r)} after {Common.Duration.Format(i.Duration)}." : ", still open."),
        _ => i.Fields.GetValueOrDefault(name) ?? Unknown,
    };

    private static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>What one timeline entry says.</summary>
    public static string Describe(IncidentEvent e) => e.Type switch
    {
        IncidentEventType.Declared => $"Declared {e.Severity}: {e.Text}",
        IncidentEventType.StatusChanged => $"Status: {e.Status}" + (e.Text is { Length: > 0 } t ? $" — {t}" : ""),
        IncidentEventType.SeverityChanged => $"Severity: {e.Severity}" + (e.Text is { Length: > 0 } t2 ? $" — {t2}" : ""),
        IncidentEventType.RoleAssigned => $"{e.Name}: {e.Person}",
        IncidentEventType.Result => $"{e.Kind}: {e.Subject} {e.Status}" + (e.Text is { Length: > 0 } r ? $" — {r}" : ""),
        IncidentEventType.Notification => $"Notified {e.Kind}: {e.Status}" + (e.Text is { Length: > 0 } n ? $" ({n})" : ""),
        IncidentEventType.ActionItem => $"Action item: {e.Text}" + (e.Person is null ? "" : $" (owner {e.Person})"),
        IncidentEventType.Field => $"{e.Name}: {e.Text}",
        IncidentEventType.Resolved => $"Resolved: {e.Text}",
        IncidentEventType.Closed => "Closed",
        _ => e.Text ?? "",
    };

    /// <summary>The draft as Markdown.</summary>
    public static string Markdown(Incident i)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Post-mortem: {Escape(i.Title)}").AppendLine();
        sb.AppendLine($"**Incident:** {i.Id} · **Severity:** {i.Severity} · **Status:** {i.Status} · **Environment:** {Escape(i.Environment ?? "-")}{(i.System is null ? "" : " (" + Escape(i.System) + ")")}  ");
        sb.AppendLine($"**Declared:** {Utc(i.DeclaredAt)} · **Resolved:** {(i.ResolvedAt is { } r ? Utc(r) : "not yet")} · **Duration:** {Common.Duration.Format(i.Duration)}  ");
        sb.AppendLine($"**Commander:** {Escape(i.Commander ?? "-")} · **Profile:** {i.Profile} · **Report due:** {(i.PostMortemDue is { } due ? Utc(due) : "-")}  ");
        sb.AppendLine($"**Authors:** {Unknown} · **Status of this document:** Draft").AppendLine();
        foreach (var (heading, field) in Sections)
        {
            sb.AppendLine($"## {heading}").AppendLine().AppendLine(Escape(Field(i, field))).AppendLine();
        }
        sb.AppendLine("## Action Items").AppendLine();
        if (i.ActionItems.Count == 0) sb.AppendLine(Unknown).AppendLine();
        else
        {
            sb.AppendLine("| Action item | Owner | Added |").AppendLine("|---|---|---|");
            foreach (var a in i.ActionItems) sb.AppendLine($"| {Escape(a.Text)} | {Escape(a.Owner ?? "-")} | {Utc(a.Added)} |");
            sb.AppendLine();
        }
        sb.AppendLine("## Lessons Learned").AppendLine();
        foreach (var (heading, field) in new[] { ("What went well", "WentWell"), ("What went wrong", "WentWrong"), ("Where we got lucky", "Lucky") })
        {
            sb.AppendLine($"### {heading}").AppendLine().AppendLine(Escape(i.Fields.GetValueOrDefault(field) ?? Unknown)).AppendLine();
        }
        sb.AppendLine("## Timeline (UTC)").AppendLine();
        sb.AppendLine("| Time | Event | By |").AppendLine("|---|---|---|");
        foreach (var e in i.Timeline) sb.AppendLine($"| {e.Time.UtcDateTime:yyyy-MM-dd HH:mm:ss} | {Escape(Describe(e))} | {Escape(e.Actor ?? "-")} |");
        return sb.ToString();
    }

    /// <summary>The draft as JSON: the incident's fields, the sections (null where unknown) and the timeline.</summary>
    public static string Json(Incident i)
    {
        var sections = new JsonObject();
        foreach (var (heading, field) in Sections)
        {
            var v = Field(i, field);
            sections[heading] = v == Unknown ? null : v;
        }
        var doc = new JsonObject
        {
            ["id"] = i.Id, ["title"] = i.Title, ["severity"] = i.Severity, ["status"] = i.Status.ToString(), ["environment"] = i.Environment, ["system"] = i.System,
            ["profile"] = i.Profile, ["declaredAt"] = i.DeclaredAt, ["resolvedAt"] = i.ResolvedAt, ["durationSeconds"] = i.Duration.TotalSeconds,
            ["commander"] = i.Commander, ["postMortemDue"] = i.PostMortemDue, ["sections"] = sections,
            ["actionItems"] = new JsonArray(i.ActionItems.Select(a => (JsonNode)new JsonObject { ["text"] = a.Text, ["owner"] = a.Owner, ["added"] = a.Added }).ToArray()),
            ["timeline"] = new JsonArray(i.Timeline.Select(e => (JsonNode)new JsonObject { ["time"] = e.Time, ["type"] = e.Type.ToString(), ["event"] = Describe(e), ["actor"] = e.Actor }).ToArray()),
        };
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}

/// <summary>A written post-mortem draft: where it went (or its text, when it went down the pipeline).</summary>
public sealed class IncidentReportDocument
{
    /// <summary>The incident it describes.</summary>
    public required string IncidentId { get; init; }
    /// <summary>Markdown or Json.</summary>
    public required string Format { get; init; }
    /// <summary>The file written, when -Path was given.</summary>
    public string? Path { get; init; }
    /// <summary>The report's text.</summary>
    public required string Content { get; init; }

    /// <inheritdoc />
    public override string ToString() => Path ?? Content;
}
