using System.Text;

namespace OpsRunbook.Engine.Reporting;

/// <summary>The CI system a report runs under, from the variables the runners set.</summary>
public enum CiSystem
{
    /// <summary>Not in CI (or not one we know).</summary>
    None,
    /// <summary>GITHUB_ACTIONS=true.</summary>
    GitHubActions,
    /// <summary>TF_BUILD=True.</summary>
    AzurePipelines,
}

/// <summary>
/// Makes a report visible where runners look: GitHub Actions' step summary, annotations and step outputs
/// ($GITHUB_OUTPUT), Azure Pipelines' logging commands (task.logissue, task.uploadsummary, task.setvariable,
/// task.complete). Both runners show a step's first 10 error and 10 warning annotations; the rest would be dropped
/// without a word, so each kind gets its own 10 and one notice says how many more the summary holds.
/// </summary>
public static class CiIntegration
{
    /// <summary>Annotations of each kind (error, warning) per step, as GitHub shows them.</summary>
    public const int AnnotationsPerKind = 10;

    /// <summary>GitHub's limit for a step's summary (all that the step appends to $GITHUB_STEP_SUMMARY).</summary>
    public const int StepSummaryLimit = 1024 * 1024;

    /// <summary>Which runner this is.</summary>
    public static CiSystem Detect(Func<string, string?> environment)
    {
        if (string.Equals(environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase)) return CiSystem.GitHubActions;
        if (string.Equals(environment("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase)) return CiSystem.AzurePipelines;
        return CiSystem.None;
    }

    /// <summary>
    /// Publishes <paramref name="report"/>: its Markdown to the step summary (GitHub, kept within the step's 1 MiB with a
    /// footer when cut) or as a build summary (Azure); its counts and exit code as step outputs (GitHub: $GITHUB_OUTPUT;
    /// Azure: output variables); and returns the lines to print: at most 10 error and 10 warning annotations, a notice
    /// for the rest, and, for a run that ends well with warnings (<paramref name="exitCode"/> 0), a notice (GitHub) or
    /// "succeeded with issues" (Azure).
    /// </summary>
    public static IReadOnlyList<string> Publish(CiSystem system, RunbookReport report, string markdown, Func<string, string?> environment,
        RunExitCode? exitCode = null)
    {
        var lines = new List<string>();
        var failing = report.Rows.Where(r => r.Outcome == ReportOutcome.Fail).ToList();
        var warning = report.Rows.Where(r => r.Outcome == ReportOutcome.Warn).ToList();
        var shown = failing.Take(AnnotationsPerKind).Concat(warning.Take(AnnotationsPerKind)).ToList();
        var more = (Failing: Math.Max(0, failing.Count - AnnotationsPerKind), Warning: Math.Max(0, warning.Count - AnnotationsPerKind));
        var moreText = more is (0, 0) ? null : $"{more.Failing} more failing and {more.Warning} more warning results than the annotations show are in the step summary";
        var warningsOnly = exitCode == RunExitCode.Success && failing.Count == 0 && warning.Count > 0;
        switch (system)
        {
            case CiSystem.GitHubActions:
                if (environment("GITHUB_STEP_SUMMARY") is { Length: > 0 } summary) AppendSummary(summary, markdown);
                foreach (var r in shown)
                {
                    var level = r.Outcome == ReportOutcome.Fail ? "error" : "warning";
                    lines.Add($"::{level} title={GitHubProperty($"{r.Kind}: {r.Name}")}::{GitHubData($"{r.Status}: {r.Message}")}");
                }
                if (moreText is not null) lines.Add($"::notice title={GitHubProperty(report.Title)}::{GitHubData(moreText)}");
                if (warningsOnly) lines.Add($"::notice title={GitHubProperty(report.Title)}::{GitHubData($"{warning.Count} warning results, none failing: see the step summary")}");
                if (environment("GITHUB_OUTPUT") is { Length: > 0 } output) File.AppendAllText(output, GitHubOutputs(Outputs(report, exitCode)), Utf8);
                break;
            case CiSystem.AzurePipelines:
                var temp = environment("AGENT_TEMPDIRECTORY") is { Length: > 0 } t ? t : Path.GetTempPath();
                var file = Path.Combine(temp, $"opsrunbook-report-{Guid.NewGuid():N}.md");
                File.WriteAllText(file, markdown, Utf8);
                lines.Add($"##vso[task.uploadsummary]{AzureData(file)}");
                foreach (var r in shown)
                {
                    var type = r.Outcome == ReportOutcome.Fail ? "error" : "warning";
                    lines.Add($"##vso[task.logissue type={type}]{AzureData($"{r.Kind}: {r.Name}: {r.Status}: {r.Message}")}");
                }
                if (moreText is not null) lines.Add(moreText);
                foreach (var (name, value) in Outputs(report, exitCode))
                {
                    // One line each: a multi-line value (the failing list) joins with ", ".
                    lines.Add($"##vso[task.setvariable variable=opsrunbook.{name};isOutput=true]{AzureData(value.Replace("\n", ", ", StringComparison.Ordinal))}");
                }
                if (warningsOnly) lines.Add($"##vso[task.complete result=SucceededWithIssues;]{AzureData($"{warning.Count} warning results, none failing")}");
                break;
        }
        return lines;
    }

    private static readonly UTF8Encoding Utf8 = new(false);

    /// <summary>The step outputs: status (passed, warnings, failed), the counts, the exit code, and the failing results' names (one per line).</summary>
    public static IReadOnlyList<(string Name, string Value)> Outputs(RunbookReport report, RunExitCode? exitCode)
    {
        var status = report.Failed > 0 ? "failed" : report.Warnings > 0 ? "warnings" : "passed";
        var list = new List<(string, string)>
        {
            ("status", status),
            ("failed", report.Failed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("warnings", report.Warnings.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("passed", report.Passed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (exitCode is { } code) list.Add(("exit-code", ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        list.Add(("failing", string.Join("\n", report.Rows.Where(r => r.Outcome == ReportOutcome.Fail)
            .Select(r => r.Environment is null ? r.Name : $"{r.Environment}/{r.Name}"))));
        return list;
    }

    /// <summary>
    /// $GITHUB_OUTPUT lines: name=value, or for a value of several lines the heredoc form with a delimiter the value
    /// does not hold (what actions/toolkit's core.setOutput writes).
    /// </summary>
    public static string GitHubOutputs(IEnumerable<(string Name, string Value)> outputs)
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in outputs)
        {
            if (!value.Contains('\n', StringComparison.Ordinal) && !value.Contains('\r', StringComparison.Ordinal))
            {
                sb.Append(name).Append('=').Append(value).Append('\n');
                continue;
            }
            string delimiter;
            do delimiter = $"ghadelimiter_{Guid.NewGuid()}"; while (value.Contains(delimiter, StringComparison.Ordinal));
            sb.Append(name).Append("<<").Append(delimiter).Append('\n').Append(value).Append('\n').Append(delimiter).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Appends <paramref name="markdown"/> to the step summary, keeping the file within GitHub's 1 MiB per step (what
    /// earlier steps of the same step appended counts): a report that does not fit is cut at a line and ends with a footer.
    /// </summary>
    public static void AppendSummary(string path, string markdown)
    {
        const string footer = "\n\n> **Truncated**: the step summary is limited to 1 MiB; the whole report is in the job's artifact (Export-RunbookReport -OutputDirectory).\n";
        var used = File.Exists(path) ? new FileInfo(path).Length : 0;
        var text = markdown + "\n";
        var room = StepSummaryLimit - used;
        if (Utf8.GetByteCount(text) > room)
        {
            var budget = room - Utf8.GetByteCount(footer);
            if (budget <= 0) return;
            // Whole lines that fit, then the footer.
            var bytes = 0L;
            var cut = 0;
            foreach (var line in text.Split('\n'))
            {
                var n = Utf8.GetByteCount(line) + 1;
                if (bytes + n > budget) break;
                bytes += n;
                cut += line.Length + 1;
            }
            text = text[..Math.Min(cut, text.Length)] + footer;
        }
        File.AppendAllText(path, text, Utf8);
    }

    /// <summary>GitHub workflow-command data escaping (% CR LF).</summary>
    public static string GitHubData(string s) => s.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    /// <summary>GitHub workflow-command property escaping (data escaping plus : and ,).</summary>
    public static string GitHubProperty(string s) => GitHubData(s).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    /// <summary>Azure Pipelines logging-command escaping (% ; CR LF ]).</summary>
    public static string AzureData(string s) => s.Replace("%", "%AZP25", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal)
        .Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal).Replace("]", "%5D", StringComparison.Ordinal);
}
