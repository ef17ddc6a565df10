using System.Collections;
using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.PowerShell;

/// <summary>A release read from the pipeline: the provider's id and the environment it belongs to.</summary>
internal sealed record PipedRelease(string Id, string? Environment);

/// <summary>Health results read from the pipeline (one, or a report's entries).</summary>
internal sealed record PipedHealth(IReadOnlyList<(string Name, HealthStatus Status, string? Environment)> Results);

/// <summary>An object that is none of the above, described for the error.</summary>
internal sealed record PipedUnknown(string Description);

/// <summary>
/// Reads what a gate or an action is given, live or deserialized. Results that crossed a job, remoting or Export-Clixml
/// boundary arrive as property bags typed "Deserialized.OpsRunbook.Engine.…": their top-level values survive (a status
/// as its name, an id as text), so a cmdlet that acts on those values reads them there. A cmdlet must never act on an
/// object it did not recognise (bind its Environment property and go on) nor pass a gate by skipping it.
/// </summary>
internal static class PipedInput
{
    private const string Deserialized = "Deserialized.";

    /// <summary>
    /// The OpsRunbook type an object is, or was before it was serialized; null for anything else. JSON (ConvertTo-Json,
    /// then ConvertFrom-Json: a job's artifact) keeps no type name, so a health result or report is known by its shape.
    /// </summary>
    public static string? OpsRunbookType(PSObject item) =>
        item.TypeNames.Select(t => t.StartsWith(Deserialized, StringComparison.Ordinal) ? t[Deserialized.Length..] : t)
            .FirstOrDefault(t => t.StartsWith("OpsRunbook.Engine.", StringComparison.Ordinal)) ?? ShapeOf(item);

    /// <summary>Whether the object is a property bag (deserialized, or read from JSON) of an OpsRunbook result rather than the live object.</summary>
    public static bool IsDeserialized(PSObject item) =>
        item.BaseObject is PSCustomObject && (item.TypeNames.Any(t => t.StartsWith(Deserialized, StringComparison.Ordinal)) || ShapeOf(item) is not null);

    /// <summary>A health result (Status, Name and a Target with an Address) or report (Status and Entries) read back from JSON.</summary>
    private static string? ShapeOf(PSObject item)
    {
        if (item.BaseObject is not PSCustomObject || Text(item, "Status") is not { } status || !Enum.TryParse<HealthStatus>(status, true, out _)) return null;
        if (item.Properties["Entries"] is not null && item.Properties["TotalDuration"] is not null) return "OpsRunbook.Engine.Health.HealthReport";
        return Text(item, "Name") is not null && item.Properties["Target"]?.Value is PSObject target && target.Properties["Address"] is not null
            ? "OpsRunbook.Engine.Health.HealthCheckResult" : null;
    }

    /// <summary>How an object is named in an error: its first type name, and what a Deserialized one means.</summary>
    public static string Describe(PSObject item)
    {
        var type = item.TypeNames.FirstOrDefault() ?? item.BaseObject?.GetType().FullName ?? "null";
        return IsDeserialized(item) ? $"a {type} (a result that crossed a job, remoting or Export-Clixml boundary)" : $"a {type}";
    }

    /// <summary>A release or health results, live or deserialized; <see cref="PipedUnknown"/> otherwise.</summary>
    public static object Read(PSObject item)
    {
        switch (item.BaseObject)
        {
            case DeploymentRelease r:
                return new PipedRelease(r.Id, r.Environment);
            case HealthCheckResult h:
                return new PipedHealth(new (string Name, HealthStatus Status, string? Environment)[] { (h.Name, h.Status, h.Environment) });
            case HealthReport report:
                return new PipedHealth(report.Entries.Select(h => (h.Name, h.Status, h.Environment)).ToList());
        }
        switch (IsDeserialized(item) ? OpsRunbookType(item) : null)
        {
            case "OpsRunbook.Engine.Deploy.DeploymentRelease" when Text(item, "Id") is { } id:
                return new PipedRelease(id, Text(item, "Environment"));
            case "OpsRunbook.Engine.Health.HealthCheckResult" when HealthOf(item) is { } result:
                return new PipedHealth(new (string Name, HealthStatus Status, string? Environment)[] { result });
            case "OpsRunbook.Engine.Health.HealthReport":
                var entries = (item.Properties["Entries"]?.Value as PSObject)?.BaseObject as IEnumerable;
                var results = entries?.Cast<object?>().Select(e => e is PSObject p ? HealthOf(p) : null).ToList();
                if (results is not null && results.All(r => r is not null)) return new PipedHealth(results.Select(r => r!.Value).ToList());
                // Entries serialized too shallowly to read: the report's own worst status and environment still say it.
                if (HealthOf(item) is { } whole) return new PipedHealth(new (string Name, HealthStatus Status, string? Environment)[] { whole });
                break;
        }
        return new PipedUnknown(Describe(item));
    }

    private static (string Name, HealthStatus Status, string? Environment)? HealthOf(PSObject item) =>
        Text(item, "Status") is { } s && Enum.TryParse<HealthStatus>(s, ignoreCase: true, out var status) && Enum.IsDefined(status)
            ? (Text(item, "Name") ?? "?", status, Text(item, "Environment"))
            : null;

    private static string? Text(PSObject item, string property) =>
        item.Properties[property]?.Value is { } v && v.ToString() is { Length: > 0 } s ? s : null;

    /// <summary>
    /// The report rows of an OpsRunbook result (what notifications and incident timelines are made of): a live result's
    /// own rows; for one that crossed a boundary, one row from its top-level words (type, Name/Target/Subject/SecretId,
    /// Status, Reason/Message, Environment). Empty for anything else.
    /// </summary>
    public static IReadOnlyList<Engine.Reporting.ReportRow> Rows(PSObject item)
    {
        if (item.BaseObject is Engine.Reporting.IReportable reportable) return reportable.ToReportRows().ToList();
        if (IsDeserialized(item) && OpsRunbookType(item) is { } type && (Text(item, "Status") ?? Text(item, "Severity")) is { } status)
        {
            // ConvertTo-Json writes an enum as its number: a health status is read back as its name.
            if (type.StartsWith("OpsRunbook.Engine.Health.", StringComparison.Ordinal) && int.TryParse(status, out var number) && Enum.IsDefined((HealthStatus)number))
            {
                status = ((HealthStatus)number).ToString();
            }
            // The section the live object's rows go to, for the common results; else the type's own name.
            var kind = type switch
            {
                "OpsRunbook.Engine.Health.HealthCheckResult" => "Health checks",
                "OpsRunbook.Engine.Health.HealthReport" => "Summary",
                "OpsRunbook.Engine.Metrics.Alert" => "Thresholds",
                _ => type[(type.LastIndexOf('.') + 1)..],
            };
            var subject = Text(item, "Name") ?? Text(item, "Target") ?? Text(item, "Subject") ?? Text(item, "SecretId") ?? kind;
            var outcome = kind == "Summary" ? Engine.Reporting.ReportOutcome.Info : Engine.Notify.NotificationItem.ToneOf(status) switch
            {
                Engine.Notify.NotificationTone.Critical => Engine.Reporting.ReportOutcome.Fail,
                Engine.Notify.NotificationTone.Warning => Engine.Reporting.ReportOutcome.Warn,
                Engine.Notify.NotificationTone.Good => Engine.Reporting.ReportOutcome.Pass,
                _ => Engine.Reporting.ReportOutcome.Info,
            };
            return new Engine.Reporting.ReportRow[] { new Engine.Reporting.ReportRow(kind, subject, outcome, status, Text(item, "Environment"), Text(item, "Reason") ?? Text(item, "Message") ?? "", [], DateTimeOffset.UtcNow) };
        }
        return [];
    }
}
