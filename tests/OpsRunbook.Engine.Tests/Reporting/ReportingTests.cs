using System.Text.Json;
using System.Xml.Linq;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Tests;

public class ReportingTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private static HealthCheckResult R(string name, HealthStatus status, string reason = "ok") => new()
    {
        Target = new HealthCheckTarget { Name = name, Address = $"https://{name}.example/" },
        Environment = "production",
        Status = status,
        Reason = reason,
        LatencyMs = 120,
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
