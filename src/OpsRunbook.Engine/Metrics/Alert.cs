using System.Globalization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Metrics;

/// <summary>A metric compared with its threshold: Normal, Warning or Critical.</summary>
public sealed class Alert : IReportable
{
    /// <summary>The environment, if known.</summary>
    public string? Environment { get; init; }
    /// <summary>The canonical metric name.</summary>
    public required string Metric { get; init; }
    /// <summary>What was measured: the target, mount or series.</summary>
    public required string Subject { get; init; }
    /// <summary>The measured value.</summary>
    public double Value { get; init; }
    /// <summary>Normal, Warning or Critical.</summary>
    public AlertSeverity Severity { get; init; }
    /// <summary>The rule as text: <c>warning &gt; 70, critical &gt; 85</c>.</summary>
    public required string Threshold { get; init; }
    /// <summary>The profile the rule came from.</summary>
    public required string Profile { get; init; }
    /// <summary>The runbook's own words for the rule.</summary>
    public string? RuleSource { get; init; }
    /// <summary>When the value was measured.</summary>
    public DateTimeOffset ObservedAt { get; init; }
    /// <summary>With Test-MetricThreshold -For: the window every sample had to breach (the severity is the mildest of them), else null.</summary>
    public TimeSpan? For { get; init; }
    /// <summary>How many samples the severity rests on (1 without -For).</summary>
    public int Samples { get; init; } = 1;

    /// <summary>One line for people and CI annotations.</summary>
    public string Message => $"{Subject} {Metric} = {Value.ToString("0.###", CultureInfo.InvariantCulture)} ({Severity}; {Threshold})";

    /// <inheritdoc />
    public override string ToString() => Message;

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Severity switch { AlertSeverity.Critical => ReportOutcome.Fail, AlertSeverity.Warning => ReportOutcome.Warn, _ => ReportOutcome.Pass };
        yield return new ReportRow("Thresholds", $"{Subject} {Metric}", outcome, Severity.ToString(), Environment, Message,
            new KeyValuePair<string, string>[] { new("Value", Value.ToString("0.###", CultureInfo.InvariantCulture)), new("Threshold", Threshold), new("Profile", Profile) }, ObservedAt);
    }
}

/// <summary>A value to compare with a threshold: what the evaluator reads from samples, health results and host resources.</summary>
public sealed record MetricObservation(string Metric, string Subject, double Value, string? Environment, DateTimeOffset ObservedAt);

/// <summary>
/// A result that carries values for thresholds (host resources, certificates, load tests): Test-MetricThreshold compares
/// what <see cref="Observations"/> gives against the environment's profile.
/// </summary>
public interface IMetricSource
{
    /// <summary>The values to compare, each named as a well-known metric.</summary>
    IEnumerable<MetricObservation> Observations();
}
