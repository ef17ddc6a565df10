using OpsRunbook.Engine.Health;
using static OpsRunbook.Engine.Metrics.WellKnownMetrics;

namespace OpsRunbook.Engine.Metrics;

/// <summary>Turns OpsRunbook results into observations and compares them with a threshold profile.</summary>
public static class ThresholdEvaluator
{
    /// <summary>Health-check Data keys that are metrics, and their canonical names.</summary>
    private static readonly (string key, string metric)[] DataMetrics =
    [
        ("MemoryPercent", RedisMemoryPercent),
        ("ReplicaLagSeconds", ReplicaLagSeconds),
        ("ReplicaLagBytes", ReplicaLagBytes),
        ("ConnectionUsagePercent", DbConnectionUsagePercent),
        ("Connections", DbConnections),
    ];

    private static readonly double[] HistogramQuantiles = [0.5, 0.9, 0.95, 0.99];

    /// <summary>
    /// The observations an object carries: a MetricSample's value (histograms: _p50/_p90/_p95/_p99), a health result's
    /// response time, health and metric data, a report's entries, a host's CPU, memory, load and disks.
    /// Other objects carry none.
    /// </summary>
    public static IEnumerable<MetricObservation> Observe(object item)
    {
        switch (item)
        {
            case MetricObservation o:
                yield return o;
                break;
            case MetricSample s when s.Type is MetricType.Histogram or MetricType.GaugeHistogram or MetricType.Summary:
                foreach (var q in s.Type != MetricType.Summary ? HistogramQuantiles : s.Quantiles.Keys.ToArray())
                {
                    yield return new MetricObservation($"{s.Name}_p{q * 100:0.#}", s.Series, s.Quantile(q), s.Environment, s.ScrapedAt);
                }
                break;
            case MetricSample s:
                yield return new MetricObservation(s.Name, s.Series, s.Value, s.Environment, s.Timestamp ?? s.ScrapedAt);
                break;
            case HealthReport report:
                foreach (var e in report.Entries)
                    foreach (var o in Observe(e)) yield return o;
                break;
            case HealthCheckResult r:
                yield return new MetricObservation(WellKnownMetrics.Health, r.Name, r.Status switch { HealthStatus.Healthy => 0, HealthStatus.Degraded => 1, _ => 2 }, r.Environment, r.CheckedAt);
                if (r.Kind == TargetKind.Postgres)
                {
                    // The query round trip on an open connection, as the runbooks' database latency targets mean it.
                    if (r.Data.TryGetValue("QueryMs", out var q) && q is double queryMs) yield return new MetricObservation(DbLatencyMs, r.Name, queryMs, r.Environment, r.CheckedAt);
                }
                else if (r.Status != HealthStatus.Unhealthy || r.Kind is TargetKind.Http or TargetKind.Jwks)
                {
                    yield return new MetricObservation(ResponseTimeMs, r.Name, r.LatencyMs, r.Environment, r.CheckedAt);
                }
                foreach (var (key, metric) in DataMetrics)
                {
                    if (r.Data.TryGetValue(key, out var v) && v is IConvertible c && v is not string)
                    {
                        yield return new MetricObservation(metric, r.Name, Convert.ToDouble(c, System.Globalization.CultureInfo.InvariantCulture), r.Environment, r.CheckedAt);
                    }
                }
                break;
            case IMetricSource source:
                foreach (var o in source.Observations()) yield return o;
                break;
        }
    }

    /// <summary>An alert for every observation the profile has a rule for (Normal ones included).</summary>
    public static IEnumerable<Alert> Evaluate(IEnumerable<MetricObservation> observations, ThresholdProfile profile)
    {
        foreach (var o in observations)
        {
            var rule = profile.RuleFor(o.Metric);
            if (rule is null) continue;
            yield return new Alert
            {
                Environment = o.Environment,
                Metric = rule.Metric,
                Subject = o.Subject,
                Value = o.Value,
                Severity = rule.Classify(o.Value),
                Threshold = rule.Describe(),
                Profile = profile.Name,
                RuleSource = rule.Source,
                ObservedAt = o.ObservedAt,
            };
        }
    }

    /// <summary>
    /// Sustained alerts (runbook 003's "sustained &gt; 15 minutes"): per series (environment, metric, subject), the latest
    /// sample's alert with the mildest severity of every sample in the <paramref name="window"/> before it — Critical
    /// only when every sample was critical, Warning when every one was at least a warning. A series whose samples do not
    /// reach back the whole window (allowing one scrape interval) is Normal: a short spike is no sustained breach.
    /// </summary>
    public static IEnumerable<Alert> Sustained(IEnumerable<Alert> alerts, TimeSpan window)
    {
        foreach (var series in alerts.GroupBy(a => (a.Environment, a.Metric, a.Subject)))
        {
            var ordered = series.OrderBy(a => a.ObservedAt).ToList();
            var last = ordered[^1];
            var inWindow = ordered.Where(a => a.ObservedAt >= last.ObservedAt - window).ToList();
            var gaps = ordered.Zip(ordered.Skip(1), (a, b) => b.ObservedAt - a.ObservedAt).Where(g => g > TimeSpan.Zero).Order().ToList();
            var interval = gaps.Count == 0 ? TimeSpan.Zero : gaps[gaps.Count / 2];
            var covered = gaps.Count > 0 && last.ObservedAt - ordered[0].ObservedAt + interval >= window;
            var severity = covered ? inWindow.Min(a => a.Severity) : AlertSeverity.Normal;
            var history = last.ObservedAt - ordered[0].ObservedAt;
            yield return new Alert
            {
                Environment = last.Environment, Metric = last.Metric, Subject = last.Subject, Value = last.Value, Severity = severity,
                Threshold = covered ? $"{last.Threshold}, for {Duration.Format(window)}" : $"{last.Threshold}, for {Duration.Format(window)} (samples cover {Duration.Format(history)} only)",
                Profile = last.Profile, RuleSource = last.RuleSource, ObservedAt = last.ObservedAt, For = window, Samples = inWindow.Count,
            };
        }
    }

    /// <summary>Maps a severity to a health status: Critical → Unhealthy, Warning → Degraded.</summary>
    public static HealthStatus ToHealth(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Critical => HealthStatus.Unhealthy,
        AlertSeverity.Warning => HealthStatus.Degraded,
        _ => HealthStatus.Healthy,
    };
}
