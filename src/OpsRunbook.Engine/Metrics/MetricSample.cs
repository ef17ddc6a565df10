using System.Globalization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Metrics;

/// <summary>Prometheus metric types (and Untyped for JSON values and untyped series).</summary>
public enum MetricType
{
    /// <summary>No TYPE line, or a JSON value.</summary>
    Untyped,
    /// <summary>Monotonic counter.</summary>
    Counter,
    /// <summary>A value that goes up and down.</summary>
    Gauge,
    /// <summary>Cumulative buckets, sum and count.</summary>
    Histogram,
    /// <summary>Quantiles, sum and count.</summary>
    Summary,
    /// <summary>Buckets of a value that goes up and down (OpenMetrics gaugehistogram; expfmt's GAUGE_HISTOGRAM).</summary>
    GaugeHistogram,
}

/// <summary>One bucket of a histogram: the cumulative count of observations ≤ <see cref="UpperBound"/>.</summary>
public sealed record HistogramBucket(double UpperBound, double CumulativeCount);

/// <summary>
/// One series of a metrics endpoint: a counter, gauge or untyped value, or a whole histogram or summary series
/// (its buckets or quantiles with sum and count). Labels exclude <c>le</c> and <c>quantile</c>.
/// </summary>
public sealed class MetricSample : IReportable
{
    /// <summary>The metric family name (for a histogram, without _bucket/_sum/_count); JSON: the flattened path.</summary>
    public required string Name { get; init; }
    /// <summary>The series' labels.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    /// <summary>Counter/gauge/untyped value; for histograms and summaries the sum.</summary>
    public double Value { get; init; }
    /// <summary>The type from # TYPE.</summary>
    public MetricType Type { get; init; }
    /// <summary>The # HELP text.</summary>
    public string? Help { get; init; }
    /// <summary>The sample's own timestamp, when it had one.</summary>
    public DateTimeOffset? Timestamp { get; init; }
    /// <summary>Histogram buckets in ascending order (empty otherwise).</summary>
    public IReadOnlyList<HistogramBucket> Buckets { get; init; } = [];
    /// <summary>Summary quantiles (quantile → value; empty otherwise).</summary>
    public IReadOnlyDictionary<double, double> Quantiles { get; init; } = new Dictionary<double, double>();
    /// <summary>Histogram/summary observation count.</summary>
    public double? Count { get; init; }
    /// <summary>Histogram/summary sum of observations.</summary>
    public double? Sum { get; init; }
    /// <summary>Where it was scraped from.</summary>
    public string? Source { get; init; }
    /// <summary>The environment it belongs to, if any.</summary>
    public string? Environment { get; init; }
    /// <summary>When it was scraped.</summary>
    public DateTimeOffset ScrapedAt { get; init; }

    /// <summary>The series as Prometheus writes it: <c>name{a="b"}</c>.</summary>
    public string Series => Labels.Count == 0 ? Name : Name + "{" + string.Join(",", Labels.Select(l => $"{l.Key}=\"{Escape(l.Value)}\"")) + "}";

    /// <summary>For a histogram, PromQL's histogram_quantile(q); for a summary, the exposed quantile; NaN otherwise.</summary>
    public double Quantile(double q) => Type switch
    {
        MetricType.Histogram or MetricType.GaugeHistogram => HistogramQuantile.Compute(q, Buckets),
        MetricType.Summary => Quantiles.TryGetValue(q, out var v) ? v : double.NaN,
        _ => double.NaN,
    };

    /// <inheritdoc />
    public override string ToString() => $"{Series} {Value.ToString("R", CultureInfo.InvariantCulture)}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var value = Type is MetricType.Histogram or MetricType.GaugeHistogram
            ? $"p50 {Quantile(0.5).ToString("G4", CultureInfo.InvariantCulture)}, p95 {Quantile(0.95).ToString("G4", CultureInfo.InvariantCulture)}, count {Count?.ToString(CultureInfo.InvariantCulture)}"
            : Value.ToString("G6", CultureInfo.InvariantCulture);
        yield return new ReportRow("Metrics", Series, ReportOutcome.Info, Type.ToString(), Environment, value,
            new KeyValuePair<string, string>[] { new("Source", Source ?? "") }, Timestamp ?? ScrapedAt);
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
