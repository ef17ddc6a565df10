namespace OpsRunbook.Engine.Metrics;

/// <summary>PromQL's <c>histogram_quantile</c>, rule for rule (see the Prometheus source, promql/quantile.go).</summary>
public static class HistogramQuantile
{
    /// <summary>The q-quantile of cumulative <paramref name="buckets"/>.</summary>
    public static double Compute(double q, IReadOnlyList<HistogramBucket> buckets)
    {
        if (double.IsNaN(q)) return double.NaN;
        if (q < 0) return double.NegativeInfinity;
        if (q > 1) return double.PositiveInfinity;
        var sorted = buckets.OrderBy(b => b.UpperBound).ToList();
        if (sorted.Count < 2 || !double.IsPositiveInfinity(sorted[^1].UpperBound)) return double.NaN;
        // Make the counts monotonic (buckets scraped at slightly different times can dip).
        var counts = new double[sorted.Count];
        var max = double.NegativeInfinity;
        for (var i = 0; i < sorted.Count; i++)
        {
            max = Math.Max(max, sorted[i].CumulativeCount);
            counts[i] = max;
        }
        var total = counts[^1];
        if (total == 0) return double.NaN;
        var rank = q * total;
        var b = 0;
        while (b < counts.Length - 1 && counts[b] < rank) b++;
        if (b == sorted.Count - 1) return sorted[^2].UpperBound;
        if (b == 0 && sorted[0].UpperBound <= 0) return sorted[0].UpperBound;
        var start = b == 0 ? 0 : sorted[b - 1].UpperBound;
        var end = sorted[b].UpperBound;
        var previous = b == 0 ? 0 : counts[b - 1];
        var count = counts[b] - previous;
        return start + (end - start) * ((rank - previous) / count);
    }
}
