using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Metrics;

namespace OpsRunbook.Engine.Tests;

/// <summary>Records per window as metric samples, and the comparison of two windows' patterns.</summary>
public class LogMeasureTests
{
    private static LogRecord At(string time, string level, string message = "m") =>
        LogLineParser.Parse($"{time} {level} {message}", LogFormat.Plain);

    [Fact]
    public void Counts_per_clock_aligned_window_with_zeros_and_the_error_rate()
    {
        var measure = new LogMeasure(TimeSpan.FromMinutes(1), new LogGrouping(LogGroupKind.Level));
        foreach (var r in new[] { At("2026-11-30T10:00:05Z", "INFO"), At("2026-11-30T10:00:59Z", "ERROR"), At("2026-11-30T10:01:00Z", "INFO"), At("2026-11-30T10:01:30Z", "FATAL"), At("2026-11-30T10:01:31Z", "INFO"), At("2026-11-30T10:01:32Z", "INFO") })
        {
            measure.Add(r);
        }
        measure.Add(LogLineParser.Parse("no time here", LogFormat.Plain));
        var samples = measure.Samples("app.log", "production").ToList();
        Assert.Equal(1, measure.Untimed);
        var first = samples.Where(s => s.Timestamp == new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero)).ToList();
        Assert.Equal(50.0, first.Single(s => s.Name == WellKnownMetrics.ErrorRatePercent).Value);
        Assert.Equal(0, first.Single(s => s.Labels.GetValueOrDefault("level") == "FATAL").Value);
        var second = samples.Where(s => s.Timestamp == new DateTimeOffset(2026, 11, 30, 10, 1, 0, TimeSpan.Zero)).ToList();
        Assert.Equal(25.0, second.Single(s => s.Name == WellKnownMetrics.ErrorRatePercent).Value);
        Assert.Equal(3, second.Single(s => s.Labels.GetValueOrDefault("level") == "INFO").Value);
        Assert.All(samples, s => Assert.Equal("production", s.Environment));
        Assert.Equal("log_records{level=\"ERROR\",window=\"1m\"}", first.Single(s => s.Labels.GetValueOrDefault("level") == "ERROR").Series);
    }

    [Fact]
    public void Refuses_a_window_under_a_second_and_templates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogMeasure(TimeSpan.FromMilliseconds(500), new LogGrouping(LogGroupKind.Level)));
        Assert.Contains("Get-LogPattern", Assert.Throws<ArgumentException>(() => new LogMeasure(TimeSpan.FromMinutes(1), new LogGrouping(LogGroupKind.Template))).Message);
    }

    private static LogPattern P(string pattern, long count, string first, string last) => new()
    {
        Pattern = pattern, GroupBy = "Template", Count = count, FirstSeen = DateTimeOffset.Parse(first, System.Globalization.CultureInfo.InvariantCulture), LastSeen = DateTimeOffset.Parse(last, System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public void Compares_rates_not_counts_and_matches_templates_generalised_differently()
    {
        // An hour before (60 of each), ten minutes after.
        var before = new[] { P("user alice logged out", 60, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z"), P("queue <NUM> stalled", 60, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z"), P("cache warmed", 10, "2026-11-30T09:00:00Z", "2026-11-30T09:30:00Z"), P("disk <NUM>% full", 30, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z") };
        var after = new[] { P("user <*> logged out", 60, "2026-11-30T10:00:00Z", "2026-11-30T10:10:00Z"), P("queue <NUM> stalled", 2, "2026-11-30T10:00:00Z", "2026-11-30T10:10:00Z"), P("TypeError at <*>", 3, "2026-11-30T10:01:00Z", "2026-11-30T10:09:00Z"), P("disk <NUM>% full", 5, "2026-11-30T10:00:00Z", "2026-11-30T10:10:00Z") };
        var changes = LogPatternComparer.Compare(before, after).ToDictionary(c => c.Pattern);
        Assert.Equal(LogPatternChangeKind.Spike, changes["user <*> logged out"].Change);
        Assert.Equal(6.0, changes["user <*> logged out"].Ratio);
        Assert.Equal(LogPatternChangeKind.Drop, changes["queue <NUM> stalled"].Change);
        Assert.Equal(LogPatternChangeKind.New, changes["TypeError at <*>"].Change);
        Assert.Equal(LogPatternChangeKind.Gone, changes["cache warmed"].Change);
        Assert.Equal(LogPatternChangeKind.Same, changes["disk <NUM>% full"].Change);
        Assert.Equal(LogPatternChangeKind.New, LogPatternComparer.Compare(before, after)[0].Change);
        // Few records on either side: never a spike, whatever the ratio.
        var quiet = LogPatternComparer.Compare([P("x <NUM>", 1, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z")], [P("x <NUM>", 3, "2026-11-30T10:00:00Z", "2026-11-30T10:10:00Z")]);
        Assert.Equal(LogPatternChangeKind.Same, quiet.Single().Change);
        // "<*> <*>" is not every two-word message.
        Assert.Equal(LogPatternChangeKind.New, LogPatternComparer.Compare([P("<*> <*>", 9, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z")], [P("disk full", 9, "2026-11-30T10:00:00Z", "2026-11-30T10:10:00Z")]).First().Change);
    }
}
