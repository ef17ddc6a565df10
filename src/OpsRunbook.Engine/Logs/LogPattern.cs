namespace OpsRunbook.Engine.Logs;

/// <summary>The runbooks' own log questions, each a filter and a default grouping.</summary>
public enum LogPreset
{
    /// <summary>Every line, grouped by template.</summary>
    None,
    /// <summary>Lines at ERROR or FATAL, grouped by template ("errors by type").</summary>
    Error,
    /// <summary>Failed sign-ins (login/password/authentication with failed/invalid/denied/rejected/incorrect), grouped by the client address ("failed logins by source").</summary>
    FailedLogin,
    /// <summary>Refused requests: 401/403 statuses, unauthorized, forbidden, denied, blocked, failed; grouped by template.</summary>
    Auth,
    /// <summary>Requests slower than the threshold (response_time, duration, latency… fields or words), grouped by route.</summary>
    SlowRequest,
}

/// <summary>What the records are grouped by.</summary>
public enum LogGroupKind
{
    /// <summary>The message's template, mined Drain-style after masking.</summary>
    Template,
    /// <summary>A field's value (JSON/logfmt key, access-log part, or name=value in the message).</summary>
    Field,
    /// <summary>The level.</summary>
    Level,
    /// <summary>The service.</summary>
    Service,
    /// <summary>The instance (machine, replica, pod).</summary>
    Instance,
    /// <summary>The client address: ip/client_ip/remote_addr… fields, else the first IP address in the message.</summary>
    Client,
    /// <summary>The request path (route/path/url fields, the access log's request, or the first /path in the message), ids masked.</summary>
    Route,
}

/// <summary>A grouping: a kind and, for <see cref="LogGroupKind.Field"/>, the field's name.</summary>
public sealed record LogGrouping(LogGroupKind Kind, string? Field = null)
{
    /// <summary>Reads <c>Template</c>, <c>Level</c>, <c>Service</c>, <c>Instance</c>, <c>Client</c>, <c>Route</c> or <c>Field:&lt;name&gt;</c> (any case).</summary>
    public static LogGrouping Parse(string text)
    {
        var t = text.Trim();
        if (t.StartsWith("Field:", StringComparison.OrdinalIgnoreCase))
        {
            var name = t[6..].Trim();
            if (name.Length == 0) throw new FormatException("-GroupBy Field: needs a field name after the colon, e.g. Field:error_type.");
            return new LogGrouping(LogGroupKind.Field, name);
        }
        if (Enum.TryParse<LogGroupKind>(t, ignoreCase: true, out var kind) && kind != LogGroupKind.Field && !t.All(char.IsDigit)) return new LogGrouping(kind);
        throw new FormatException($"-GroupBy '{text}' is not a grouping: use Template, Level, Service, Instance, Client, Route or Field:<name>.");
    }

    /// <inheritdoc />
    public override string ToString() => Kind == LogGroupKind.Field ? $"Field:{Field}" : Kind.ToString();
}

/// <summary>One group of log records: a template (or a field's value) and how often, when and at which levels it occurred.</summary>
public sealed class LogPattern
{
    /// <summary>The template (variable parts as &lt;*&gt;, &lt;NUM&gt;, &lt;IP&gt;…) or the grouped value.</summary>
    public required string Pattern { get; init; }
    /// <summary>What the records were grouped by (Template, Client, Field:error_type…).</summary>
    public required string GroupBy { get; init; }
    /// <summary>How many records.</summary>
    public long Count { get; init; }
    /// <summary>The share of all matching records, in percent.</summary>
    public double Percent { get; init; }
    /// <summary>The earliest timestamp among them.</summary>
    public DateTimeOffset? FirstSeen { get; init; }
    /// <summary>The latest timestamp among them.</summary>
    public DateTimeOffset? LastSeen { get; init; }
    /// <summary>Records per level (levels as ConvertFrom-LogLine names them; "-" for none).</summary>
    public IReadOnlyDictionary<string, long> Levels { get; init; } = new Dictionary<string, long>();
    /// <summary>The levels, most frequent first: "ERROR 120, FATAL 3".</summary>
    public string LevelSummary => string.Join(", ", Levels.OrderByDescending(l => l.Value).ThenBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key} {l.Value}"));
    /// <summary>The first line of the group, as it was (secrets masked).</summary>
    public string? Example { get; init; }
    /// <summary>Where the records came from (files, environments).</summary>
    public string? Source { get; init; }
    /// <summary>The preset that selected the records, if any.</summary>
    public LogPreset Preset { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Count} {Pattern}";
}

/// <summary>How a template changed between two windows.</summary>
public enum LogPatternChangeKind
{
    /// <summary>Seen now and not in the baseline.</summary>
    New,
    /// <summary>Its rate rose by the spike factor or more.</summary>
    Spike,
    /// <summary>Its rate fell to 1/factor or less.</summary>
    Drop,
    /// <summary>In the baseline and no longer seen.</summary>
    Gone,
    /// <summary>About the same rate.</summary>
    Same,
}

/// <summary>One template compared between a baseline (before a deployment) and now.</summary>
public sealed class LogPatternChange
{
    /// <summary>The template (or grouped value).</summary>
    public required string Pattern { get; init; }
    /// <summary>New, Spike, Drop, Gone or Same.</summary>
    public LogPatternChangeKind Change { get; init; }
    /// <summary>Records in the baseline.</summary>
    public long BaselineCount { get; init; }
    /// <summary>Records now.</summary>
    public long CurrentCount { get; init; }
    /// <summary>Records per minute in the baseline (null when its window is unknown: then the counts are compared).</summary>
    public double? BaselineRate { get; init; }
    /// <summary>Records per minute now.</summary>
    public double? CurrentRate { get; init; }
    /// <summary>Current over baseline rate (or count); null for New and Gone.</summary>
    public double? Ratio { get; init; }
    /// <summary>The levels now (or in the baseline, for Gone).</summary>
    public string? LevelSummary { get; init; }
    /// <summary>An example line now (or in the baseline, for Gone).</summary>
    public string? Example { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Change} {Pattern}";
}
