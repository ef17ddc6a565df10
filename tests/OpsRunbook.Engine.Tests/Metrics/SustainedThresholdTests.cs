using OpsRunbook.Engine.Metrics;

namespace OpsRunbook.Engine.Tests;

/// <summary>Test-MetricThreshold -For: runbook 003's "sustained &gt; 15 minutes".</summary>
public class SustainedThresholdTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

    private static IEnumerable<Alert> Scrapes(params double[] values) => ThresholdEvaluator.Evaluate(
        values.Select((v, i) => new MetricObservation(WellKnownMetrics.CpuPercent, "web-1", v, "production", T0.AddMinutes(i))), ThresholdProfile.Paintbox);

    [Theory]
    [InlineData(AlertSeverity.Critical, "90 91 95 99 92 90 88 91 93 95 97 90 89 90 91 92")]   // 16 scrapes a minute apart, all > 85
    [InlineData(AlertSeverity.Warning, "90 91 95 99 92 75 88 91 93 95 97 90 89 90 91 92")]    // one only past warning (> 70)
    [InlineData(AlertSeverity.Normal, "90 91 95 99 92 50 88 91 93 95 97 90 89 90 91 92")]     // one normal: no sustained breach
    [InlineData(AlertSeverity.Critical, "50 50 90 91 95 99 92 90 88 91 93 95 97 90 89 90 91 92")]   // normal, but before the window
    public void Alerts_with_the_mildest_severity_of_every_sample_in_the_window(AlertSeverity expected, string scrapes)
    {
        var values = scrapes.Split(' ').Select(double.Parse).ToArray();
        var alert = Assert.Single(ThresholdEvaluator.Sustained(Scrapes(values), TimeSpan.FromMinutes(15)));
        Assert.Equal(expected, alert.Severity);
        Assert.Equal(92, alert.Value);
        Assert.Equal(TimeSpan.FromMinutes(15), alert.For);
        Assert.Equal(16, alert.Samples);
        Assert.Equal("warning > 70, critical > 85, for 15m", alert.Threshold);
    }

    [Fact]
    public void A_spike_shorter_than_the_window_is_no_sustained_breach()
    {
        var alert = Assert.Single(ThresholdEvaluator.Sustained(Scrapes(95, 96, 97, 98, 99), TimeSpan.FromMinutes(15)));
        Assert.Equal(AlertSeverity.Normal, alert.Severity);
        Assert.Equal("warning > 70, critical > 85, for 15m (samples cover 4m only)", alert.Threshold);
        Assert.Equal(AlertSeverity.Normal, Assert.Single(ThresholdEvaluator.Sustained(Scrapes(99), TimeSpan.FromMinutes(1))).Severity);
    }

    [Fact]
    public void Each_series_is_judged_on_its_own()
    {
        var web1 = Scrapes(Enumerable.Repeat(99.0, 16).ToArray());
        var web2 = ThresholdEvaluator.Evaluate(Enumerable.Range(0, 16).Select(i => new MetricObservation(WellKnownMetrics.CpuPercent, "web-2", i == 15 ? 99 : 10, "production", T0.AddMinutes(i))), ThresholdProfile.Paintbox);
        var alerts = ThresholdEvaluator.Sustained(web1.Concat(web2), TimeSpan.FromMinutes(15)).ToDictionary(a => a.Subject);
        Assert.Equal(AlertSeverity.Critical, alerts["web-1"].Severity);
        Assert.Equal(AlertSeverity.Normal, alerts["web-2"].Severity);
    }
}
