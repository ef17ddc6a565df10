namespace OpsRunbook.Engine.Logs;

/// <summary>How a log line is written.</summary>
public enum LogFormat
{
    /// <summary>Detected from the first lines.</summary>
    Auto,
    /// <summary>One JSON object per line (time/ts/@timestamp, level, msg/message, any other fields).</summary>
    Json,
    /// <summary>key=value pairs, values quoted when they hold spaces (brandur.org/logfmt).</summary>
    Logfmt,
    /// <summary>NGINX's and Apache's "combined" access log.</summary>
    NginxCombined,
    /// <summary>`docker compose logs --timestamps --no-color`: "service-1  | 2024-…Z message".</summary>
    Compose,
    /// <summary>`kubectl logs --timestamps` (with or without --prefix): "[pod/p/c] 2024-…Z message".</summary>
    Kubectl,
    /// <summary>Anything else: an optional leading timestamp and level, then the message.</summary>
    Plain,
}

/// <summary>One log line, read.</summary>
public sealed record LogRecord
{
    /// <summary>When, if the line says (UTC).</summary>
    public DateTimeOffset? Timestamp { get; init; }
    /// <summary>The level in upper case (ERROR, WARN, INFO, DEBUG…), if the line says; for access logs, from the status.</summary>
    public string? Level { get; init; }
    /// <summary>The message.</summary>
    public required string Message { get; init; }
    /// <summary>Where it came from (a file, a provider).</summary>
    public string? Source { get; init; }
    /// <summary>The service (Compose service, Railway service…).</summary>
    public string? Service { get; init; }
    /// <summary>The instance (a Fly machine, a Compose replica).</summary>
    public string? Instance { get; init; }
    /// <summary>The region (Fly.io).</summary>
    public string? Region { get; init; }
    /// <summary>stdout or stderr, where the platform says.</summary>
    public string? Stream { get; init; }
    /// <summary>The pod (Kubernetes).</summary>
    public string? Pod { get; init; }
    /// <summary>The container (Kubernetes).</summary>
    public string? Container { get; init; }
    /// <summary>The fields the line carried (JSON and logfmt keys; access-log parts).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = NoFields;

    private static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();
    /// <summary>The format it was read as.</summary>
    public LogFormat Format { get; init; }
    /// <summary>The line as it was.</summary>
    public required string Raw { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Timestamp:u} {Level} {Message}".Trim();
}
