using System.Collections;
using System.Management.Automation;
using OpsRunbook.Engine.Incidents;
using OpsRunbook.Engine.Notify;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Changes an incident's status, severity or roles, and with -Notify posts the runbook's status update.</summary>
/// <remarks>
/// Each change is an event appended to the journal (StatusChanged, SeverityChanged, RoleAssigned); -Text alone is a
/// note. A new severity changes the response deadline and the escalation that Get-Incident shows. -Notify posts the
/// runbook's INCIDENT UPDATE (Status, Progress, Next Steps, ETA), and a raised severity updates the PagerDuty alert.
/// </remarks>
/// <example>
/// <code>Get-Incident production | Select-Object -First 1 | Set-Incident -Status Monitoring -Text 'Rolled back to v41' -Notify</code>
/// <para>Status Monitoring, and the runbook's INCIDENT UPDATE to the team.</para>
/// </example>
/// <example>
/// <code>Get-Incident production | Select-Object -First 1 | Set-Incident -Severity P2 -Commander dana</code>
/// <para>Changes the severity (the response deadline and escalation follow) and names the commander.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Incident))]
public sealed class SetIncidentCommand : IncidentCmdlet
{
    /// <summary>The incident (from New-Incident or Get-Incident) or its id.</summary>
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    public PSObject? Incident { get; set; }

    /// <summary>Investigating, Identified, Mitigating or Monitoring (Close-Incident resolves).</summary>
    [Parameter]
    [ValidateSet("Investigating", "Identified", "Mitigating", "Monitoring")]
    public string? Status { get; set; }

    /// <summary>The new severity.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.IncidentSeverityCompleter))]
    public string? Severity { get; set; }

    /// <summary>The incident commander.</summary>
    [Parameter]
    public string? Commander { get; set; }

    /// <summary>Other roles: @{ Communications = 'lee'; Scribe = 'sam' }.</summary>
    [Parameter]
    public Hashtable? Role { get; set; }

    /// <summary>What changed, for the timeline and the update (the template's Progress).</summary>
    [Parameter]
    public string? Text { get; set; }

    /// <summary>The update's Next Steps and ETA: @{ NextSteps = '…'; ETA = '30 min' }.</summary>
    [Parameter]
    public Hashtable? Field { get; set; }

    /// <summary>Post the runbook's INCIDENT UPDATE to the environment's notify targets.</summary>
    [Parameter]
    public SwitchParameter Notify { get; set; }

    /// <summary>Records the changes.</summary>
    protected override void ProcessRecord()
    {
        var (id, env) = Target(Incident!);
        var events = new List<IncidentEvent>();
        if (Status is not null) events.Add(Event(id, IncidentEventType.StatusChanged) with { Status = Status, Text = Text });
        if (Severity is not null)
        {
            try
            {
                Severity = ProfileOf(env).Level(Severity).Severity;
            }
            catch (ArgumentException ex)
            {
                ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Severity));
            }
            events.Add(Event(id, IncidentEventType.SeverityChanged) with { Severity = Severity, Text = Text });
        }
        if (Commander is not null) events.Add(Event(id, IncidentEventType.RoleAssigned) with { Name = "Commander", Person = Commander });
        foreach (DictionaryEntry r in Role ?? []) events.Add(Event(id, IncidentEventType.RoleAssigned) with { Name = r.Key.ToString(), Person = r.Value?.ToString() });
        if (Status is null && Severity is null && Text is not null) events.Add(Event(id, IncidentEventType.Note) with { Text = Text });
        if (events.Count > 0 && !ShouldProcess(id, $"Record {events.Count} change(s)")) return;
        var incident = events.Count > 0 ? Append(env, id, events) : Load(env, id);
        if (Notify)
        {
            var fields = (Field ?? []).Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.OrdinalIgnoreCase);
            fields["Status"] = incident.Status.ToString();
            if (Text is not null) fields["Progress"] = Text;
            SendIncidentNotice(env, incident, NotificationTemplate.IncidentUpdate, fields, Severity is null ? null : "trigger");
            incident = Load(env, id);
        }
        WriteObject(incident);
    }
}
