using System.Management.Automation;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Writes OpsRunbook results as a Markdown, JUnit XML or JSON report, and publishes it in GitHub Actions and Azure Pipelines.
/// </summary>
/// <remarks>
/// Export-RunbookReport collects any OpsRunbook results from the pipeline (health checks, health reports, alerts,
/// metrics, host resources, and the results of later cmdlets) and writes one report: Markdown with a table per kind,
/// worst first; JUnit XML with each check a test case and every Unhealthy or Critical result a failure, so CI systems
/// show them as failed tests; or JSON. With -Path it writes the file, otherwise it returns the text in a RunbookReport.
///
/// Inside GitHub Actions (GITHUB_ACTIONS=true) it appends the Markdown to the job's step summary and prints ::error and
/// ::warning annotations for failing and warning rows; inside Azure Pipelines (TF_BUILD=True) it uploads the Markdown
/// as a build summary and prints ##vso[task.logissue] lines. -NoCiIntegration turns that off. -FailOn Unhealthy (or
/// Critical) ends with a terminating error when any row fails, -FailOn Degraded (or Warning) when any warns, so the job
/// fails with a message that names them — after the report has been written.
/// </remarks>
/// <example>
/// <code>Invoke-HealthCheck production -Summary | Export-RunbookReport -FailOn Unhealthy</code>
/// <para>In a scheduled GitHub Actions job: a step summary, annotations, and a failed job when anything is down.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Export-RunbookReport -Format JUnit -Path ./health.xml</code>
/// <para>A JUnit file for the CI system's test tab.</para>
/// </example>
/// <example>
/// <code>Get-HostResource | Test-MetricThreshold -Profile formula-pm | Export-RunbookReport -Format Markdown -Path ./daily.md</code>
/// <para>Runbook 001's daily check as a Markdown report.</para>
/// </example>
[Cmdlet(VerbsData.Export, "RunbookReport", SupportsShouldProcess = true)]
[OutputType(typeof(RunbookReport))]
public sealed class ExportRunbookReportCommand : PSCmdlet
{
    private readonly ReportWriter _writer = new();

    /// <summary>OpsRunbook results to report.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public object[]? InputObject { get; set; }

    /// <summary>Markdown (default), JUnit or Json.</summary>
    [Parameter(Position = 0)]
    public ReportFormat Format { get; set; } = ReportFormat.Markdown;

    /// <summary>A file to write; without it the report text is returned.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The report's title (default "OpsRunbook report").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Title { get; set; } = "OpsRunbook report";

    /// <summary>Fail (terminating error) when any row is Unhealthy/Critical, or Degraded/Warning or worse.</summary>
    [Parameter]
    public ReportFailOn FailOn { get; set; } = ReportFailOn.None;

    /// <summary>Do not publish to the GitHub Actions step summary or Azure Pipelines, even when running there.</summary>
    [Parameter]
    public SwitchParameter NoCiIntegration { get; set; }

    /// <summary>Collects the results.</summary>
    protected override void ProcessRecord()
    {
        foreach (var item in InputObject ?? [])
        {
            var value = item is PSObject ps ? ps.BaseObject : item;
            try
            {
                _writer.Add(value);
            }
            catch (ArgumentException ex)
            {
                // One error per kind of input, written at the end with the count: 50 strings make one error, not 50.
                var type = PSObject.AsPSObject(item).TypeNames.FirstOrDefault() ?? value?.GetType().FullName ?? "null";
                _refused[type] = _refused.TryGetValue(type, out var seen) ? (seen.Count + 1, seen.First, seen.Error) : (1, item, ex);
            }
        }
    }

    private readonly Dictionary<string, (int Count, object First, ArgumentException Error)> _refused = new(StringComparer.Ordinal);

    /// <summary>Writes the report, publishes it, and applies -FailOn.</summary>
    protected override void EndProcessing()
    {
        if (FailOn != ReportFailOn.None && _refused.Count > 0)
        {
            // A gate must never pass because it failed to recognise its input (results that crossed a job or remoting
            // boundary as property bags, other modules' objects): what it could not judge fails it.
            var unjudged = string.Join(", ", _refused.Select(r => $"{r.Value.Count} {r.Key}"));
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(
                $"-FailOn {FailOn} cannot judge what it does not recognise ({unjudged}): pipe OpsRunbook results, or leave -FailOn off to report only what it knows"),
                ErrorIds.ReportInputUnrecognized, ErrorCategory.InvalidData, null));
        }
        foreach (var (type, (count, first, error)) in _refused)
        {
            var message = count == 1 ? error.Message : $"{count} objects of type {type} were left out of the report: {error.Message}";
            WriteError(new ErrorRecord(new ArgumentException(message, error), ErrorIds.NotReportable, ErrorCategory.InvalidType, first));
        }
        var now = DateTimeOffset.UtcNow;
        var fullPath = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        var report = _writer.Write(Format, Title, now, fullPath);
        if (fullPath is not null && ShouldProcess(fullPath, $"Write {Format} report ({report.Total} rows)"))
        {
            File.WriteAllText(fullPath, report.Content);
        }
        var ci = NoCiIntegration ? CiSystem.None : CiIntegration.Detect(System.Environment.GetEnvironmentVariable);
        if (ci != CiSystem.None && ShouldProcess(ci.ToString(), "Publish the report summary and annotations"))
        {
            var markdown = Format == ReportFormat.Markdown ? report.Content : ReportWriter.Markdown(report.Rows, Title, now);
            foreach (var line in CiIntegration.Publish(ci, report, markdown, System.Environment.GetEnvironmentVariable))
            {
                Host.UI.WriteLine(line);
            }
        }
        WriteObject(report);
        if (report.FailureMessage(FailOn) is { } failure)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(failure), ErrorIds.ReportFailed, ErrorCategory.InvalidResult, report));
        }
    }
}
