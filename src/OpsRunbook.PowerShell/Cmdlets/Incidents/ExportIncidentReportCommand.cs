using System.Management.Automation;
using OpsRunbook.Engine.Incidents;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>The format of an incident report.</summary>
public enum IncidentReportFormat
{
    /// <summary>The post-mortem draft in Markdown.</summary>
    Markdown,
    /// <summary>The same as JSON.</summary>
    Json,
}

/// <summary>Writes an incident's post-mortem draft: the Google SRE template's fields filled from the journal, the timeline in UTC, unknowns marked to fill in.</summary>
/// <remarks>
/// The sections of the Google SRE book's example postmortem: Summary, Impact, Root Causes, Trigger, Resolution,
/// Detection, Action Items, Lessons Learned (what went well, what went wrong, where we got lucky) and the Timeline in
/// UTC from the journal. What the journal holds fills them (Close-Incident's resolution and root cause,
/// Add-IncidentEvent -Field and -ActionItem); the rest reads "To fill in". Secrets never appear: results were recorded
/// with their reasons scrubbed, and the text is scrubbed again.
/// </remarks>
/// <example>
/// <code>Get-Incident production -All | Select-Object -First 1 | Export-IncidentReport -Path ./INC.md</code>
/// <para>The draft of the latest incident as Markdown.</para>
/// </example>
/// <example>
/// <code>(Get-Incident production -All | Select-Object -First 1 | Export-IncidentReport -Format Json).Content</code>
/// <para>The same as JSON text.</para>
/// </example>
[Cmdlet(VerbsData.Export, "IncidentReport", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(IncidentReportDocument))]
public sealed class ExportIncidentReportCommand : IncidentCmdlet
{
    /// <summary>The incident (from Close-Incident, Get-Incident or New-Incident) or its id.</summary>
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    public PSObject? Incident { get; set; }

    /// <summary>Where to write it; without it the report's text goes down the pipeline (its Content).</summary>
    [Parameter]
    public string? Path { get; set; }

    /// <summary>Markdown (default) or Json.</summary>
    [Parameter]
    public IncidentReportFormat Format { get; set; } = IncidentReportFormat.Markdown;

    /// <summary>Writes the report.</summary>
    protected override void ProcessRecord()
    {
        var (id, env) = Target(Incident!);
        var incident = Load(env, id);
        var text = Format == IncidentReportFormat.Json ? IncidentReport.Json(incident) : IncidentReport.Markdown(incident);
        text = Secrets.Redactor.Scrub(text);
        if (Path is null)
        {
            WriteObject(new IncidentReportDocument { IncidentId = id, Format = Format.ToString(), Content = text });
            return;
        }
        var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(full, $"Write the {Format} post-mortem draft of {id}")) return;
        File.WriteAllText(full, text);
        WriteObject(new IncidentReportDocument { IncidentId = id, Format = Format.ToString(), Path = full, Content = text });
    }
}
