using Microsoft.AspNetCore.Http;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

public class MetricsTests
{
    /// <summary>The example exposition of the Prometheus text format specification, verbatim.</summary>
    public const string SpecExample = """
        # HELP http_requests_total The total number of HTTP requests.
        # TYPE http_requests_total counter
        http_requests_total{method="post",code="200"} 1027 1395066363000
        http_requests_total{method="post",code="400"}    3 1395066363000

        # Escaping in label values:
        msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

        # Minimalistic line:
        metric_without_timestamp_and_labels 12.47

        # A weird metric from before the epoch:
        something_weird{problem="division by zero"} +Inf -3982045

        # A histogram, which has a pretty complex representation in the text format:
        # HELP http_request_duration_seconds A histogram of the request duration.
        # TYPE http_request_duration_seconds histogram
        http_request_duration_seconds_bucket{le="0.05"} 24054
        http_request_duration_seconds_bucket{le="0.1"} 33444
        http_request_duration_seconds_bucket{le="0.2"} 100392
        http_request_duration_seconds_bucket{le="0.5"} 129389
        http_request_duration_seconds_bucket{le="1"} 133988
        http_request_duration_seconds_bucket{le="+Inf"} 144320
        http_request_duration_seconds_sum 53423
        http_request_duration_seconds_count 144320

        # Finally a summary, which has a complex representation, too:
        # HELP rpc_duration_seconds A summary of the RPC duration in seconds.
        # TYPE rpc_duration_seconds summary
        rpc_duration_seconds{quantile="0.01"} 3102
        rpc_duration_seconds{quantile="0.05"} 3272
        rpc_duration_seconds{quantile="0.5"} 4773
        rpc_duration_seconds{quantile="0.9"} 9001
        rpc_duration_seconds{quantile="0.99"} 76656
        rpc_duration_seconds_sum 1.7560473e+07
        rpc_duration_seconds_count 2693
        """;

    [Fact]
    public void Parses_the_specification_example_into_one_sample_per_series()
    {
        var samples = PrometheusTextParser.Parse(SpecExample);
        Assert.Equal(["http_requests_total", "http_requests_total", "msdos_file_access_time_seconds", "metric_without_timestamp_and_labels",
            "something_weird", "http_request_duration_seconds", "rpc_duration_seconds"], samples.Select(s => s.Name));

        var post200 = samples[0];
        Assert.Equal(MetricType.Counter, post200.Type);
        Assert.Equal("The total number of HTTP requests.", post200.Help);
        Assert.Equal(1027, post200.Value);
        Assert.Equal(new Dictionary<string, string> { ["code"] = "200", ["method"] = "post" }, post200.Labels);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1395066363000), post200.Timestamp);

        var msdos = samples[2];
        Assert.Equal(@"C:\DIR\FILE.TXT", msdos.Labels["path"]);
        Assert.Equal("Cannot find file:\n\"FILE.TXT\"", msdos.Labels["error"]);
        Assert.Equal(1.458255915e9, msdos.Value);
        Assert.Equal(MetricType.Untyped, msdos.Type);

        Assert.Equal(12.47, samples[3].Value);
        Assert.Null(samples[3].Timestamp);
        Assert.True(double.IsPositiveInfinity(samples[4].Value));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(-3982045), samples[4].Timestamp);

        var histogram = samples[5];
        Assert.Equal(MetricType.Histogram, histogram.Type);
        Assert.Equal([0.05, 0.1, 0.2, 0.5, 1, double.PositiveInfinity], histogram.Buckets.Select(b => b.UpperBound));
        Assert.Equal(144320, histogram.Count);
        Assert.Equal(53423, histogram.Sum);
        Assert.Empty(histogram.Labels);

        var summary = samples[6];
        Assert.Equal(MetricType.Summary, summary.Type);
        Assert.Equal(9001, summary.Quantile(0.9));
        Assert.Equal(2693, summary.Count);
        Assert.Equal(1.7560473e+07, summary.Sum);
    }

    [Fact]
    public void Histogram_quantiles_match_promql_on_the_reference_vector()
    {
        var histogram = PrometheusTextParser.Parse(SpecExample).Single(s => s.Type == MetricType.Histogram);
        Assert.Equal(0.15782995757901658, histogram.Quantile(0.5));
        Assert.Equal(0.5542509241139378, histogram.Quantile(0.9));
        Assert.Equal(1, histogram.Quantile(0.95));
    }

    [Fact]
    public void Histogram_quantile_edge_cases_follow_promql()
    {
        HistogramBucket B(double le, double c) => new(le, c);
        Assert.True(double.IsNaN(HistogramQuantile.Compute(0.5, [B(1, 1), B(2, 2)])), "no +Inf bucket");
        Assert.True(double.IsNaN(HistogramQuantile.Compute(0.5, [B(double.PositiveInfinity, 3)])), "fewer than 2 buckets");
        Assert.True(double.IsNaN(HistogramQuantile.Compute(0.5, [B(1, 0), B(double.PositiveInfinity, 0)])), "no observations");
        Assert.Equal(double.NegativeInfinity, HistogramQuantile.Compute(-1, [B(1, 1), B(double.PositiveInfinity, 1)]));
        Assert.Equal(double.PositiveInfinity, HistogramQuantile.Compute(2, [B(1, 1), B(double.PositiveInfinity, 1)]));
        // Rank in the +Inf bucket: the second-highest bound.
        Assert.Equal(1, HistogramQuantile.Compute(0.99, [B(1, 1), B(double.PositiveInfinity, 10)]));
        // First bucket with a bound <= 0: the bound.
        Assert.Equal(-1, HistogramQuantile.Compute(0.1, [B(-1, 5), B(1, 6), B(double.PositiveInfinity, 6)]));
        // Non-monotonic counts are made monotonic; unsorted input is sorted.
        Assert.Equal(0.1, HistogramQuantile.Compute(0.5, [B(0.1, 10), B(0.2, 9), B(double.PositiveInfinity, 20)]), 10);
        Assert.Equal(0.1, HistogramQuantile.Compute(0.5, [B(double.PositiveInfinity, 20), B(0.1, 10), B(0.2, 20)]), 10);
        // Linear interpolation inside the bucket: rank 3 of 4 lies halfway through (0.1, 0.2].
        Assert.Equal(0.15, HistogramQuantile.Compute(0.75, [B(0.1, 2), B(0.2, 4), B(double.PositiveInfinity, 4)]), 10);
    }

    [Theory]
    [InlineData("metric{a=\"b\" 1", 1, "expected a label name or '}'")]
    [InlineData("metric{a=b} 1", 1, "double quotes")]
    [InlineData("metric abc", 1, "not a number")]
    [InlineData("metric", 1, "has no value")]
    [InlineData("x 1\n# TYPE x gauge", 2, "comes after samples")]
    [InlineData("# TYPE x meter\nx 1", 1, "not a metric type")]
    [InlineData("# TYPE h histogram\nh_bucket 1", 2, "without an le label")]
    [InlineData("m{a=\"\\q\"} 1", 1, "not an escape")]
    [InlineData("m{a=\"1\",a=\"2\"} 1", 1, "appears twice")]
    [InlineData("m 1 12.5", 1, "timestamp")]
    [InlineData("9m 1", 1, "metric name")]
    public void Malformed_expositions_name_the_line(string text, int line, string problem)
    {
        var ex = Assert.Throws<FormatException>(() => PrometheusTextParser.Parse(text));
        Assert.StartsWith($"metrics line {line}:", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void Reads_nan_and_infinities_in_any_case_and_help_escapes()
    {
        var s = PrometheusTextParser.Parse("# HELP g line one\\nline \\\\ two\n# TYPE g gauge\ng{x=\"1\"} NaN\ng{x=\"2\"} -Inf\ng{x=\"3\"} +inf\n");
        Assert.True(double.IsNaN(s[0].Value));
        Assert.True(double.IsNegativeInfinity(s[1].Value));
        Assert.True(double.IsPositiveInfinity(s[2].Value));
        Assert.Equal("line one\nline \\ two", s[0].Help);
        Assert.Equal("g{x=\"1\"}", s[0].Series);
    }

    [Fact]
    public void Histograms_with_labels_are_one_sample_per_label_set()
    {
        var text = """
            # TYPE lat histogram
            lat_bucket{route="/a",le="0.1"} 1
            lat_bucket{route="/a",le="+Inf"} 2
            lat_bucket{route="/b",le="0.1"} 5
            lat_bucket{route="/b",le="+Inf"} 5
            lat_sum{route="/a"} 0.3
            lat_count{route="/a"} 2
            """;
        var s = PrometheusTextParser.Parse(text);
        Assert.Equal(2, s.Count);
        Assert.Equal("/a", s[0].Labels["route"]);
        Assert.Equal(2, s[0].Count);
        Assert.Equal(0.05, s[1].Quantile(0.5), 10); // rank 2.5 of 5, all in (0, 0.1]
    }

    [Fact]
    public void Flattens_json_metrics()
    {
        var s = JsonMetrics.Parse("""{"memory":{"heapUsed":1024,"rss":"2048"},"uptime":12.5,"ok":true,"name":"x","queues":[{"depth":3}]}""");
        Assert.Equal(["memory.heapUsed", "memory.rss", "uptime", "ok", "queues[0].depth"], s.Select(x => x.Name));
        Assert.Equal([1024, 2048, 12.5, 1, 3], s.Select(x => x.Value));
        Assert.Throws<FormatException>(() => JsonMetrics.Parse("{nope"));
    }
}

public class ThresholdTests
{
    [Theory]
    [InlineData(50, AlertSeverity.Normal)]
    [InlineData(70, AlertSeverity.Normal)]
    [InlineData(70.1, AlertSeverity.Warning)]
    [InlineData(85.5, AlertSeverity.Critical)]
    [InlineData(double.NaN, AlertSeverity.Normal)]
    public void Classifies_above_rules(double value, AlertSeverity expected) =>
        Assert.Equal(expected, ThresholdProfile.Paintbox.RuleFor("cpu")!.Classify(value));

    [Theory]
    [InlineData(99.95, AlertSeverity.Normal)]
    [InlineData(99.7, AlertSeverity.Warning)]
    [InlineData(99.0, AlertSeverity.Critical)]
    public void Classifies_below_rules(double value, AlertSeverity expected) =>
        Assert.Equal(expected, ThresholdProfile.Sentia.RuleFor("uptime")!.Classify(value));

    [Fact]
    public void Built_in_profiles_carry_the_runbook_tables()
    {
        Assert.Equal(["paintbox", "formula-pm", "cardmint", "sentia"], ThresholdProfile.BuiltIn.Keys);
        Assert.Equal((18d, 20d), (ThresholdProfile.Paintbox.RuleFor("db_connections")!.Warning!.Value, ThresholdProfile.Paintbox.RuleFor("db_connections")!.Critical!.Value));
        Assert.Equal((10d, 30d), (ThresholdProfile.CardMint.RuleFor("replica_lag")!.Warning!.Value, ThresholdProfile.CardMint.RuleFor("replica_lag")!.Critical!.Value));
        Assert.Equal((80d, 95d), (ThresholdProfile.FormulaPm.RuleFor("disk")!.Warning!.Value, ThresholdProfile.FormulaPm.RuleFor("disk")!.Critical!.Value));
        Assert.Equal((2000d, 3000d), (ThresholdProfile.Sentia.RuleFor("response_time")!.Warning!.Value, ThresholdProfile.Sentia.RuleFor("response_time")!.Critical!.Value));
        Assert.Contains("Redis Memory | < 70% | > 80% | > 90%", ThresholdProfile.Paintbox.RuleFor("redis_memory")!.Source);
        Assert.Contains("unknown", Assert.Throws<ArgumentException>(() => ThresholdProfile.Get("unknown")).Message);
    }

    [Fact]
    public void A_load_test_is_judged_by_its_p95_as_the_database_latency_runbook_003_names()
    {
        var result = new Database.DatabaseLoadTestResult
        {
            Database = "db.internal:5432/cardmint", Script = "select only", Environment = "production", LatencyP95Ms = 120.5, Transactions = 1000,
            StartedAt = DateTimeOffset.Parse("2026-11-30T03:00:00Z", System.Globalization.CultureInfo.InvariantCulture), Duration = TimeSpan.FromMinutes(5),
        };
        var alert = Assert.Single(ThresholdEvaluator.Evaluate(ThresholdEvaluator.Observe(result), ThresholdProfile.CardMint));
        Assert.Equal(("db_latency_ms", "db.internal:5432/cardmint p95 under load", 120.5, AlertSeverity.Warning), (alert.Metric, alert.Subject, alert.Value, alert.Severity));
        Assert.Equal(DateTimeOffset.Parse("2026-11-30T03:05:00Z", System.Globalization.CultureInfo.InvariantCulture), alert.ObservedAt);
        // Without a percentile there is nothing to compare.
        Assert.Empty(ThresholdEvaluator.Observe(new Database.DatabaseLoadTestResult { Database = "x", Script = "select only" }));
    }

    [Fact]
    public void Overrides_replace_rules_by_alias_or_name()
    {
        var p = ThresholdProfile.Paintbox.With("production", [new ThresholdRule("cpu", 50, 60), new ThresholdRule("queue_depth", 100, 1000)]);
        Assert.Equal(60, p.RuleFor("cpu_percent")!.Critical);
        Assert.Equal(100, p.RuleFor("queue_depth")!.Warning);
        Assert.Equal(90, p.RuleFor("memory")!.Critical);
    }

    [Fact]
    public void Evaluates_samples_health_results_and_hosts()
    {
        var samples = PrometheusTextParser.Parse(MetricsTests.SpecExample);
        var profile = ThresholdProfile.Paintbox.With("t", [new ThresholdRule("http_request_duration_seconds_p95", 0.5, 0.9), new ThresholdRule("http_requests_total", 1000, null)]);
        var alerts = ThresholdEvaluator.Evaluate(samples.SelectMany(ThresholdEvaluator.Observe), profile).ToList();
        Assert.Contains(alerts, a => a.Metric == "http_request_duration_seconds_p95" && a.Value == 1 && a.Severity == AlertSeverity.Critical);
        Assert.Contains(alerts, a => a.Subject == "http_requests_total{code=\"200\",method=\"post\"}" && a.Severity == AlertSeverity.Warning);
        Assert.Contains(alerts, a => a.Subject == "http_requests_total{code=\"400\",method=\"post\"}" && a.Severity == AlertSeverity.Normal);

        var result = new Health.HealthCheckResult
        {
            Target = new Health.HealthCheckTarget { Name = "cache", Kind = Health.TargetKind.Redis },
            Environment = "prod",
            Status = Health.HealthStatus.Degraded,
            Reason = "",
            LatencyMs = 3,
            Data = new Dictionary<string, object?> { ["MemoryPercent"] = 85.0 },
        };
        var fromHealth = ThresholdEvaluator.Evaluate(ThresholdEvaluator.Observe(result), ThresholdProfile.Paintbox).Single();
        Assert.Equal(("redis_memory_percent", "cache", AlertSeverity.Warning, "prod"), (fromHealth.Metric, fromHealth.Subject, fromHealth.Severity, fromHealth.Environment));
        Assert.Contains("warning > 80", fromHealth.Message);

        var host = new HostResource { Host = "h", OperatingSystem = "Linux", CpuPercent = 90, MemoryPercent = 50, Disks = [new DiskUsage("/", "ext4", 100, 96, 4)] };
        var hostAlerts = ThresholdEvaluator.Evaluate(ThresholdEvaluator.Observe(host), ThresholdProfile.FormulaPm).ToList();
        Assert.Contains(hostAlerts, a => a.Metric == "cpu_percent" && a.Severity == AlertSeverity.Warning);
        Assert.Contains(hostAlerts, a => a.Metric == "disk_percent" && a.Subject == "h:/" && a.Severity == AlertSeverity.Critical);
        var down = new Health.HealthCheckResult { Target = new Health.HealthCheckTarget { Name = "api", Address = "http://x/" }, Status = Health.HealthStatus.Unhealthy, Reason = "down" };
        Assert.Contains(ThresholdEvaluator.Evaluate(ThresholdEvaluator.Observe(down), ThresholdProfile.FormulaPm), a => a.Metric == "health" && a.Severity == AlertSeverity.Critical);
    }
}

public class HostResourceTests
{
    [Fact]
    public void Parses_proc_files()
    {
        var a = HostResourceReader.ParseProcStat("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n");
        var b = HostResourceReader.ParseProcStat("cpu  150 0 150 750 150 0 0 0 0 0\n");
        Assert.Equal(50, HostResourceReader.CpuPercent(a, b), 6);
        Assert.Equal((2048L * 1024, 512L * 1024), HostResourceReader.ParseMemInfo("MemTotal:       2048 kB\nMemFree:  100 kB\nMemAvailable:    512 kB\n"));
        Assert.Equal((2048L * 1024, 700L * 1024), HostResourceReader.ParseMemInfo("MemTotal: 2048 kB\nMemFree: 100 kB\nBuffers: 100 kB\nCached: 500 kB\n"));
        Assert.Equal((0.5, 1.25, 2.0), HostResourceReader.ParseLoadAverage("0.50 1.25 2.00 3/345 12345\n"));
    }

    [Fact]
    public void Parses_macos_tools()
    {
        var top = "Processes: 1\nCPU usage: 3.01% user, 5.2% sys, 91.77% idle\n\nProcesses: 2\nCPU usage: 10.00% user, 15.00% sys, 75.00% idle\n";
        Assert.Equal(25, HostResourceReader.ParseTopCpu(top), 6);
        var vm = "Mach Virtual Memory Statistics: (page size of 16384 bytes)\nPages free:                               10.\nPages active:                            999.\nPages inactive:                           20.\nPages speculative:                         5.\n";
        Assert.Equal(35L * 16384, HostResourceReader.ParseVmStatAvailable(vm));
        Assert.Equal((1.23, 1.45, 1.67), HostResourceReader.ParseSysctlLoad("{ 1.23 1.45 1.67 }\n"));
    }

    [Fact]
    public async Task Reads_this_machine()
    {
        var h = await HostResourceReader.ReadAsync(TimeSpan.FromMilliseconds(200), "test", TestContext.Current.CancellationToken);
        Assert.InRange(h.CpuPercent, 0, 100);
        Assert.InRange(h.MemoryPercent, 0.1, 100);
        Assert.True(h.MemoryTotalBytes > 100L * 1024 * 1024);
        Assert.Contains(h.Disks, d => d.Mount == "/" && d.TotalBytes > 0 && d.Percent is > 0 and <= 100);
        Assert.DoesNotContain(h.Disks, d => d.FileSystem is "proc" or "sysfs" or "tmpfs");
        Assert.Equal(Environment.ProcessorCount, h.ProcessorCount);
        Assert.NotNull(h.Load1);
        Assert.Equal("Linux", h.OperatingSystem);
        Assert.Equal("test", h.Environment);
    }

    // What prometheus/common's expfmt/text_parse.go accepts: blanks and tabs before a line (startOfLine: skipBlankTab),
    // the TYPE in any case (MetricType_value[strings.ToUpper(...)]), GAUGE_HISTOGRAM among them; and OpenMetrics'
    // gaugehistogram with _gcount/_gsum (prometheus/prometheus model/textparse/openmetricsparse.go).
    [Fact]
    public void Reads_what_expfmt_and_openmetrics_accept()
    {
        var samples = PrometheusTextParser.Parse("""
              # TYPE up GAUGE
            	up 1
            # TYPE requests Counter
              requests_total 3
            # TYPE queue_depth GAUGE_HISTOGRAM
            queue_depth_bucket{le="1"} 2
            queue_depth_bucket{le="+Inf"} 4
            # TYPE lag gaugehistogram
            lag_bucket{le="0.5"} 1
            lag_bucket{le="+Inf"} 3
            lag_gcount 3
            lag_gsum 2.5
            """);
        var up = samples.Single(s => s.Name == "up");
        Assert.Equal((MetricType.Gauge, 1.0), (up.Type, up.Value));
        Assert.Equal(MetricType.GaugeHistogram, samples.Single(s => s.Name == "queue_depth").Type);
        var lag = samples.Single(s => s.Name == "lag");
        Assert.Equal((MetricType.GaugeHistogram, 2, 3.0, 2.5), (lag.Type, lag.Buckets.Count, lag.Count!.Value, lag.Sum!.Value));
        Assert.False(double.IsNaN(lag.Quantile(0.5)));
    }

    [Fact]
    public void One_odd_line_is_skipped_and_said_when_asked_not_the_whole_scrape()
    {
        const string text = "a 1\nb{x=\"1\" 2\nc 3\n# TYPE d meter\nd 4\n";
        Assert.Throws<FormatException>(() => PrometheusTextParser.Parse(text)); // strict by default
        var skipped = new List<string>();
        var samples = PrometheusTextParser.Parse(text, skipped: skipped);
        Assert.Equal(["a", "c", "d"], samples.Select(s => s.Name));
        Assert.Equal(2, skipped.Count);
        Assert.StartsWith("metrics line 2:", skipped[0]);
        Assert.StartsWith("metrics line 4:", skipped[1]);
    }

    [Fact]
    public async Task A_scrape_keeps_the_good_lines_and_fails_only_when_none_is_good()
    {
        await using var partly = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("ok_total 1\nbroken{ 2\nalso_ok 3\n"));
        using var scraper = new MetricScraper();
        var (samples, skipped) = await scraper.ScrapeAsync(new Uri(partly.BaseUrl + "/metrics"), null, TimeSpan.FromSeconds(10), false, TestContext.Current.CancellationToken);
        Assert.Equal(["ok_total", "also_ok"], samples.Select(s => s.Name));
        Assert.StartsWith("metrics line 2:", Assert.Single(skipped));
        await using var broken = await FakeHttpServer.StartAsync((ctx, _) => ctx.Response.WriteAsync("broken{ 2\nworse{ 3\n"));
        var ex = await Assert.ThrowsAsync<MetricScrapeException>(() => scraper.ScrapeAsync(new Uri(broken.BaseUrl + "/metrics"), null, TimeSpan.FromSeconds(10), false, TestContext.Current.CancellationToken));
        Assert.Contains("metrics line 1:", ex.Message);
        Assert.Contains("and 1 more bad lines", ex.Message);
    }
}
