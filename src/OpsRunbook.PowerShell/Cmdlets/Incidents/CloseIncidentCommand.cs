using System.Management.Automation;
using OpsRunbook.Engine.Incidents;
using OpsRunbook.Engine.Notify;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Resolves and closes an incident with its resolution; with -Notify posts the runbook's INCIDENT RESOLVED and resolves the page.</summary>
/// <remarks>
/// Appends Resolved (with the resolution) and Closed to the journal; the duration runs from the declaration to now,
/// and the post-mortem is due within the profile's deadline (runbook 000: 24 hours, 003 and 004: 48). An incident
/// already closed is left as it is, with a warning. -Notify posts the runbook's INCIDENT RESOLVED (Duration, Root
/// Cause, Resolution, Follow-up) and resolves the incident's PagerDuty alert.
/// </remarks>
/// <example>
/// <code>Get-Incident production | Select-Object -First 1 | Close-Incident -Resolution 'Rolled back to v41' -RootCause 'A migration locked the orders table' | Export-IncidentReport -Path ./INC.md</code>
/// <para>Closes the incident and writes the post-mortem draft, due within the profile's deadline.</para>
/// </example>
[Cmdlet(VerbsCommon.Close, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Incident))]
public sealed class CloseIncidentCommand : IncidentCmdlet
{
    /// <summary>The incident (from New-Incident or Get-Incident) or its id.</summary>
    [Parameter(Position = 0, Mandatory = true, ValueFromPipeline = true)]
    public PSObject? Incident { get; set; }

    /// <summary>What ended it.</summary>
    [Parameter(Mandatory = true)]
    public string Resolution { get; set; } = "";

    /// <summary>The root cause, if known now (the post-mortem's Root Causes).</summary>
    [Parameter]
    public string? RootCause { get; set; }

    /// <summary>Post the runbook's INCIDENT RESOLVED and resolve the incident's PagerDuty alert.</summary>
    [Parameter]
    public SwitchParameter Notify { get; set; }

    /// <summary>Resolves and closes.</summary>
    protected override void ProcessRecord()
    {
        var (id, env) = Target(Incident!);
        var before = Load(env, id);
        if (before.Status == IncidentStatus.Closed)
        {
            WriteWarning($"{id} is already closed");
            WriteObject(before);
            return;
        }
        if (!ShouldProcess(id, $"Resolve and close: {Resolution}")) return;
        var events = new List<IncidentEvent>();
        if (RootCause is not null) events.Add(Event(id, IncidentEventType.Field) with { Name = "RootCause", Text = RootCause });
        events.Add(Event(id, IncidentEventType.Resolved) with { Text = Resolution });
        events.Add(Event(id, IncidentEventType.Closed));
        var incident = Append(env, id, events);
        if (Notify)
        {
            SendIncidentNotice(env, incident, NotificationTemplate.IncidentResolved, new Dictionary<string, string>
            {
                ["Duration"] = Engine.Common.Duration.Format(incident.Duration), ["Root Cause"] = RootCause ?? "TBD", ["Resolution"] = Resolution,
                ["Follow-up"] = incident.PostMortemDue is { } due ? $"post-mortem due {due.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : "post-mortem",
            }, "resolve");
            incident = Load(env, id);
        }
        WriteObject(incident);
    }
}
