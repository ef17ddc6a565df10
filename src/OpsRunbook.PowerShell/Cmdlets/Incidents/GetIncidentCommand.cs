using System.Management.Automation;
using OpsRunbook.Engine.Incidents;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Lists an environment's incidents as their journals say they are now: status, response due or overdue, next escalation.</summary>
/// <remarks>
/// Open incidents by default (not Resolved or Closed); -All for every one, -Id for one. Overdue is true while no one
/// has responded (any event after the declaration) past the level's response time; NextEscalation names the next step
/// of the profile's escalation still ahead.
/// </remarks>
/// <example>
/// <code>Get-Incident production</code>
/// <para>The open incidents, with their response deadlines.</para>
/// </example>
/// <example>
/// <code>Get-Incident production -All | Where-Object Severity -in P0, P1 | Export-RunbookReport -Format Markdown</code>
/// <para>Every P0 and P1 in a report.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "Incident")]
[OutputType(typeof(Incident))]
public sealed class GetIncidentCommand : IncidentCmdlet
{
    /// <summary>The runbook.json environment whose incidents these are.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completers.EnvironmentNameCompleter))]
    public override string? Environment { get => base.Environment; set => base.Environment = value; }

    /// <summary>One incident by id.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public string? Id { get; set; }

    /// <summary>Resolved and closed incidents too.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Reads the journals.</summary>
    protected override void ProcessRecord()
    {
        var env = ResolveEnvironment(EnvironmentNeed.Required)!;
        if (Id is not null)
        {
            WriteObject(Load(env, Id));
            return;
        }
        foreach (var id in ListIncidents(env))
        {
            var incident = Load(env, id);
            if (!string.Equals(incident.Environment, env.Name, StringComparison.OrdinalIgnoreCase)) continue;
            if (All || incident.IsOpen) WriteObject(incident);
        }
    }
}
