namespace OpsRunbook.Engine.Reporting;

/// <summary>Report formats.</summary>
public enum ReportFormat
{
    /// <summary>A table per kind, worst first (GitHub step summaries, wikis, chat).</summary>
    Markdown,
    /// <summary>JUnit XML: each check a test case, failures as failures (CI test tabs).</summary>
    JUnit,
    /// <summary>JSON for other tools.</summary>
    Json,
}

/// <summary>What makes a report fail the job (<c>-FailOn</c>).</summary>
public enum ReportFailOn
{
    /// <summary>Never fail.</summary>
    None,
    /// <summary>Any Unhealthy, Critical or Failed row.</summary>
    Unhealthy,
    /// <summary>Same as Unhealthy, in alert words.</summary>
    Critical,
    /// <summary>Any Degraded or Warning row, or worse.</summary>
    Degraded,
    /// <summary>Same as Degraded, in alert words.</summary>
    Warning,
}

/// <summary>A written report: its text, where it went, and its counts.</summary>
public sealed class RunbookReport
{
    /// <summary>The format.</summary>
    public ReportFormat Format { get; init; }
    /// <summary>The title.</summary>
    public string Title { get; init; } = "OpsRunbook report";
    /// <summary>The file written, if any (with -OutputDirectory: the one in this report's format).</summary>
    public string? Path { get; init; }
    /// <summary>Every file written (-OutputDirectory: the Markdown, JSON and JUnit files).</summary>
    public IReadOnlyList<string> Files { get; set; } = [];
    /// <summary>The report text.</summary>
    public required string Content { get; init; }
    /// <summary>Rows that fail.</summary>
    public int Failed { get; init; }
    /// <summary>Rows that warn.</summary>
    public int Warnings { get; init; }
    /// <summary>Rows that pass.</summary>
    public int Passed { get; init; }
    /// <summary>All rows, information included.</summary>
    public int Total { get; init; }
    /// <summary>The rows, worst first.</summary>
    public IReadOnlyList<ReportRow> Rows { get; init; } = [];
    /// <summary>
    /// The code a script or job ends with for these results under the report's -FailOn (0 all good, 2 failed checks,
    /// 3 warnings only; without -FailOn it only informs: 2, 3 or 0).
    /// </summary>
    public RunExitCode ExitCode { get; init; }

    /// <inheritdoc />
    public override string ToString() => Content;

    /// <summary>Why the report fails under <paramref name="failOn"/>, or null when it does not.</summary>
    public string? FailureMessage(ReportFailOn failOn)
    {
        var limit = failOn switch
        {
            ReportFailOn.Unhealthy or ReportFailOn.Critical => ReportOutcome.Fail,
            ReportFailOn.Degraded or ReportFailOn.Warning => ReportOutcome.Warn,
            _ => (ReportOutcome?)null,
        };
        if (limit is null) return null;
        var bad = Rows.Where(r => r.Outcome <= limit).ToList();
        if (bad.Count == 0) return null;
        var list = string.Join("; ", bad.Take(10).Select(r => $"{r.Name}: {r.Status} ({r.Message})"));
        return $"{bad.Count} of {Total} results are {(limit == ReportOutcome.Fail ? "failing" : "degraded or failing")} (-FailOn {failOn}): {list}{(bad.Count > 10 ? "; ..." : "")}";
    }
}
