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
/// Makes a report visible where runners look: GitHub Actions' step summary and ::error/::warning annotations,
/// Azure Pipelines' ##vso logging commands (task.logissue, task.uploadsummary).
/// </summary>
public static class CiIntegration
{
    /// <summary>Which runner this is.</summary>
    public static CiSystem Detect(Func<string, string?> environment)
    {
        if (string.Equals(environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase)) return CiSystem.GitHubActions;
        if (string.Equals(environment("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase)) return CiSystem.AzurePipelines;
        return CiSystem.None;
    }

    /// <summary>
    /// Publishes <paramref name="report"/>: appends its Markdown to the step summary (GitHub) or uploads it as a build
    /// summary (Azure), and returns the annotation lines to print, one per failing or warning row (at most 50, as runners cap them).
    /// </summary>
    public static IReadOnlyList<string> Publish(CiSystem system, RunbookReport report, string markdown, Func<string, string?> environment)
    {
        var lines = new List<string>();
        var rows = report.Rows.Where(r => r.Outcome is ReportOutcome.Fail or ReportOutcome.Warn).Take(50).ToList();
        switch (system)
        {
            case CiSystem.GitHubActions:
                if (environment("GITHUB_STEP_SUMMARY") is { Length: > 0 } summary)
                {
                    File.AppendAllText(summary, markdown + "\n", new UTF8Encoding(false));
                }
                foreach (var r in rows)
                {
                    var level = r.Outcome == ReportOutcome.Fail ? "error" : "warning";
                    lines.Add($"::{level} title={GitHubProperty($"{r.Kind}: {r.Name}")}::{GitHubData($"{r.Status}: {r.Message}")}");
                }
                break;
            case CiSystem.AzurePipelines:
                var temp = environment("AGENT_TEMPDIRECTORY") is { Length: > 0 } t ? t : Path.GetTempPath();
                var file = Path.Combine(temp, $"opsrunbook-report-{Guid.NewGuid():N}.md");
                File.WriteAllText(file, markdown, new UTF8Encoding(false));
                lines.Add($"##vso[task.uploadsummary]{AzureData(file)}");
                foreach (var r in rows)
                {
                    var type = r.Outcome == ReportOutcome.Fail ? "error" : "warning";
                    lines.Add($"##vso[task.logissue type={type}]{AzureData($"{r.Kind}: {r.Name}: {r.Status}: {r.Message}")}");
                }
                break;
        }
        return lines;
    }

    /// <summary>GitHub workflow-command data escaping (% CR LF).</summary>
    public static string GitHubData(string s) => s.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    /// <summary>GitHub workflow-command property escaping (data escaping plus : and ,).</summary>
    public static string GitHubProperty(string s) => GitHubData(s).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    /// <summary>Azure Pipelines logging-command escaping (% ; CR LF ]).</summary>
    public static string AzureData(string s) => s.Replace("%", "%AZP25", StringComparison.Ordinal).Replace(";", "%3B", StringComparison.Ordinal)
        .Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal).Replace("]", "%5D", StringComparison.Ordinal);
}
