using System.Management.Automation;
using OpsRunbook.Engine.Incidents;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>The built-in incident profiles: each runbook's severity levels, response times, escalation and post-mortem deadline, with where they come from.</summary>
/// <remarks>
/// paintbox (runbook 000: P1 15 min … P4 24 h, report within 24 hours), formula-pm (001: P0 immediate … P3 next
/// business day), cardmint (003: P0 15 min, P1 1 h, P2 4 h, root cause within 48 hours), sentia (004: P0 15 min … P3
/// 24 h, with its escalation matrix: Engineering Lead at 15 minutes, CTO at 30, CEO at an hour for a P0) and default.
/// An environment uses incidents.profile, or the runbook of its thresholdProfile.
/// </remarks>
/// <example>
/// <code>Get-IncidentProfile sentia | Select-Object -ExpandProperty Levels</code>
/// <para>Runbook 004's P0–P3 with response times and its escalation matrix.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "IncidentProfile")]
[OutputType(typeof(IncidentProfile))]
public sealed class GetIncidentProfileCommand : PSCmdlet
{
    /// <summary>Profile names (wildcards); all by default.</summary>
    [Parameter(Position = 0)]
    public string[]? Name { get; set; }

    /// <summary>Writes the profiles.</summary>
    protected override void ProcessRecord()
    {
        foreach (var p in IncidentProfile.BuiltIn)
        {
            if (Name is null || Name.Any(n => new WildcardPattern(n, WildcardOptions.IgnoreCase).IsMatch(p.Name))) WriteObject(p);
        }
    }
}
