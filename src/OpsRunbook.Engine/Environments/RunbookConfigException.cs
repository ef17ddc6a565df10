namespace OpsRunbook.Engine.Environments;

/// <summary>A runbook.json that cannot be used. The message carries file, line and field, and what to fix.</summary>
public sealed class RunbookConfigException(string message, string? file, int? line, string? field, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The file at fault.</summary>
    public string? File { get; } = file;
    /// <summary>1-based line, when known.</summary>
    public int? Line { get; } = line;
    /// <summary>The offending field as a path, e.g. <c>environments.production.endpoints[0].timeout</c>.</summary>
    public string? Field { get; } = field;
}
