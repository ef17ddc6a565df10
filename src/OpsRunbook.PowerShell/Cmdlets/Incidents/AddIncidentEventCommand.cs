using System.Management.Automation;
using OpsRunbook.Engine.Incidents;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Adds to an incident's timeline: piped OpsRunbook results, a note, an action item, or a post-mortem field.</summary>
/// <remarks>
/// Any OpsRunbook result piped in (a rollback, a health check, a rotation, an alert…) becomes a timeline entry with its
/// status and reason, never a secret. Events are appended, never rewritten, so several jobs may add to one incident at
/// once. Writes the incident as it now stands.
/// </remarks>
/// <example>
/// <code>$i = Get-Incident production | Select-Object -First 1; Start-Rollback production -Force | Add-IncidentEvent $i</code>
/// <para>The rollback, with its outcome, on the incident's timeline.</para>
/// </example>
/// <example>
/// <code>Get-Incident production | Select-Object -First 1 | Add-IncidentEvent -Note 'Rolled back; error rate falling' -ActionItem 'Alert on pool saturation' -Owner dana</code>
/// <para>A note and an action item with its owner.</para>
/// </example>
[Cmdlet(VerbsCommon.Add, "IncidentEvent", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Incident))]
public sealed class AddIncidentEventCommand : IncidentCmdlet
{
    private readonly List<PSObject> _input = [];
    private PSObject? _incident;

    /// <summary>The incident (from New-Incident or Get-Incident) or its id.</summary>
    [Parameter(Position = 0)]
    public PSObject? Incident { get; set; }

    /// <summary>Results to put on the timeline, piped in (or, without -Incident, the incident itself).</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>A note for the timeline: what was tried, what was seen.</summary>
    [Parameter]
    public string? Note { get; set; }

    /// <summary>Follow-up work.</summary>
    [Parameter]
    public string? ActionItem { get; set; }

    /// <summary>The action item's owner.</summary>
    [Parameter]
    public string? Owner { get; set; }

    /// <summary>Post-mortem fields: Summary, Impact, RootCause, Trigger, Detection, WentWell, WentWrong, Lucky.</summary>
    [Parameter]
    public System.Collections.Hashtable? Field { get; set; }

    /// <summary>Collects the piped results.</summary>
    protected override void ProcessRecord()
    {
        foreach (var item in InputObject ?? [])
        {
            if (item is null) continue;
            if (Incident is null && _incident is null && IsIncident(item)) _incident = item;
            else _input.Add(item);
        }
    }

    private static bool IsIncident(PSObject item) =>
        item.BaseObject is Engine.Incidents.Incident || (PipedInput.OpsRunbookType(item) == "OpsRunbook.Engine.Incidents.Incident");

    /// <summary>Appends the events.</summary>
    protected override void EndProcessing()
    {
        var target = Incident ?? _incident;
        if (target is null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Incident (an incident from New-Incident or Get-Incident, or its id)"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
        }
        var (id, env) = Target(target!);
        var refused = new List<PSObject>();
        var events = ResultEvents(id, _input, refused);
        if (refused.Count > 0) WriteError(new ErrorRecord(new ArgumentException($"{refused.Count} piped object(s) are not OpsRunbook results and were left out (first: {PipedInput.Describe(refused[0])})"), ErrorIds.NotReportable, ErrorCategory.InvalidType, refused[0]));
        if (Note is not null) events.Add(Event(id, IncidentEventType.Note) with { Text = Note });
        if (ActionItem is not null) events.Add(Event(id, IncidentEventType.ActionItem) with { Text = ActionItem, Person = Owner });
        foreach (System.Collections.DictionaryEntry f in Field ?? [])
        {
            events.Add(Event(id, IncidentEventType.Field) with { Name = f.Key.ToString(), Text = f.Value?.ToString() ?? "" });
        }
        if (events.Count == 0)
        {
            WriteObject(Load(env, id));
            return;
        }
        if (!ShouldProcess(id, $"Add {events.Count} event(s) to the timeline")) return;
        WriteObject(Append(env, id, events));
    }
}
