using OpsRunbook.Engine.Metrics;

namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Turns log records into metric samples, one per window and group: <c>log_records{level="ERROR"}</c> counts and, when
/// grouped by level, the window's <c>error_rate_percent</c> (ERROR and FATAL over all records), the name the runbooks'
/// thresholds use, so Test-MetricThreshold and Export-RunbookReport take them unchanged. Windows are aligned to the
/// clock (a 1m window starts on the minute), as a Prometheus range query's steps are.
/// </summary>
public sealed class LogMeasure
{
    /// <summary>The name of the count samples.</summary>
    public const string RecordsMetric = "log_records";

    private readonly TimeSpan _window;
    private readonly LogGrouping _grouping;
    private readonly LogQuery _keys = new();
    private readonly SortedDictionary<long, Dictionary<string, long>> _windows = [];

    /// <summary>A measure over windows of <paramref name="window"/>, grouped by <paramref name="grouping"/> (Template is not a grouping here).</summary>
    public LogMeasure(TimeSpan window, LogGrouping grouping)
    {
        if (window < TimeSpan.FromSeconds(1)) throw new ArgumentOutOfRangeException(nameof(window), window, "The window must be at least 1s, for example 1m or 5m.");
        if (grouping.Kind == LogGroupKind.Template) throw new ArgumentException("Measure-LogRecord groups by Level, Service, Instance, Client, Route or Field:<name>; templates are Get-LogPattern's.", nameof(grouping));
        _window = window;
        _grouping = grouping;
    }

    /// <summary>Records without a time (they fit no window).</summary>
    public long Untimed { get; private set; }

    /// <summary>Counts one record.</summary>
    public void Add(LogRecord record)
    {
        if (record.Timestamp is not { } t)
        {
            Untimed++;
            return;
        }
        var start = t.UtcTicks - (t.UtcTicks % _window.Ticks);
        if (!_windows.TryGetValue(start, out var groups)) _windows[start] = groups = new Dictionary<string, long>(StringComparer.Ordinal);
        var key = _keys.Key(record, _grouping);
        groups[key] = groups.GetValueOrDefault(key) + 1;
    }

    /// <summary>The samples, window by window (every group in every window, 0 where it had none, so a quiet window shows as 0).</summary>
    public IEnumerable<MetricSample> Samples(string? source, string? environment)
    {
        var label = _grouping.Kind == LogGroupKind.Field ? _grouping.Field! : _grouping.Kind.ToString().ToLowerInvariant();
        var all = _windows.Values.SelectMany(g => g.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var window = Common.Duration.Format(_window);
        foreach (var (start, groups) in _windows)
        {
            var at = new DateTimeOffset(start, TimeSpan.Zero);
            foreach (var key in all)
            {
                yield return Sample(RecordsMetric, new Dictionary<string, string> { [label] = key, ["window"] = window }, groups.GetValueOrDefault(key), at, source, environment,
                    $"Log records per {window} window by {label}");
            }
            if (_grouping.Kind == LogGroupKind.Level)
            {
                var total = groups.Values.Sum();
                var errors = groups.GetValueOrDefault("ERROR") + groups.GetValueOrDefault("FATAL");
                yield return Sample(WellKnownMetrics.ErrorRatePercent, new Dictionary<string, string> { ["window"] = window }, total == 0 ? 0 : Math.Round(100.0 * errors / total, 3), at, source, environment,
                    "ERROR and FATAL records as a percentage of all records in the window");
            }
        }
    }

    private static MetricSample Sample(string name, Dictionary<string, string> labels, double value, DateTimeOffset at, string? source, string? environment, string help) => new()
    {
        Name = name,
        Labels = labels,
        Value = value,
        Type = MetricType.Gauge,
        Help = help,
        Timestamp = at,
        Source = source,
        Environment = environment,
        ScrapedAt = DateTimeOffset.UtcNow,
    };
}
