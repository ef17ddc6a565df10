using System.Management.Automation;
using OpsRunbook.Engine.Deploy;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Takes an environment out of maintenance mode: sets the platform's maintenance flag back (MAINTENANCE_MODE=false) and redeploys, and ends the recorded window, so alerts page again.
/// </summary>
/// <remarks>
/// Disable-MaintenanceMode undoes Enable-MaintenanceMode: the flag set to -Value (default false) through the
/// platform's variables and a redeploy (unless -NoRedeploy or -NoPlatform), then the window's end recorded where it
/// was started, so Send-RunbookAlert pages for the environment again. Writes the ended MaintenanceWindow (its
/// duration, for the incident's timeline or a report). An environment not in maintenance gets the flag set anyway and
/// a warning. -WhatIf says what it would set and record, and changes nothing.
/// </remarks>
/// <example>
/// <code>Disable-MaintenanceMode production -Force</code>
/// <para>Maintenance over: the flag off, the window closed, alerts back.</para>
/// </example>
/// <example>
/// <code>Disable-MaintenanceMode production -Force | Export-RunbookReport -Title 'Maintenance 2026-12' -Format Markdown -Path ./maintenance.md</code>
/// <para>The window's start, end and duration, documented.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Disable, "MaintenanceMode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(MaintenanceWindow))]
public sealed class DisableMaintenanceModeCommand : MaintenanceCmdlet
{
    /// <summary>The flag's value out of maintenance (default false).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Value { get; set; } = "false";

    /// <summary>Turns maintenance off.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var location = LocationOf(env);
        var what = NoPlatform ? $"End the maintenance window recorded in {location}" : $"Set {Variable}={Value}{(NoRedeploy ? "" : " and redeploy")}, end the maintenance window recorded in {location}";
        if (!ShouldAct($"{env.Name}{(env.Deploy is null ? "" : $" ({env.Deploy.Provider})")}", what, Force)) return;
        var before = LastWindow(env, location);
        if (before is not { Active: true }) WriteWarning($"{env.Name} is not in maintenance (no open window in {location}): setting the flag anyway");
        var deployment = Push(env, Value);
        var now = DateTimeOffset.UtcNow;
        var window = Record(env, location, new MaintenanceEvent
        {
            Id = MaintenanceLog.NewId(now), Type = "Ended", System = LoadConfig().System, Environment = env.Name, Time = now, Actor = System.Environment.UserName,
        });
        if (window is not null) WriteObject(Attach(window, deployment));
    }
}
