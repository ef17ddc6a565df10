namespace OpsRunbook.Engine.Reporting;

/// <summary>How a row counts in a report: a failure, a warning, a pass, or information (a metric sample).</summary>
public enum ReportOutcome
{
    /// <summary>Unhealthy, Critical, Failed: fails the report.</summary>
    Fail = 0,
    /// <summary>Degraded, Warning.</summary>
    Warn = 1,
    /// <summary>Healthy, Normal, Succeeded.</summary>
    Pass = 2,
    /// <summary>A value without a verdict.</summary>
    Info = 3,
}

/// <summary>
/// One line of a report, whatever result it came from. Its texts are made inert for CI runners as the row is made
/// (<see cref="LogText.Inert"/>): a row's words may come from a server, and every format and annotation repeats them.
/// </summary>
public sealed record ReportRow(
    string Kind,
    string Name,
    ReportOutcome Outcome,
    string Status,
    string? Environment,
    string Message,
    IReadOnlyList<KeyValuePair<string, string>> Columns,
    DateTimeOffset Timestamp,
    double? DurationMs = null)
{
    /// <summary>What was checked or measured.</summary>
    public string Name { get; init; } = LogText.Inert(Name);

    /// <summary>The status in words (Unhealthy, Critical, Failed...).</summary>
    public string Status { get; init; } = LogText.Inert(Status);

    /// <summary>Why, in words.</summary>
    public string Message { get; init; } = LogText.Inert(Message);

    /// <summary>Extra columns (name, value).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Columns { get; init; } =
        Columns.Select(c => new KeyValuePair<string, string>(c.Key, LogText.Inert(c.Value))).ToList();
}

/// <summary>A result type that can appear in Export-RunbookReport. Later result types implement it to join reports.</summary>
public interface IReportable
{
    /// <summary>The rows this object contributes.</summary>
    IEnumerable<ReportRow> ToReportRows();
}

/// <summary>Rows made elsewhere (from a result that crossed a process boundary as a property bag), reported as they are.</summary>
public sealed class ReportRows(IReadOnlyList<ReportRow> rows) : IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows() => rows;
}
