using OpsRunbook.Engine.Metrics;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// histogram_quantile gives Prometheus's answers, case for case: the cases are transcribed from Prometheus's own tests
/// (prometheus/prometheus at d15adb9: promql/quantile_test.go TestBucketQuantile_ForcedMonotonicity and the classic
/// histogram evaluations of promql/promqltest/testdata/histograms.test), with their expected values. Where the test
/// file evaluates rate(x[10m]) of series that grow linearly, the bucket values at the instant are used: the rate is
/// the same constant factor for every bucket and a quantile does not change with it.
/// </summary>
public class HistogramQuantileParityTests
{
    private const double Inf = double.PositiveInfinity;

    private static HistogramBucket[] Buckets(params (double Le, double Count)[] b) => b.Select(x => new HistogramBucket(x.Le, x.Count)).ToArray();

    /// <summary>require.InEpsilon(expected, actual, 1e-12) as quantile_test.go asserts; exact for 0, NaN and infinities.</summary>
    private static void Same(double expected, double actual, string because)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected) || expected == 0)
        {
            Assert.True(expected.Equals(actual), $"{because}: expected {expected}, got {actual}");
            return;
        }
        Assert.True(Math.Abs((expected - actual) / expected) <= 1e-12, $"{because}: expected {expected}, got {actual}");
    }

    // quantile_test.go: each case with the quantiles it expects.
    public static TheoryData<string, HistogramBucket[], double[]> ForcedMonotonicity => new()
    {
        { "simple - monotonic", Buckets((10, 10), (15, 15), (20, 15), (30, 15), (Inf, 15)), [1, 15, 0.99, 14.85, 0.9, 13.5, 0.5, 7.5] },
        { "simple - non-monotonic middle", Buckets((10, 10), (15, 15), (20, 15.00000000001), (30, 15), (Inf, 15)), [1, 15, 0.99, 14.85, 0.9, 13.5, 0.5, 7.5] },
        {
            "real example - monotonic",
            Buckets((1, 6454661.3014166197), (5, 8339611.2001912938), (10, 14118319.2444762159), (25, 14130031.5272856522), (50, 46001270.3030008152),
                (64, 46008473.8585563600), (80, 46008473.8585563600), (100, 46008473.8585563600), (250, 46008473.8585563600), (1000, 46008473.8585563600), (Inf, 46008473.8585563600)),
            [1, 64, 0.99, 49.64475715376406, 0.9, 46.39671690938454, 0.5, 31.96098248992002]
        },
        {
            "real example - non-monotonic",
            Buckets((1, 6454661.3014166225), (5, 8339611.2001912957), (10, 14118319.2444762159), (25, 14130031.5272856504), (50, 46001270.3030008227),
                (64, 46008473.8585563824), (80, 46008473.8585563898), (100, 46008473.8585563824), (250, 46008473.8585563824), (1000, 46008473.8585563898), (Inf, 46008473.8585563824)),
            [1, 64, 0.99, 49.64475715376406, 0.9, 46.39671690938454, 0.5, 31.96098248992002]
        },
        {
            "real example 2 - monotonic",
            Buckets((0.005, 9.6), (0.01, 9.688888889), (0.025, 9.755555556), (0.05, 9.844444444), (0.1, 9.888888889), (0.25, 9.888888889), (0.5, 9.888888889),
                (1, 9.888888889), (2.5, 9.888888889), (5, 9.888888889), (10, 9.888888889), (25, 9.888888889), (50, 9.888888889), (100, 9.888888889), (Inf, 9.888888889)),
            [1, 0.1, 0.99, 0.03468750000281261, 0.9, 0.00463541666671875, 0.5, 0.0025752314815104174]
        },
        {
            "real example 2 - non-monotonic",
            Buckets((0.005, 9.6), (0.01, 9.688888889), (0.025, 9.755555556), (0.05, 9.844444444), (0.1, 9.888888889), (0.25, 9.888888889), (0.5, 9.888888889),
                (1, 9.888888889), (2.5, 9.888888889), (5, 9.888888889), (10, 9.888888889001), (25, 9.888888889), (50, 9.888888888999), (100, 9.888888889), (Inf, 9.888888889)),
            [1, 0.1, 0.99, 0.03468750000281261, 0.9, 0.00463541666671875, 0.5, 0.0025752314815104174]
        },
    };

    [Theory]
    [MemberData(nameof(ForcedMonotonicity))]
    public void Bucket_quantile_as_prometheus_quantile_test(string name, HistogramBucket[] buckets, double[] expected)
    {
        for (var i = 0; i < expected.Length; i += 2)
        {
            Same(expected[i + 1], HistogramQuantile.Compute(expected[i], buckets), $"{name}, q={expected[i]}");
        }
    }

    // histograms.test's series at the evaluation instant (0+Nx10 at 5m steps is 10N at 50m and N at 7m).
    private static readonly HistogramBucket[] TestHistogramPositive = Buckets((0.1, 50), (.2, 70), (1e0, 110), (Inf, 120));
    private static readonly HistogramBucket[] TestHistogramNegative = Buckets((-.2, 10), (-0.1, 20), (0.3, 20), (Inf, 30));
    private static readonly HistogramBucket[] TestHistogram3Positive = Buckets((0, 0), (0.1, 50), (.2, 70), (1e0, 110), (Inf, 110));
    private static readonly HistogramBucket[] TestHistogram3Negative = Buckets((-.25, 0), (-.2, 10), (-0.1, 20), (0.3, 20), (Inf, 20));
    private static readonly HistogramBucket[] TestHistogram2At7m = Buckets((0, 0), (2, 1), (4, 2), (6, 3), (Inf, 3));
    private static readonly HistogramBucket[] NonMonotonic = Buckets((0.1, 20), (1, 10), (10, 50), (100, 40), (1000, 90), (Inf, 80));
    // le="0.2", "2e-1" and "2.0e-1" are one bucket; ins2 has "+inf" and "+Inf" only.
    private static readonly HistogramBucket[] MixedIns1 = Buckets((0.1, 10), (0.2, 10), (2e-1, 10), (2.0e-1, 10), (Inf, 40));
    private static readonly HistogramBucket[] MixedIns2 = Buckets((Inf, 0), (Inf, 0));
    private static readonly HistogramBucket[] Empty = Buckets((0.1, 0), (0.2, 0), (Inf, 0));

    public static TheoryData<string, double, double> TestFile => new()
    {
        // "Test histogram_quantile, native and classic." (testhistogram3)
        { "testhistogram3 positive", 0, 0 }, { "testhistogram3 negative", 0, -0.25 },
        { "testhistogram3 positive", 0.25, 0.055 }, { "testhistogram3 negative", 0.25, -0.225 },
        { "testhistogram3 positive", 0.5, 0.125 }, { "testhistogram3 negative", 0.5, -0.2 },
        { "testhistogram3 positive", 0.75, 0.45 }, { "testhistogram3 negative", 0.75, -0.15 },
        { "testhistogram3 positive", 1, 1 }, { "testhistogram3 negative", 1, -0.1 },
        // Quantiles out of range and NaN.
        { "testhistogram positive", -0.1, double.NegativeInfinity }, { "testhistogram negative", -0.1, double.NegativeInfinity },
        { "testhistogram positive", 1.01, Inf }, { "testhistogram negative", 1.01, Inf },
        { "testhistogram positive", double.NaN, double.NaN }, { "testhistogram negative", double.NaN, double.NaN },
        // "Quantile value in lowest bucket.", "... in highest bucket.", "Finally some useful quantiles."
        { "testhistogram positive", 0, 0 }, { "testhistogram negative", 0, -0.2 },
        { "testhistogram positive", 1, 1 }, { "testhistogram negative", 1, 0.3 },
        { "testhistogram positive", 0.2, 0.048 }, { "testhistogram negative", 0.2, -0.2 },
        { "testhistogram positive", 0.5, 0.15 }, { "testhistogram negative", 0.5, -0.15 },
        { "testhistogram positive", 0.8, 0.72 }, { "testhistogram negative", 0.8, 0.3 },
        // "Want results exactly in the middle of the bucket." (at 7m)
        { "testhistogram2 at 7m", 1.0 / 6.0, 1 }, { "testhistogram2 at 7m", 0.5, 3 }, { "testhistogram2 at 7m", 5.0 / 6.0, 5 },
        // "A histogram with nonmonotonic bucket counts."
        { "nonmonotonic", 0.01, 0.0045 }, { "nonmonotonic", 0.5, 8.5 }, { "nonmonotonic", 0.99, 979.75 },
        // "Buckets with different representations of the same upper bound."
        { "mixed ins1", 0.5, 0.15 }, { "mixed ins2", 0.5, double.NaN },
        { "mixed ins1", 0.75, 0.2 }, { "mixed ins2", 0.75, double.NaN },
        { "mixed ins1", 1, 0.2 }, { "mixed ins2", 1, double.NaN },
        // empty_bucket, and const_histogram's zero rates: no observations, no quantile.
        { "empty", 0.2, double.NaN }, { "empty", 1, double.NaN },
    };

    [Theory]
    [MemberData(nameof(TestFile))]
    public void Histogram_quantile_as_prometheus_histograms_test(string series, double q, double expected)
    {
        var buckets = series switch
        {
            "testhistogram positive" => TestHistogramPositive,
            "testhistogram negative" => TestHistogramNegative,
            "testhistogram3 positive" => TestHistogram3Positive,
            "testhistogram3 negative" => TestHistogram3Negative,
            "testhistogram2 at 7m" => TestHistogram2At7m,
            "nonmonotonic" => NonMonotonic,
            "mixed ins1" => MixedIns1,
            "mixed ins2" => MixedIns2,
            "empty" => Empty,
            _ => throw new ArgumentOutOfRangeException(nameof(series)),
        };
        Same(expected, HistogramQuantile.Compute(q, buckets), $"{series}, q={q}");
    }

    [Fact]
    public void Different_spellings_of_one_bound_in_an_exposition_are_one_bucket()
    {
        // The mixed_bucket series of histograms.test as a scrape would carry them: le="0.2", "2e-1" and "2.0e-1".
        var scrape = PrometheusTextParser.Parse("""
            # TYPE mixed histogram
            mixed_bucket{le="0.1"} 10
            mixed_bucket{le="0.2"} 10
            mixed_bucket{le="2e-1"} 10
            mixed_bucket{le="2.0e-1"} 10
            mixed_bucket{le="+Inf"} 40
            """);
        var histogram = Assert.Single(scrape, s => s.Name == "mixed");
        Same(0.15, histogram.Quantile(0.5), "q=0.5");
        Same(0.2, histogram.Quantile(0.75), "q=0.75");
    }
}
