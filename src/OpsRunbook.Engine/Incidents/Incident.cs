using System.Globalization;
using System.Text.Json.Serialization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Incidents;

/// <summary>Where an incident stands.</summary>
public enum IncidentStatus
{
    /// <summary>Declared; the cause is being looked for.</summary>
    Investigating,
    /// <summary>The cause is known.</summary>
    Identified,
    /// <summary>A fix or workaround is being applied.</summary>
    Mitigating,
    /// <summary>Fixed; watching for recurrence.</summary>
    Monitoring,
    /// <summary>Over for users.</summary>
    Resolved,
    /// <summary>Over, the review done or waived.</summary>
    Closed,
}

/// <summary>What an event of the journal records.</summary>
public enum IncidentEventType
{
    /// <summary>The incident was declared (title, severity, profile, environment).</summary>
    Declared,
    /// <summary>The status changed.</summary>
    StatusChanged,
    /// <summary>The severity changed.</summary>
    SeverityChanged,
    /// <summary>Someone took a role (commander, communications, scribe…).</summary>
    RoleAssigned,
    /// <summary>A note for the timeline.</summary>
    Note,
    /// <summary>An OpsRunbook result: a check, a rollback, a rotation… with its status and reason.</summary>
    Result,
    /// <summary>A notification or page went out.</summary>
    Notification,
    /// <summary>Follow-up work, with an owner.</summary>
    ActionItem,
    /// <summary>A field of the post-mortem (impact, root cause, trigger, detection, lessons…).</summary>
    Field,
    /// <summary>Resolved, with the resolution.</summary>
    Resolved,
    /// <summary>Closed.</summary>
    Closed,
}

/// <summary>
/// One line of an incident's append-only journal. Events are never changed or removed; the incident's state is
/// computed from them in (time, id) order, so writers in several processes never overwrite each other.
/// </summary>
public sealed record IncidentEvent
{
    /// <summary>Sorts by time: yyyyMMddTHHmmss.fffZ-random.</summary>
    public required string Id { get; init; }
    /// <summary>The incident it belongs to.</summary>
    public required string IncidentId { get; init; }
    /// <summary>When it happened (UTC).</summary>
    public required DateTimeOffset Time { get; init; }
    /// <summary>What it records.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<IncidentEventType>))]
    public required IncidentEventType Type { get; init; }
    /// <summary>Who did it (the OS user, or -Actor).</summary>
    public string? Actor { get; init; }
    /// <summary>Its text: a note, a title, a resolution, an action item, a result's reason.</summary>
    public string? Text { get; init; }
    /// <summary>A status (StatusChanged, Result).</summary>
    public string? Status { get; init; }
    /// <summary>A severity (Declared, SeverityChanged).</summary>
    public string? Severity { get; init; }
    /// <summary>A role or a field name.</summary>
    public string? Name { get; init; }
    /// <summary>The person in a role, or an action item's owner.</summary>
    public string? Person { get; init; }
    /// <summary>A result's kind (Health checks, Rollbacks…) or a notification's channel.</summary>
    public string? Kind { get; init; }
    /// <summary>A result's subject.</summary>
    public string? Subject { get; init; }
    /// <summary>Declared: the environment.</summary>
    public string? Environment { get; init; }
    /// <summary>Declared: the system.</summary>
    public string? System { get; init; }
    /// <summary>Declared: the profile's name.</summary>
    public string? Profile { get; init; }

    /// <summary>A new id that sorts by <paramref name="time"/>.</summary>
    public static string NewId(DateTimeOffset time) => SortableId.New(time);
}

/// <summary>An action item of an incident.</summary>
public sealed record IncidentActionItem(string Text, string? Owner, DateTimeOffset Added);

/// <summary>An incident as its journal says it is now, with its response and escalation deadlines.</summary>
public sealed class Incident : IReportable
{
    /// <summary>INC-20261130-081536-ab12.</summary>
    public required string Id { get; init; }
    /// <summary>What is wrong, in a line.</summary>
    public required string Title { get; init; }
    /// <summary>P0…P4 (as the profile names them).</summary>
    public required string Severity { get; init; }
    /// <summary>Investigating … Closed.</summary>
    public required IncidentStatus Status { get; init; }
    /// <summary>The environment (binds to -Environment of the next cmdlet).</summary>
    public string? Environment { get; init; }
    /// <summary>The system.</summary>
    public string? System { get; init; }
    /// <summary>The profile whose rules apply.</summary>
    public required string Profile { get; init; }
    /// <summary>When it was declared.</summary>
    public required DateTimeOffset DeclaredAt { get; init; }
    /// <summary>When it was resolved.</summary>
    public DateTimeOffset? ResolvedAt { get; init; }
    /// <summary>When it was closed.</summary>
    public DateTimeOffset? ClosedAt { get; init; }
    /// <summary>Role → person (Commander, Communications…).</summary>
    public IReadOnlyDictionary<string, string> Roles { get; init; } = new Dictionary<string, string>();
    /// <summary>The incident commander, if one was named.</summary>
    public string? Commander => Roles.TryGetValue("Commander", out var c) ? c : null;
    /// <summary>The resolution, once resolved.</summary>
    public string? Resolution { get; init; }
    /// <summary>Post-mortem fields given so far (Impact, RootCause, Trigger, Detection, LessonsLearned…).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = new Dictionary<string, string>();
    /// <summary>Follow-up work.</summary>
    public IReadOnlyList<IncidentActionItem> ActionItems { get; init; } = [];
    /// <summary>Every event, in order.</summary>
    public IReadOnlyList<IncidentEvent> Timeline { get; init; } = [];
    /// <summary>When a first response is due (declared + the level's response time).</summary>
    public DateTimeOffset ResponseDue { get; init; }
    /// <summary>When someone first responded (the first event after the declaration by anyone), if yet.</summary>
    public DateTimeOffset? RespondedAt { get; init; }
    /// <summary>No response yet and the response time has passed.</summary>
    public bool Overdue { get; init; }
    /// <summary>The next escalation step still ahead while the incident is open ("CTO at 08:45Z"), if any.</summary>
    public string? NextEscalation { get; init; }
    /// <summary>When the post-mortem is due (resolved + the profile's deadline), once resolved.</summary>
    public DateTimeOffset? PostMortemDue { get; init; }
    /// <summary>How long it lasted (to resolution, or until now).</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>Whether it is still open (not Resolved or Closed).</summary>
    public bool IsOpen => Status is not (IncidentStatus.Resolved or IncidentStatus.Closed);

    /// <inheritdoc />
    public override string ToString() => $"{Id} {Severity} {Status}: {Title}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = IsOpen ? (Overdue ? ReportOutcome.Fail : ReportOutcome.Warn) : ReportOutcome.Pass;
        yield return new ReportRow("Incidents", $"{Id} {Title}", outcome, $"{Severity} {Status}", Environment,
            Resolution ?? (Overdue ? $"response overdue since {ResponseDue:u}" : NextEscalation is null ? "" : "next: " + NextEscalation),
            new KeyValuePair<string, string>[] { new("Severity", Severity), new("Declared", DeclaredAt.ToString("u", CultureInfo.InvariantCulture)), new("Duration", Common.Duration.Format(Duration)) },
            Timeline.Count > 0 ? Timeline[^1].Time : DeclaredAt, Duration.TotalMilliseconds);
    }

    /// <summary>The incident its events describe, judged at <paramref name="now"/> by <paramref name="profile"/> (or the Declared event's).</summary>
    public static Incident Fold(IReadOnlyList<IncidentEvent> events, DateTimeOffset now, IncidentProfile? profile = null)
    {
        var ordered = events.OrderBy(e => e.Time).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();
        var declared = ordered.FirstOrDefault(e => e.Type == IncidentEventType.Declared)
            ?? throw new InvalidDataException($"incident {events.FirstOrDefault()?.IncidentId} has no Declared event; its journal is damaged");
        profile ??= IncidentProfile.Get(declared.Profile ?? "default");
        string title = declared.Text ?? declared.IncidentId, severity = declared.Severity ?? profile.Levels[0].Severity;
        var status = IncidentStatus.Investigating;
        DateTimeOffset? resolved = null, closed = null, responded = null;
        string? resolution = null;
        var roles = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var actions = new List<IncidentActionItem>();
        foreach (var e in ordered)
        {
            if (e.Type != IncidentEventType.Declared && e.Type != IncidentEventType.Notification && e.Type != IncidentEventType.Result) responded ??= e.Time;
            switch (e.Type)
            {
                case IncidentEventType.StatusChanged when Enum.TryParse<IncidentStatus>(e.Status, true, out var s):
                    status = s;
                    if (s == IncidentStatus.Resolved) resolved ??= e.Time;
                    break;
                case IncidentEventType.SeverityChanged when e.Severity is { } sev:
                    severity = sev;
                    break;
                case IncidentEventType.RoleAssigned when e.Name is { } role && e.Person is { } person:
                    roles[role] = person;
                    break;
                case IncidentEventType.Field when e.Name is { } name && e.Text is { } text:
                    fields[name] = text;
                    break;
                case IncidentEventType.ActionItem when e.Text is { } item:
                    actions.Add(new IncidentActionItem(item, e.Person, e.Time));
                    break;
                case IncidentEventType.Resolved:
                    status = IncidentStatus.Resolved;
                    resolved = e.Time;
                    resolution = e.Text ?? resolution;
                    break;
                case IncidentEventType.Closed:
                    status = IncidentStatus.Closed;
                    closed = e.Time;
                    resolved ??= e.Time;
                    break;
            }
        }
        var level = profile.Levels.FirstOrDefault(l => string.Equals(l.Severity, severity, StringComparison.OrdinalIgnoreCase)) ?? profile.Levels[0];
        var due = declared.Time + level.ResponseTime;
        var open = status is not (IncidentStatus.Resolved or IncidentStatus.Closed);
        var next = open
            ? level.Escalation.Where(x => declared.Time + x.After > now).Select(x => $"{x.Who} at {(declared.Time + x.After).UtcDateTime:HH:mm}Z").FirstOrDefault()
            : null;
        return new Incident
        {
            Id = declared.IncidentId, Title = title, Severity = severity, Status = status, Environment = declared.Environment, System = declared.System,
            Profile = profile.Name, DeclaredAt = declared.Time, ResolvedAt = resolved, ClosedAt = closed, Roles = roles, Resolution = resolution,
            Fields = fields, ActionItems = actions, Timeline = ordered, ResponseDue = due, RespondedAt = responded,
            Overdue = open && responded is null && now > due, NextEscalation = next,
            PostMortemDue = resolved is { } r && profile.PostMortemWithin is { } pm ? r + pm : null,
            Duration = (resolved ?? now) - declared.Time,
        };
    }

    /// <summary>A new incident id: INC-yyyyMMdd-HHmmss-xxxx.</summary>
    public static string NewId(DateTimeOffset time) =>
        "INC-" + time.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexString(global::System.Security.Cryptography.RandomNumberGenerator.GetBytes(2)).ToLowerInvariant();
}
