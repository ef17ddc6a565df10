using static OpsRunbook.Engine.Metrics.WellKnownMetrics;

namespace OpsRunbook.Engine.Metrics;

/// <summary>A named threshold table, such as one runbook's.</summary>
public sealed class ThresholdProfile
{
    /// <summary>Profile name (paintbox, formula-pm, cardmint, sentia, or an environment's).</summary>
    public required string Name { get; init; }
    /// <summary>Where the table comes from.</summary>
    public required string Description { get; init; }
    /// <summary>Rules by canonical metric name.</summary>
    public required IReadOnlyDictionary<string, ThresholdRule> Rules { get; init; }

    /// <summary>The rule for a metric, if the profile has one.</summary>
    public ThresholdRule? RuleFor(string metric) => Rules.GetValueOrDefault(WellKnownMetrics.Canonical(metric)) ?? Universal.GetValueOrDefault(WellKnownMetrics.Canonical(metric));

    /// <summary>
    /// Rules every profile has unless it sets its own (no runbook's table names them): a certificate warns 30 days
    /// before it expires and is critical 7 days before, the renewal windows of ACME clients and of most CAs' reminders.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, ThresholdRule> Universal = new Dictionary<string, ThresholdRule>(StringComparer.OrdinalIgnoreCase)
    {
        [WellKnownMetrics.CertificateDaysRemaining] = new(WellKnownMetrics.CertificateDaysRemaining, 30, 7, ThresholdDirection.Below, "> 30 days",
            "OpsRunbook default: renew 30 days ahead (warning), 7 days left is critical"),
    };

    /// <summary>This profile with <paramref name="overrides"/> replacing or adding rules.</summary>
    public ThresholdProfile With(string name, IEnumerable<ThresholdRule> overrides)
    {
        var rules = new Dictionary<string, ThresholdRule>(Rules, StringComparer.OrdinalIgnoreCase);
        foreach (var r in overrides) rules[WellKnownMetrics.Canonical(r.Metric)] = r with { Metric = WellKnownMetrics.Canonical(r.Metric) };
        return new ThresholdProfile { Name = name, Description = $"{Description}, overridden by {name}", Rules = rules };
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Rules.Count} rules)";

    private static ThresholdProfile Make(string name, string description, params ThresholdRule[] rules) => new()
    {
        Name = name,
        Description = description,
        Rules = rules.ToDictionary(r => r.Metric, StringComparer.OrdinalIgnoreCase),
    };

    /// <summary>Runbook 000 (Paintbox operations guide), "Monitoring &amp; Alerts — Key Metrics".</summary>
    public static readonly ThresholdProfile Paintbox = Make("paintbox", "runbook 000 Paintbox, Key Metrics table",
        new(CpuPercent, 70, 85, Normal: "< 60%", Source: "CPU Usage | < 60% | > 70% | > 85%"),
        new(MemoryPercent, 80, 90, Normal: "< 70%", Source: "Memory Usage | < 70% | > 80% | > 90%"),
        new(ResponseTimeP95Ms, 500, 1000, Normal: "< 200ms", Source: "Response Time (p95) | < 200ms | > 500ms | > 1000ms"),
        new(ErrorRatePercent, 1, 5, Normal: "< 0.1%", Source: "Error Rate | < 0.1% | > 1% | > 5%"),
        new(DbConnections, 18, 20, Normal: "< 15", Source: "Database Connections | < 15 | > 18 | > 20"),
        new(RedisMemoryPercent, 80, 90, Normal: "< 70%", Source: "Redis Memory | < 70% | > 80% | > 90%"));

    /// <summary>Runbook 001 (Formula PM), "Alert Thresholds": critical and warning alerts.</summary>
    public static readonly ThresholdProfile FormulaPm = Make("formula-pm", "runbook 001 Formula PM, Alert Thresholds",
        new(ErrorRatePercent, 1, 5, Source: "Critical: Error rate > 5%; Warning: Error rate > 1%"),
        new(ResponseTimeMs, 1000, 2000, Source: "Critical: Response time > 2 seconds; Warning: Response time > 1 second"),
        new(CpuPercent, 80, null, Source: "Warning: CPU usage > 80%"),
        new(MemoryPercent, 85, null, Source: "Warning: Memory usage > 85%"),
        new(DiskPercent, 80, 95, Source: "Critical: Disk usage > 95%; Warning: Disk usage > 80%"),
        new(WellKnownMetrics.Health, null, 1.5, Source: "Critical: Service completely down; Database connection failures"));

    /// <summary>Runbook 003 (CardMint), "Critical Metrics" and "When to Scale Up".</summary>
    public static readonly ThresholdProfile CardMint = Make("cardmint", "runbook 003 CardMint, Critical Metrics",
        new(DbLatencyMs, 100, 150, Normal: "<100ms target", Source: "Latency: <100ms target, alert >150ms"),
        new(DbConnectionUsagePercent, 80, 90, Normal: "<80%", Source: "Pool Utilization: <80% normal, alert >90%"),
        new(ReplicaLagSeconds, 10, 30, Normal: "<10s", Source: "Replica Lag: <10s normal, alert >30s"),
        new(StoragePercent, 70, 85, Normal: "<70% full", Source: "Storage: <70% full, alert >85%"),
        new(CpuPercent, 75, null, Source: "Scale up: CPU usage >75% sustained >15 minutes"),
        new(MemoryPercent, 85, null, Source: "Scale up: Memory usage >85% sustained >10 minutes"),
        new(ResponseTimeP95Ms, 100, null, Source: "Scale up: Latency >100ms p95 sustained >5 minutes"));

    /// <summary>Runbook 004 (Sentia Manufacturing), "System Health Metrics" and "Business Metrics".</summary>
    public static readonly ThresholdProfile Sentia = Make("sentia", "runbook 004 Sentia, System Health Metrics",
        new(CpuPercent, 80, 90, Normal: "< 80%", Source: "CPU Usage: < 80% (Alert at 90%)"),
        new(MemoryPercent, 85, 95, Normal: "< 85%", Source: "Memory Usage: < 85% (Alert at 95%)"),
        new(DiskPercent, 80, 90, Normal: "< 80%", Source: "Disk Usage: < 80% (Alert at 90%)"),
        new(ResponseTimeMs, 2000, 3000, Normal: "< 2000ms", Source: "Response Time: < 2000ms (Alert at 3000ms)"),
        new(ErrorRatePercent, 1, 5, Normal: "< 1%", Source: "Error Rate: < 1% (Alert at 5%)"),
        new(UptimePercent, 99.9, 99.5, ThresholdDirection.Below, "> 99.9%", "Uptime: > 99.9% (Alert at 99.5%)"),
        new(ApiSuccessRatePercent, 99, null, ThresholdDirection.Below, Source: "API Success Rate: Alert if < 99%"));

    /// <summary>The built-in profiles by name.</summary>
    public static readonly IReadOnlyDictionary<string, ThresholdProfile> BuiltIn =
        new[] { Paintbox, FormulaPm, CardMint, Sentia }.ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Defaults the checks use when an environment names no profile: runbook 000's Redis memory, 003's lag and pool.</summary>
    public static readonly ThresholdProfile Defaults = Make("defaults", "OpsRunbook defaults (runbooks 000 and 003)",
        Paintbox.Rules[RedisMemoryPercent],
        CardMint.Rules[DbConnectionUsagePercent],
        CardMint.Rules[ReplicaLagSeconds]);

    /// <summary>
    /// Rules from a dictionary as PowerShell passes a hashtable: metric → { warning, critical, direction }.
    /// Throws <see cref="ArgumentException"/> naming the entry to fix.
    /// </summary>
    public static IReadOnlyList<ThresholdRule> RulesFrom(System.Collections.IDictionary table)
    {
        var rules = new List<ThresholdRule>();
        foreach (System.Collections.DictionaryEntry entry in table)
        {
            var metric = entry.Key?.ToString() ?? "";
            if (entry.Value is not System.Collections.IDictionary levels)
            {
                throw new ArgumentException($"threshold '{metric}' must be a table like @{{ warning = 70; critical = 85 }}");
            }
            double? Level(string key)
            {
                foreach (System.Collections.DictionaryEntry l in levels)
                {
                    if (!string.Equals(l.Key?.ToString(), key, StringComparison.OrdinalIgnoreCase)) continue;
                    return l.Value is IConvertible c && l.Value is not (string or bool)
                        ? Convert.ToDouble(c, System.Globalization.CultureInfo.InvariantCulture)
                        : double.TryParse(l.Value?.ToString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d)
                            ? d
                            : throw new ArgumentException($"threshold '{metric}': {key} must be a number");
                }
                return null;
            }
            foreach (System.Collections.DictionaryEntry l in levels)
            {
                if (l.Key?.ToString()?.ToLowerInvariant() is not ("warning" or "critical" or "direction"))
                {
                    throw new ArgumentException($"threshold '{metric}': unknown key '{l.Key}'; use warning, critical and direction (above or below)");
                }
            }
            var warning = Level("warning");
            var critical = Level("critical");
            if (warning is null && critical is null) throw new ArgumentException($"threshold '{metric}' needs a warning level, a critical level, or both");
            string? direction = null;
            foreach (System.Collections.DictionaryEntry l in levels)
            {
                if (string.Equals(l.Key?.ToString(), "direction", StringComparison.OrdinalIgnoreCase)) direction = l.Value?.ToString();
            }
            var below = direction?.ToLowerInvariant() switch
            {
                null or "above" => false,
                "below" => true,
                _ => throw new ArgumentException($"threshold '{metric}': direction is above (higher is worse) or below (lower is worse)"),
            };
            rules.Add(new ThresholdRule(WellKnownMetrics.Canonical(metric), warning, critical, below ? ThresholdDirection.Below : ThresholdDirection.Above, Source: "-Threshold"));
        }
        return rules;
    }

    /// <summary>A built-in profile by name, or an error listing them.</summary>
    public static ThresholdProfile Get(string name) => BuiltIn.TryGetValue(name, out var p)
        ? p
        : throw new ArgumentException($"there is no threshold profile '{name}'; built-in profiles: {string.Join(", ", BuiltIn.Keys)}");
}
