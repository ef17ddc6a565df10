using System.Collections.ObjectModel;
using System.Globalization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Health;

/// <summary>The outcome of checking one target. A failed check is data: Status Unhealthy with a readable Reason.</summary>
public sealed class HealthCheckResult : IReportable
{
    /// <summary>The environment of the target, if any (binds to <c>-Environment</c> of the next cmdlet).</summary>
    public string? Environment { get; init; }
    /// <summary>What was checked (binds to <c>Invoke-HealthCheck -Target</c> to check it again).</summary>
    public required HealthCheckTarget Target { get; init; }
    /// <summary>The system of the target's environment, if any (several systems' results in one fleet run stay apart).</summary>
    public string? System => Target.System;
    /// <summary>The target's name.</summary>
    public string Name => Target.Name;
    /// <summary>How it was checked.</summary>
    public TargetKind Kind => Target.Kind;
    /// <summary>Healthy, Degraded or Unhealthy.</summary>
    public required HealthStatus Status { get; init; }
    /// <summary>Duration of the last attempt in milliseconds.</summary>
    public double LatencyMs { get; init; }
    /// <summary>Why it has this status, in words; never contains a secret, nor a command a CI runner would act on.</summary>
    public required string Reason { get => _reason; init => _reason = LogText.Inert(value); }
    private readonly string _reason = "";
    /// <summary>What the check learned (status code, server version, role, memory use...).</summary>
    public IReadOnlyDictionary<string, object?> Data { get; init; } = ReadOnlyDictionary<string, object?>.Empty;
    /// <summary>Each condition and whether it held.</summary>
    public IReadOnlyList<ConditionResult> Conditions { get; init; } = [];
    /// <summary>How many attempts were made (1 + retries used).</summary>
    public int Attempts { get; init; } = 1;
    /// <summary>When the check finished.</summary>
    public DateTimeOffset CheckedAt { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Name}: {Reason}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Health checks", Name, Outcome(Status), Status.ToString(), Environment, Reason,
            new KeyValuePair<string, string>[] { new("Kind", Kind.ToString()), new("Latency ms", LatencyMs.ToString("0", CultureInfo.InvariantCulture)), new("Attempts", Attempts.ToString(CultureInfo.InvariantCulture)) },
            CheckedAt, LatencyMs);
    }

    /// <summary>Healthy passes, Degraded warns, Unhealthy fails.</summary>
    public static ReportOutcome Outcome(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => ReportOutcome.Pass,
        HealthStatus.Degraded => ReportOutcome.Warn,
        _ => ReportOutcome.Fail,
    };
}

/// <summary>One condition and its outcome, in Gatus's words: <c>[STATUS] (503) == 200</c>.</summary>
public sealed record ConditionResult(string Condition, bool Success, string Description);

/// <summary>The worst-entry summary of a set of results (<c>-Summary</c>).</summary>
public sealed class HealthReport : IReportable
{
    /// <summary>The environment, when all entries share one.</summary>
    public string? Environment { get; init; }
    /// <summary>The worst entry's status; Healthy for an empty report.</summary>
    public required HealthStatus Status { get; init; }
    /// <summary>The results, worst first.</summary>
    public required IReadOnlyList<HealthCheckResult> Entries { get; init; }
    /// <summary>Wall-clock time from the first check's start to the last result.</summary>
    public TimeSpan TotalDuration { get; init; }
    /// <summary>Count of Healthy entries.</summary>
    public int Healthy => Entries.Count(e => e.Status == HealthStatus.Healthy);
    /// <summary>Count of Degraded entries.</summary>
    public int Degraded => Entries.Count(e => e.Status == HealthStatus.Degraded);
    /// <summary>Count of Unhealthy entries.</summary>
    public int Unhealthy => Entries.Count(e => e.Status == HealthStatus.Unhealthy);
    /// <summary>When the report was made.</summary>
    public DateTimeOffset CheckedAt { get; init; }
    /// <summary>For Wait-HealthCheck: the round this report is (1, 2, ...); null for a single check.</summary>
    public int? Round { get; init; }

    // The next four let a report share the results' table: -Summary ends the table with one summary row.

    /// <summary>"summary", or "round N" for Wait-HealthCheck.</summary>
    public string Name => Round is { } r ? $"round {r}" : "summary";
    /// <summary>Always "Summary".</summary>
    public string Kind => "Summary";
    /// <summary><see cref="TotalDuration"/> in milliseconds.</summary>
    public double LatencyMs => TotalDuration.TotalMilliseconds;
    /// <summary>The counts, and the targets that are not healthy.</summary>
    public string Reason
    {
        get
        {
            var counts = $"{Entries.Count} checked: {Healthy} healthy, {Degraded} degraded, {Unhealthy} unhealthy";
            var failing = Entries.Where(e => e.Status != HealthStatus.Healthy).Select(e => e.Name).ToList();
            return failing.Count == 0 ? counts : $"{counts} ({string.Join(", ", failing)})";
        }
    }

    /// <summary>Builds a report: status is the minimum (worst) of the entries, entries sorted worst first then by name.</summary>
    public static HealthReport From(IEnumerable<HealthCheckResult> results, TimeSpan totalDuration, DateTimeOffset now, int? round = null)
    {
        var entries = results.OrderBy(r => r.Status).ThenBy(r => r.Name, StringComparer.OrdinalIgnoreCase).ToList();
        var envs = entries.Select(e => e.Environment).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return new HealthReport
        {
            Environment = envs.Count == 1 ? envs[0] : null,
            Status = entries.Count == 0 ? HealthStatus.Healthy : entries.Min(e => e.Status),
            Entries = entries,
            TotalDuration = totalDuration,
            CheckedAt = now,
            Round = round,
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Status}: {Healthy} healthy, {Degraded} degraded, {Unhealthy} unhealthy";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows() => ToReportRows(includeEntries: true);

    /// <summary>The summary row, and the entries' rows unless they are reported on their own.</summary>
    public IEnumerable<ReportRow> ToReportRows(bool includeEntries)
    {
        // The summary is an aggregate, not a check: its entries carry the verdicts, so it never counts as failing or passing.
        yield return new ReportRow("Summary", Environment ?? "all", ReportOutcome.Info, Status.ToString(), Environment, ToString(),
            new KeyValuePair<string, string>[] { new("Checks", Entries.Count.ToString(CultureInfo.InvariantCulture)), new("Duration", TotalDuration.ToString(@"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture)) },
            CheckedAt, TotalDuration.TotalMilliseconds);
        if (!includeEntries) yield break;
        foreach (var row in Entries.SelectMany(e => e.ToReportRows())) yield return row;
    }
}
