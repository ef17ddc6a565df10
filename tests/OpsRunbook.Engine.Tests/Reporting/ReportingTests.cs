using System.Text.Json;
using System.Xml.Linq;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Tests;

public class ReportingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private static HealthCheckResult R(string name, HealthStatus status, string reason = "ok", double latencyMs = 120) => new()
    {
        Target = new HealthCheckTarget { Name = name, Address = $"https://{name}.example/" },
        Environment = "production",
        Status = status,
        Reason = reason,
        LatencyMs = latencyMs,
        CheckedAt = Now,
    };

    private static ReportWriter Writer(params object[] items)
    {
        var w = new ReportWriter();
        foreach (var i in items) w.Add(i);
        return w;
    }

    [Fact]
    public void Markdown_has_a_table_per_kind_worst_first()
    {
        var alert = new Alert { Metric = "cpu_percent", Subject = "web-1", Value = 91, Severity = AlertSeverity.Critical, Threshold = "warning > 70, critical > 85", Profile = "paintbox", ObservedAt = Now };
        var report = Writer(R("simple", HealthStatus.Healthy), R("deep", HealthStatus.Unhealthy, "condition failed: [STATUS] (503) == 200"), R("jwks", HealthStatus.Degraded), alert)
            .Write(ReportFormat.Markdown, "Production | daily", Now);
        var md = report.Content;
        Assert.StartsWith("## Production \\| daily", md);
        Assert.Contains("2 failing, 1 warning, 1 passing", md);
        var health = md.IndexOf("### Health checks", StringComparison.Ordinal);
        Assert.True(health > 0 && md.IndexOf("### Thresholds", StringComparison.Ordinal) > 0);
        var lines = md[health..].Split('\n').Where(l => l.StartsWith("| ❌") || l.StartsWith("| ⚠️") || l.StartsWith("| ✅")).ToList();
        Assert.Equal(["deep", "jwks", "simple"], lines.Take(3).Select(l => l.Split('|')[4].Trim()));
        Assert.Contains("[STATUS] (503) == 200", md);
        Assert.Equal((2, 1, 1, 4), (report.Failed, report.Warnings, report.Passed, report.Total));
    }

    [Fact]
    public void Junit_makes_each_check_a_test_case_and_failures_failures()
    {
        var xml = Writer(R("simple", HealthStatus.Healthy), R("deep", HealthStatus.Unhealthy, "HTTP 503"), R("jwks", HealthStatus.Degraded, "slow"),
                PrometheusTextParser.Parse("up 1").Single())
            .Write(ReportFormat.JUnit, "OpsRunbook", Now).Content;
        var doc = XDocument.Parse(xml);
        var root = doc.Root!;
        Assert.Equal("testsuites", root.Name.LocalName);
        Assert.Equal("3", (string?)root.Attribute("tests"));
        Assert.Equal("1", (string?)root.Attribute("failures"));
        var suite = Assert.Single(root.Elements("testsuite"));
        Assert.Equal("Health checks", (string?)suite.Attribute("name"));
        var cases = suite.Elements("testcase").ToList();
        Assert.Equal(3, cases.Count);
        var deep = cases.Single(c => (string?)c.Attribute("name") == "deep");
        Assert.Equal("OpsRunbook.Health_checks.production", (string?)deep.Attribute("classname"));
        Assert.Equal("0.120", (string?)deep.Attribute("time"));
        Assert.Equal("HTTP 503", (string?)deep.Element("failure")!.Attribute("message"));
        Assert.Equal("Unhealthy", (string?)deep.Element("failure")!.Attribute("type"));
        Assert.Contains("Degraded: slow", cases.Single(c => (string?)c.Attribute("name") == "jwks").Element("system-out")!.Value);
        Assert.Null(cases.Single(c => (string?)c.Attribute("name") == "simple").Element("failure"));
    }

    [Fact]
    public void Json_lists_every_row_with_counts()
    {
        var json = Writer(R("simple", HealthStatus.Healthy), R("deep", HealthStatus.Unhealthy)).Write(ReportFormat.Json, "t", Now).Content;
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(1, doc.RootElement.GetProperty("summary").GetProperty("failed").GetInt32());
        var items = doc.RootElement.GetProperty("items");
        Assert.Equal("deep", items[0].GetProperty("name").GetString());
        Assert.Equal("Fail", items[0].GetProperty("outcome").GetString());
        Assert.Equal("Http", items[0].GetProperty("data").GetProperty("Kind").GetString());
    }

    [Fact]
    public void A_summary_with_its_entries_lists_each_check_once()
    {
        var results = new[] { R("a", HealthStatus.Healthy), R("b", HealthStatus.Unhealthy) };
        var summary = HealthReport.From(results, TimeSpan.FromSeconds(1), Now);
        var both = Writer([.. results, summary]).Rows();
        Assert.Equal(3, both.Count);
        Assert.Single(both, r => r.Kind == "Summary");
        var alone = Writer(summary).Rows();
        Assert.Equal(3, alone.Count);
    }

    [Fact]
    public void Other_objects_are_refused_with_what_is_accepted()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ReportWriter().Add("a string"));
        Assert.Contains("OpsRunbook results", ex.Message);
    }

    [Theory]
    [InlineData(ReportFailOn.None, false)]
    [InlineData(ReportFailOn.Unhealthy, false)]
    [InlineData(ReportFailOn.Critical, false)]
    [InlineData(ReportFailOn.Degraded, true)]
    [InlineData(ReportFailOn.Warning, true)]
    public void Fail_on_counts_the_right_rows(ReportFailOn failOn, bool fails)
    {
        var report = Writer(R("a", HealthStatus.Healthy), R("b", HealthStatus.Degraded, "slow")).Write(ReportFormat.Markdown, "t", Now);
        var message = report.FailureMessage(failOn);
        Assert.Equal(fails, message is not null);
        if (fails) Assert.Contains("b: Degraded (slow)", message);
        Assert.NotNull(Writer(R("x", HealthStatus.Unhealthy)).Write(ReportFormat.Json, "t", Now).FailureMessage(ReportFailOn.Unhealthy));
    }

    [Fact]
    public void Github_actions_gets_a_step_summary_and_annotations()
    {
        var summary = Path.GetTempFileName();
        try
        {
            File.WriteAllText(summary, "previous step\n");
            var env = new Dictionary<string, string> { ["GITHUB_ACTIONS"] = "true", ["GITHUB_STEP_SUMMARY"] = summary };
            Assert.Equal(CiSystem.GitHubActions, CiIntegration.Detect(n => env.GetValueOrDefault(n)));
            var writer = Writer(R("ok", HealthStatus.Healthy), R("deep", HealthStatus.Unhealthy, "50% of checks: a, b\nline two"), R("slow", HealthStatus.Degraded));
            var report = writer.Write(ReportFormat.JUnit, "t", Now);
            var md = ReportWriter.Markdown(report.Rows, "t", Now);
            var lines = CiIntegration.Publish(CiSystem.GitHubActions, report, md, n => env.GetValueOrDefault(n));
            Assert.Equal(["::error title=Health checks%3A deep::Unhealthy: 50%25 of checks: a, b%0Aline two", "::warning title=Health checks%3A slow::Degraded: ok"], lines);
            var written = File.ReadAllText(summary);
            Assert.StartsWith("previous step\n## t", written);
        }
        finally
        {
            File.Delete(summary);
        }
    }

    [Fact]
    public void Azure_pipelines_gets_logissue_commands_and_an_uploaded_summary()
    {
        var temp = Directory.CreateTempSubdirectory("opsrunbook-azp").FullName;
        try
        {
            var env = new Dictionary<string, string> { ["TF_BUILD"] = "True", ["AGENT_TEMPDIRECTORY"] = temp };
            Assert.Equal(CiSystem.AzurePipelines, CiIntegration.Detect(n => env.GetValueOrDefault(n)));
            var report = Writer(R("deep", HealthStatus.Unhealthy, "a;b]c 100%")).Write(ReportFormat.Markdown, "t", Now);
            var lines = CiIntegration.Publish(CiSystem.AzurePipelines, report, report.Content, n => env.GetValueOrDefault(n));
            Assert.StartsWith("##vso[task.uploadsummary]" + temp, lines[0]);
            Assert.Equal("##vso[task.logissue type=error]Health checks: deep: Unhealthy: a%3Bb%5Dc 100%AZP25", lines[1]);
            var uploaded = Directory.GetFiles(temp, "*.md").Single();
            Assert.Equal(report.Content, File.ReadAllText(uploaded));
        }
        finally
        {
            Directory.Delete(temp, true);
        }
    }

    [Theory]
    [InlineData(2, 0, ReportFailOn.Unhealthy, RunExitCode.Failed)]
    [InlineData(2, 3, ReportFailOn.Degraded, RunExitCode.Failed)]
    [InlineData(0, 3, ReportFailOn.Degraded, RunExitCode.WarningsOnly)]
    [InlineData(0, 3, ReportFailOn.Warning, RunExitCode.WarningsOnly)]
    [InlineData(0, 3, ReportFailOn.None, RunExitCode.WarningsOnly)]
    [InlineData(0, 3, ReportFailOn.Unhealthy, RunExitCode.Success)]
    [InlineData(0, 3, ReportFailOn.Critical, RunExitCode.Success)]
    [InlineData(0, 0, ReportFailOn.Degraded, RunExitCode.Success)]
    public void The_exit_contract_follows_the_rows_and_the_threshold(int failed, int warnings, ReportFailOn failOn, RunExitCode expected)
    {
        Assert.Equal(expected, ExitCodes.Of(failed, warnings, failOn));
        var rows = Enumerable.Range(0, failed).Select(i => R($"f{i}", HealthStatus.Unhealthy)).Concat(Enumerable.Range(0, warnings).Select(i => R($"w{i}", HealthStatus.Degraded)));
        Assert.Equal(expected, Writer([.. rows, R("ok", HealthStatus.Healthy)]).Write(ReportFormat.Json, "t", Now, failOn: failOn).ExitCode);
    }

    [Fact]
    public void A_tool_failure_outranks_failed_checks_which_outrank_warnings()
    {
        Assert.Equal(RunExitCode.ToolFailed, ExitCodes.Worse(RunExitCode.Failed, RunExitCode.ToolFailed));
        Assert.Equal(RunExitCode.Failed, ExitCodes.Worse(RunExitCode.WarningsOnly, RunExitCode.Failed));
        Assert.Equal(RunExitCode.WarningsOnly, ExitCodes.Worse(RunExitCode.Success, RunExitCode.WarningsOnly));
        Assert.Equal(RunExitCode.Success, ExitCodes.Worse(RunExitCode.Success, RunExitCode.Success));
    }

    [Theory]
    [InlineData(15, 12, 10, 10, "5 more failing and 2 more warning")]
    [InlineData(3, 15, 3, 10, "0 more failing and 5 more warning")]
    [InlineData(4, 4, 4, 4, null)]
    public void Each_kind_of_annotation_gets_its_own_ten_and_a_notice_counts_the_rest(int failing, int warning, int errors, int warnings, string? notice)
    {
        var rows = Enumerable.Range(0, failing).Select(i => R($"f{i}", HealthStatus.Unhealthy)).Concat(Enumerable.Range(0, warning).Select(i => R($"w{i}", HealthStatus.Degraded))).ToArray<object>();
        var report = Writer(rows).Write(ReportFormat.Markdown, "Nightly", Now);
        var github = CiIntegration.Publish(CiSystem.GitHubActions, report, report.Content, _ => null, RunExitCode.Failed);
        Assert.Equal(errors, github.Count(l => l.StartsWith("::error ", StringComparison.Ordinal)));
        Assert.Equal(warnings, github.Count(l => l.StartsWith("::warning ", StringComparison.Ordinal)));
        var notices = github.Where(l => l.StartsWith("::notice ", StringComparison.Ordinal)).ToList();
        if (notice is null) Assert.Empty(notices);
        else Assert.Contains(notice, Assert.Single(notices));
        var azure = CiIntegration.Publish(CiSystem.AzurePipelines, report, report.Content, n => n == "AGENT_TEMPDIRECTORY" ? Path.GetTempPath() : null, RunExitCode.Failed);
        Assert.Equal(errors, azure.Count(l => l.StartsWith("##vso[task.logissue type=error]", StringComparison.Ordinal)));
        Assert.Equal(warnings, azure.Count(l => l.StartsWith("##vso[task.logissue type=warning]", StringComparison.Ordinal)));
        Assert.Equal(notice is not null, azure.Any(l => notice is not null && l.Contains(notice, StringComparison.Ordinal)));
    }

    [Fact]
    public void Warnings_only_that_pass_the_gate_are_a_notice_on_github_and_succeeded_with_issues_on_azure()
    {
        var report = Writer(R("ok", HealthStatus.Healthy), R("slow", HealthStatus.Degraded)).Write(ReportFormat.Markdown, "t", Now, failOn: ReportFailOn.Unhealthy);
        Assert.Equal(RunExitCode.Success, report.ExitCode);
        var github = CiIntegration.Publish(CiSystem.GitHubActions, report, report.Content, _ => null, report.ExitCode);
        Assert.Contains(github, l => l.StartsWith("::notice ", StringComparison.Ordinal) && l.Contains("1 warning results, none failing", StringComparison.Ordinal));
        var azure = CiIntegration.Publish(CiSystem.AzurePipelines, report, report.Content, n => n == "AGENT_TEMPDIRECTORY" ? Path.GetTempPath() : null, report.ExitCode);
        Assert.Equal("##vso[task.complete result=SucceededWithIssues;]1 warning results, none failing", azure[^1]);
        // Failing the gate on warnings (3) is no success with issues.
        var strict = Writer(R("slow", HealthStatus.Degraded)).Write(ReportFormat.Markdown, "t", Now, failOn: ReportFailOn.Degraded);
        Assert.Equal(RunExitCode.WarningsOnly, strict.ExitCode);
        Assert.DoesNotContain(CiIntegration.Publish(CiSystem.AzurePipelines, strict, strict.Content, n => n == "AGENT_TEMPDIRECTORY" ? Path.GetTempPath() : null, strict.ExitCode),
            l => l.Contains("task.complete", StringComparison.Ordinal));
    }

    [Fact]
    public void Step_outputs_go_to_github_output_with_a_heredoc_for_several_lines_and_to_azure_output_variables()
    {
        var output = Path.GetTempFileName();
        try
        {
            var report = Writer(R("deep", HealthStatus.Unhealthy), R("jwks", HealthStatus.Unhealthy), R("ok", HealthStatus.Healthy)).Write(ReportFormat.Markdown, "t", Now, failOn: ReportFailOn.Unhealthy);
            CiIntegration.Publish(CiSystem.GitHubActions, report, report.Content, n => n == "GITHUB_OUTPUT" ? output : null, report.ExitCode);
            var lines = File.ReadAllLines(output);
            Assert.Equal(["status=failed", "failed=2", "warnings=0", "passed=1", "exit-code=2"], lines.Take(5));
            Assert.Matches("^failing<<ghadelimiter_[0-9a-f-]{36}$", lines[5]);
            Assert.Equal(["production/deep", "production/jwks", lines[5]["failing<<".Length..]], lines[6..]);
            var azure = CiIntegration.Publish(CiSystem.AzurePipelines, report, report.Content, n => n == "AGENT_TEMPDIRECTORY" ? Path.GetTempPath() : null, report.ExitCode);
            Assert.Contains("##vso[task.setvariable variable=opsrunbook.exit-code;isOutput=true]2", azure);
            Assert.Contains("##vso[task.setvariable variable=opsrunbook.failing;isOutput=true]production/deep, production/jwks", azure);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void The_step_summary_stays_within_one_mebibyte_and_says_where_the_rest_is()
    {
        var summary = Path.GetTempFileName();
        try
        {
            File.WriteAllText(summary, new string('x', CiIntegration.StepSummaryLimit - 5000) + "\n");
            var rows = Enumerable.Range(0, 400).Select(i => R($"target-{i}", HealthStatus.Unhealthy, new string('r', 100))).ToArray<object>();
            var report = Writer(rows).Write(ReportFormat.Markdown, "t", Now);
            CiIntegration.AppendSummary(summary, report.Content);
            var length = new FileInfo(summary).Length;
            Assert.InRange(length, CiIntegration.StepSummaryLimit - 1000, CiIntegration.StepSummaryLimit);
            Assert.EndsWith("(Export-RunbookReport -OutputDirectory).\n", File.ReadAllText(summary));
            // Room enough: appended whole.
            File.WriteAllText(summary, "");
            CiIntegration.AppendSummary(summary, "## small\n");
            Assert.Equal("## small\n\n", File.ReadAllText(summary));
        }
        finally
        {
            File.Delete(summary);
        }
    }

    [Fact]
    public void Junit_times_a_parallel_run_by_its_wall_clock_and_stamps_it_with_its_zone()
    {
        // Three checks that ran at once for a second each, ending together: the run took one second, not three.
        var rows = new[] { "a", "b", "c" }.Select(n => R(n, HealthStatus.Healthy, latencyMs: 1000)).ToArray<object>();
        var doc = XDocument.Parse(Writer(rows).Write(ReportFormat.JUnit, "t", Now).Content);
        var suite = doc.Root!.Element("testsuite")!;
        Assert.Equal("1.000", (string?)suite.Attribute("time"));
        Assert.Equal("1.000", (string?)doc.Root!.Attribute("time"));
        Assert.Equal("2026-11-22T09:59:59Z", (string?)suite.Attribute("timestamp"));
        Assert.EndsWith("Z", (string?)doc.Root!.Attribute("timestamp"));
    }

    [Fact]
    public void A_summary_is_no_extra_test_case_and_gives_junit_the_runs_wall_time()
    {
        var results = new[] { R("deep", HealthStatus.Unhealthy, latencyMs: 400), R("simple", HealthStatus.Healthy, latencyMs: 100) };
        var summary = HealthReport.From(results, TimeSpan.FromMilliseconds(2500), Now);
        var doc = XDocument.Parse(Writer([.. results, summary]).Write(ReportFormat.JUnit, "t", Now).Content);
        Assert.Equal(["deep", "simple"], doc.Descendants("testcase").Select(c => (string?)c.Attribute("name")).Order());
        Assert.Equal("1", (string?)doc.Root!.Attribute("failures"));
        Assert.Equal("2.500", (string?)doc.Root!.Attribute("time")); // the session's own clock, longer than the checks' span
    }

    [Fact]
    public void Markdown_cells_show_html_as_text()
    {
        var md = Writer(R("deep", HealthStatus.Unhealthy, "<img src=x onerror=alert(1)> & <details>")).Write(ReportFormat.Markdown, "t", Now).Content;
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt; &amp; &lt;details&gt;", md);
        Assert.DoesNotContain("<img", md);
    }

    [Fact]
    public void Outside_ci_nothing_is_published()
    {
        Assert.Equal(CiSystem.None, CiIntegration.Detect(_ => null));
        Assert.Empty(CiIntegration.Publish(CiSystem.None, Writer(R("x", HealthStatus.Unhealthy)).Write(ReportFormat.Json, "t", Now), "", _ => null));
    }

    // What a hostile health endpoint can put in a reason: an Azure logging command anywhere in a line, GitHub's legacy
    // "##[" command, and a line that starts (after blanks, after CR or LF) with a GitHub workflow command.
    private const string Hostile = "body ##vso[task.setvariable variable=DEPLOY_KEY]stolen then\n  ::add-mask::x\r::set-env name=A::b ##[error]x";

    private static bool RunnerWouldAct(string text) =>
        text.Contains("##vso[", StringComparison.Ordinal) || text.Contains("##[", StringComparison.Ordinal)
        || text.Split('\r', '\n').Any(l => l.TrimStart().StartsWith("::", StringComparison.Ordinal));

    [Fact]
    public void A_hostile_reason_reaches_no_format_and_no_annotation_as_a_runner_command()
    {
        Assert.True(RunnerWouldAct(Hostile)); // the test's own check sees the attack
        var result = R("deep", HealthStatus.Unhealthy, Hostile);
        Assert.False(RunnerWouldAct(result.Reason));
        Assert.Contains("# #vso[task.setvariable", result.Reason); // still readable: what the endpoint tried is visible
        var row = new ReportRow("Kind", "name ::x", ReportOutcome.Fail, "Unhealthy", null, Hostile, [new("Body", Hostile)], Now);
        Assert.False(RunnerWouldAct(row.Message) || RunnerWouldAct(row.Columns[0].Value));
        foreach (var format in new[] { ReportFormat.Markdown, ReportFormat.JUnit, ReportFormat.Json })
        {
            var report = Writer(result).Write(format, "t", Now);
            Assert.False(RunnerWouldAct(report.Content), format.ToString());
            Assert.False(RunnerWouldAct(report.FailureMessage(ReportFailOn.Unhealthy)!), "the -FailOn message");
        }
        var azure = CiIntegration.Publish(CiSystem.AzurePipelines, Writer(result).Write(ReportFormat.Markdown, "t", Now), "", n => n == "AGENT_TEMPDIRECTORY" ? Path.GetTempPath() : null);
        Assert.All(azure, l => Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(l, @"##vso\[")));
        var github = CiIntegration.Publish(CiSystem.GitHubActions, Writer(result).Write(ReportFormat.Markdown, "t", Now), "", _ => null);
        Assert.All(github, l => Assert.False(RunnerWouldAct(l[2..]), l));
    }

    [Theory]
    // Escaped here and unescaped in the test: an attribute cannot carry a lone surrogate (the compiler makes it U+FFFD).
    [InlineData(@"\u0001")]
    [InlineData(@"\u001b[31mred\u001b[0m")]
    [InlineData(@"\u000b\u000c\u001f")]
    [InlineData(@"\ufffe")]
    [InlineData(@"\ud800 lone high")]
    [InlineData(@"lone low \udc00")]
    public void JUnit_stays_xml_whatever_a_check_reports(string escaped)
    {
        var text = System.Text.RegularExpressions.Regex.Unescape(escaped);
        var writer = Writer(R("name " + text, HealthStatus.Unhealthy, "reason " + text), R("warn" + text, HealthStatus.Degraded, text));
        var junit = writer.Write(ReportFormat.JUnit, "title " + text, Now).Content;
        var doc = XDocument.Parse(junit);
        Assert.Equal(2, doc.Descendants("testcase").Count());
        Assert.Contains("\ufffd", doc.Descendants("failure").Single().Attribute("message")!.Value);
        Assert.Equal("😀 ok", LogText.XmlSafe("😀 ok")); // a surrogate pair is a character, kept
        using var json = JsonDocument.Parse(writer.Write(ReportFormat.Json, "t", Now).Content);
        Assert.Equal(2, json.RootElement.GetProperty("items").GetArrayLength());
    }
}
