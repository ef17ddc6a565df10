namespace OpsRunbook.Engine.Metrics;

/// <summary>
/// PromQL's <c>histogram_quantile</c> over classic buckets, rule for rule as prometheus/prometheus promql/quantile.go
/// (BucketQuantile, coalesceBuckets, ensureMonotonicAndIgnoreSmallDeltas, util/almost.Equal) computes it; the cases of
/// its own tests (promql/quantile_test.go, promql/promqltest/testdata/histograms.test) are in
/// tests/OpsRunbook.Engine.Tests/Metrics/HistogramQuantileParityTests.cs.
/// </summary>
public static class HistogramQuantile
{
    /// <summary>Relative differences below this between neighbouring buckets are floating-point noise (quantile.go's smallDeltaTolerance).</summary>
    private const double SmallDeltaTolerance = 1e-12;
    /// <summary>The smallest positive normal double (almost.go's minNormal).</summary>
    private static readonly double MinNormal = BitConverter.Int64BitsToDouble(0x0010000000000000);

    /// <summary>The q-quantile of cumulative <paramref name="buckets"/>.</summary>
    public static double Compute(double q, IReadOnlyList<HistogramBucket> buckets)
    {
        if (double.IsNaN(q)) return double.NaN;
        if (q < 0) return double.NegativeInfinity;
        if (q > 1) return double.PositiveInfinity;
        if (buckets.Count == 0) return double.NaN;
        // Sorted by upper bound; buckets with the same bound (le="0.2" and le="2e-1") are one bucket, counts summed.
        var bounds = new List<double>(buckets.Count);
        var counts = new List<double>(buckets.Count);
        foreach (var b in buckets.OrderBy(b => b.UpperBound))
        {
            if (bounds.Count > 0 && bounds[^1] == b.UpperBound) counts[^1] += b.CumulativeCount;
            else { bounds.Add(b.UpperBound); counts.Add(b.CumulativeCount); }
        }
        if (!double.IsPositiveInfinity(bounds[^1])) return double.NaN;
        EnsureMonotonic(counts);
        if (bounds.Count < 2) return double.NaN;
        var observations = counts[^1];
        if (observations == 0) return double.NaN;
        var rank = q * observations;
        var i = 0;
        while (i < counts.Count - 1 && counts[i] < rank) i++; // sort.Search over all but the +Inf bucket
        if (i == counts.Count - 1) return bounds[^2];
        if (i == 0 && bounds[0] <= 0) return bounds[0];
        double start = 0, count = counts[i];
        if (i > 0)
        {
            start = bounds[i - 1];
            count -= counts[i - 1];
            rank -= counts[i - 1];
        }
        return start + (bounds[i] - start) * (rank / count);
    }

    /// <summary>
    /// Counts that differ from the previous one by floating-point noise (either way) take the previous value; a
    /// decrease of any size is lifted to the previous value (buckets scraped at slightly different times can dip).
    /// </summary>
    private static void EnsureMonotonic(List<double> counts)
    {
        var previous = counts[0];
        for (var i = 1; i < counts.Count; i++)
        {
            var current = counts[i];
            if (current == previous) continue;
            if (AlmostEqual(previous, current, SmallDeltaTolerance) || current < previous)
            {
                counts[i] = previous;
                continue;
            }
            previous = current;
        }
    }

    private static bool AlmostEqual(double a, double b, double epsilon)
    {
        if (double.IsNaN(a) && double.IsNaN(b)) return true;
        if (a == b) return true;
        var absSum = Math.Abs(a) + Math.Abs(b);
        var diff = Math.Abs(a - b);
        if (a == 0 || b == 0 || absSum < MinNormal) return diff < epsilon * MinNormal;
        return diff / Math.Min(absSum, double.MaxValue) < epsilon;
    }
}
