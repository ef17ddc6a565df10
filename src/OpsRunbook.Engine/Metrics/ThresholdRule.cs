using System.Globalization;

namespace OpsRunbook.Engine.Metrics;

/// <summary>Whether a value is bad when it goes above or below the levels.</summary>
public enum ThresholdDirection
{
    /// <summary>Higher is worse (CPU, latency, error rate).</summary>
    Above,
    /// <summary>Lower is worse (uptime, success rate).</summary>
    Below,
}

/// <summary>Alert severity.</summary>
public enum AlertSeverity
{
    /// <summary>Within the normal range.</summary>
    Normal,
    /// <summary>Past the warning level.</summary>
    Warning,
    /// <summary>Past the critical level.</summary>
    Critical,
}

/// <summary>One row of a threshold table: a metric and its warning and critical levels.</summary>
public sealed record ThresholdRule(string Metric, double? Warning, double? Critical, ThresholdDirection Direction = ThresholdDirection.Above,
    string? Normal = null, string? Source = null)
{
    /// <summary>The severity of <paramref name="value"/>. NaN is Normal (no data is not an alert).</summary>
    public AlertSeverity Classify(double value)
    {
        if (double.IsNaN(value)) return AlertSeverity.Normal;
        bool Past(double? level) => level is { } l && (Direction == ThresholdDirection.Above ? value > l : value < l);
        return Past(Critical) ? AlertSeverity.Critical : Past(Warning) ? AlertSeverity.Warning : AlertSeverity.Normal;
    }

    /// <summary>How the rule reads: <c>warning &gt; 70, critical &gt; 85</c>.</summary>
    public string Describe()
    {
        var op = Direction == ThresholdDirection.Above ? ">" : "<";
        var parts = new List<string>();
        if (Warning is { } w) parts.Add($"warning {op} {w.ToString(CultureInfo.InvariantCulture)}");
        if (Critical is { } c) parts.Add($"critical {op} {c.ToString(CultureInfo.InvariantCulture)}");
        return string.Join(", ", parts);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Metric}: {Describe()}";
}
