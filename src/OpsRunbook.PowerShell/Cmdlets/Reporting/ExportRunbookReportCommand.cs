using System.Management.Automation;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Writes OpsRunbook results as a Markdown, JUnit XML or JSON report, and publishes it in GitHub Actions and Azure Pipelines.
/// </summary>
/// <remarks>
/// Export-RunbookReport collects any OpsRunbook results from the pipeline (health checks, health reports, alerts,
/// metrics, host resources, and the results of later cmdlets; also as they come back from Start-Job, remoting or
/// Import-Clixml, judged by their status) and writes one report: Markdown with a table per kind,
/// worst first; JUnit XML with each check a test case and every Unhealthy or Critical result a failure, so CI systems
/// show them as failed tests; or JSON. With -Path it writes the file, otherwise it returns the text in a RunbookReport.
///
/// -OutputDirectory writes all three at once (opsrunbook-report.md, .json and .junit.xml) for a job's artifacts.
///
/// Inside GitHub Actions (GITHUB_ACTIONS=true) it appends the Markdown to the job's step summary (kept within the
/// step's 1 MiB, with a footer when cut), prints ::error and ::warning annotations for failing and warning rows (10 of
/// each, as the runner shows them, then one notice with how many more), and writes the step outputs status, failed,
/// warnings, passed, exit-code and failing to $GITHUB_OUTPUT; inside Azure Pipelines (TF_BUILD=True) it uploads the
/// Markdown as a build summary, prints ##vso[task.logissue] lines with the same caps and sets the same values as output
/// variables (opsrunbook.status, ...). -NoCiIntegration turns that off.
///
/// -FailOn makes it the run's gate, with the exit contract schedulers act on: 0 all good, 2 a check failed, 3 only
/// warnings (with -FailOn Degraded), 1 the tool itself failed (a configuration error, input it cannot judge). With
/// -FailOn Unhealthy a run with warnings only passes, shown as a notice on GitHub and as "succeeded with issues" on
/// Azure. In a script run by pwsh (-File, -Command, the runners' pwsh steps, a CronJob) a failed gate names the failing
/// results on stderr and ends the script with its code, as `exit 2` would; at a prompt, or with -ErrorAction given, it
/// is a terminating error instead; with -WhatIf it only says what it would do. Either way $LASTEXITCODE holds the code, and the report (written first) has it in
/// ExitCode. Scripts should set $ErrorActionPreference = 'Stop' (the runners do) so that a configuration error ends the
/// run with 1 rather than leaving the gate nothing to judge.
/// </remarks>
/// <example>
/// <code>Invoke-HealthCheck production -Summary | Export-RunbookReport -FailOn Unhealthy</code>
/// <para>In a scheduled GitHub Actions job: a step summary, annotations, and a failed job when anything is down.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Export-RunbookReport -OutputDirectory ./report -FailOn Degraded</code>
/// <para>Markdown, JSON and JUnit for the job's artifacts; the run ends with 2 when a check fails, 3 when one only warns.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Export-RunbookReport -Format JUnit -Path ./health.xml</code>
/// <para>A JUnit file for the CI system's test tab.</para>
/// </example>
/// <example>
/// <code>Get-HostResource | Test-MetricThreshold -Profile formula-pm | Export-RunbookReport -Format Markdown -Path ./daily.md</code>
/// <para>Runbook 001's daily check as a Markdown report.</para>
/// </example>
[Cmdlet(VerbsData.Export, "RunbookReport", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
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
    [Parameter(ParameterSetName = "Path")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>A folder to write the report to in every format: opsrunbook-report.md, opsrunbook-report.json and opsrunbook-report.junit.xml (created if missing).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Directory")]
    [ValidateNotNullOrEmpty]
    public string? OutputDirectory { get; set; }

    /// <summary>The report's title (default "OpsRunbook report").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Title { get; set; } = "OpsRunbook report";

    /// <summary>Make the report the run's gate: fail it (exit code 2, or 3 for warnings only) when any row is Unhealthy/Critical, or Degraded/Warning or worse.</summary>
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
            catch (ArgumentException) when (item is PSObject bag && PipedInput.Rows(bag) is { Count: > 0 } rows)
            {
                // A result that crossed a job, remoting, Export-Clixml or artifact boundary: its status word survives,
                // and judges it (a fleet's final job reports what its jobs found).
                _writer.Add(new ReportRows(rows));
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
            // A gate must never pass because it failed to recognise its input (other modules' objects, strings): what
            // it could not judge fails it, as the tool's failure.
            var unjudged = string.Join(", ", _refused.Select(r => $"{r.Value.Count} {r.Key}"));
            Fail(RunExitCode.ToolFailed, new ErrorRecord(new InvalidOperationException(
                $"-FailOn {FailOn} cannot judge what it does not recognise ({unjudged}): pipe OpsRunbook results, or leave -FailOn off to report only what it knows"),
                ErrorIds.ReportInputUnrecognized, ErrorCategory.InvalidData, null));
            return;
        }
        foreach (var (type, (count, first, error)) in _refused)
        {
            var message = count == 1 ? error.Message : $"{count} objects of type {type} were left out of the report: {error.Message}";
            WriteError(new ErrorRecord(new ArgumentException(message, error), ErrorIds.NotReportable, ErrorCategory.InvalidType, first));
        }
        var now = DateTimeOffset.UtcNow;
        RunbookReport report;
        if (OutputDirectory is not null)
        {
            var directory = SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutputDirectory);
            var files = new Dictionary<ReportFormat, string>
            {
                [ReportFormat.Markdown] = System.IO.Path.Combine(directory, "opsrunbook-report.md"),
                [ReportFormat.Json] = System.IO.Path.Combine(directory, "opsrunbook-report.json"),
                [ReportFormat.JUnit] = System.IO.Path.Combine(directory, "opsrunbook-report.junit.xml"),
            };
            report = _writer.Write(Format, Title, now, files[Format], FailOn);
            report.Files = files.Values.ToList();
            if (ShouldProcess(directory, $"Write the report as Markdown, JSON and JUnit ({report.Total} rows)"))
            {
                Directory.CreateDirectory(directory);
                foreach (var (format, file) in files)
                {
                    File.WriteAllText(file, format == Format ? report.Content : _writer.Write(format, Title, now, file, FailOn).Content);
                }
            }
        }
        else
        {
            var fullPath = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            report = _writer.Write(Format, Title, now, fullPath, FailOn);
            if (fullPath is not null) report.Files = new string[] { fullPath };
            if (fullPath is not null && ShouldProcess(fullPath, $"Write {Format} report ({report.Total} rows)"))
            {
                File.WriteAllText(fullPath, report.Content);
            }
        }
        var gate = FailOn == ReportFailOn.None ? (RunExitCode?)null : report.ExitCode;
        var ci = NoCiIntegration ? CiSystem.None : CiIntegration.Detect(System.Environment.GetEnvironmentVariable);
        if (ci != CiSystem.None && ShouldProcess(ci.ToString(), "Publish the report summary, annotations and outputs"))
        {
            var markdown = Format == ReportFormat.Markdown ? report.Content : ReportWriter.Markdown(report.Rows, Title, now);
            foreach (var line in CiIntegration.Publish(ci, report, markdown, System.Environment.GetEnvironmentVariable, gate))
            {
                Host.UI.WriteLine(line);
            }
        }
        WriteObject(report);
        if (gate is not { } code) return;
        if (code == RunExitCode.Success) ScriptRun.SetLastExitCode(this, code);
        else
        {
            var failure = report.FailureMessage(FailOn) ?? $"{report.Warnings} of {report.Total} results are degraded (-FailOn {FailOn})";
            Fail(code, new ErrorRecord(new InvalidOperationException(failure), ErrorIds.ReportFailed, ErrorCategory.InvalidResult, report));
        }
    }

    /// <summary>
    /// Ends the run with <paramref name="code"/>: in a script process (unless -ErrorAction asks for an error) the
    /// message goes to stderr and the script ends as `exit` would; otherwise a terminating error. $LASTEXITCODE is set.
    /// </summary>
    private void Fail(RunExitCode code, ErrorRecord error)
    {
        // -WhatIf: say what the gate would do, and do nothing (the script goes on).
        if (!ShouldProcess("the run", $"End with exit code {(int)code}: {error.Exception.Message}")) return;
        ScriptRun.SetLastExitCode(this, code);
        if (ScriptRun.IsScript(Host) && !MyInvocation.BoundParameters.ContainsKey("ErrorAction"))
        {
            Host.UI.WriteErrorLine($"Export-RunbookReport: {error.Exception.Message} (exit code {(int)code})");
            ScriptRun.End(this, code);
            return;
        }
        ThrowTerminatingError(error);
    }
}
