using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Puts an environment into maintenance mode: sets the platform's maintenance flag (MAINTENANCE_MODE=true) and redeploys, records the window, and silences its alerts until it ends.
/// </summary>
/// <remarks>
/// Enable-MaintenanceMode is runbook 000's `make maintenance-on` (a mitigation in an incident) and the runbooks'
/// maintenance windows. It sets the application's maintenance flag on the deployment platform the way
/// Set-DeploymentSecret sets any variable (Fly secrets, Railway variables, a Kubernetes Secret, Compose's .env: the value
/// in a request body or a mode-600 file, never a command line) and redeploys so instances read it (-NoRedeploy: at the
/// next deploy; -NoPlatform: record the window only, when the flag is set some other way). -Variable names the flag
/// (default MAINTENANCE_MODE) and -Value its value (default true). It records the window beside the environment's
/// incidents (runbook.json's "incidents"."path", a folder or s3://; or -StatePath), one object per change, so jobs on
/// other machines see it: while it is on, Send-RunbookAlert pages nobody for the environment (its -IgnoreMaintenance
/// pages anyway); -Duration ends the silence by itself (the platform flag stays until Disable-MaintenanceMode).
/// Writes the MaintenanceWindow with the platform change. ConfirmImpact High: users see the maintenance page;
/// -WhatIf says what it would set and record, and changes nothing.
/// </remarks>
/// <example>
/// <code>Enable-MaintenanceMode production -Reason 'Database migration 2026-12' -Duration 2h -Force</code>
/// <para>A planned window: the flag set, alerts silenced for two hours at most.</para>
/// </example>
/// <example>
/// <code>Enable-MaintenanceMode production -Reason 'INC-20261130-0001: checkout down' -WhatIf</code>
/// <para>Runbook 000's `make maintenance-on` during an incident, previewed.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Enable, "MaintenanceMode", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(MaintenanceWindow))]
public sealed class EnableMaintenanceModeCommand : MaintenanceCmdlet
{
    /// <summary>Why (shown with the window and in reports).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Reason { get; set; }

    /// <summary>End the window (and the silence) by itself after this long: 30m, 2h.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? Duration { get; set; }

    /// <summary>The flag's value while in maintenance (default true).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Value { get; set; } = "true";

    /// <summary>Turns maintenance on.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var location = LocationOf(env);
        var what = NoPlatform ? $"Record a maintenance window in {location} and silence alerts" : $"Set {Variable}={Value}{(NoRedeploy ? "" : " and redeploy")}, record a maintenance window in {location}, silence alerts";
        if (Duration is { } d) what += $" for {d}";
        if (!ShouldAct($"{env.Name}{(env.Deploy is null ? "" : $" ({env.Deploy.Provider})")}", what, Force)) return;
        var deployment = Push(env, Value);
        var now = DateTimeOffset.UtcNow;
        var e = new MaintenanceEvent
        {
            Id = MaintenanceLog.NewId(now), Type = "Started", System = LoadConfig().System, Environment = env.Name, Time = now,
            Until = Duration is { } duration ? now + duration : null, Reason = Reason, Actor = System.Environment.UserName, Variable = NoPlatform ? null : Variable,
        };
        var window = Record(env, location, e)!;
        WriteObject(Attach(window, deployment));
    }
}

/// <summary>What Enable- and Disable-MaintenanceMode share: the flag, where windows are recorded, the platform push.</summary>
public abstract class MaintenanceCmdlet : DeployCmdlet
{
    /// <summary>The platform variable the application reads (default MAINTENANCE_MODE).</summary>
    [Parameter]
    [ValidatePattern("^[A-Za-z_][A-Za-z0-9_]*$")]
    public string Variable { get; set; } = "MAINTENANCE_MODE";

    /// <summary>Set the variable without redeploying (instances read it at the next deploy).</summary>
    [Parameter]
    public SwitchParameter NoRedeploy { get; set; }

    /// <summary>Do not touch the platform: only record the window (and its silence).</summary>
    [Parameter]
    public SwitchParameter NoPlatform { get; set; }

    /// <summary>Where windows are recorded, instead of beside the environment's incidents: a folder or s3://bucket/prefix/.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Do not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>-StatePath, else the environment's incidents location + maintenance/ (default .opsrunbook/incidents beside runbook.json).</summary>
    protected string LocationOf(EnvironmentConfig env) =>
        MaintenanceState.Location(env, StatePath, LoadConfig().Path, SessionState.Path.CurrentFileSystemLocation.ProviderPath);

    /// <summary>Sets the flag on the platform (unless -NoPlatform); null when it was not touched.</summary>
    protected DeploymentActionResult? Push(EnvironmentConfig env, string value)
    {
        if (NoPlatform) return null;
        if (env.Deploy is null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException($"environment '{env.Name}' has no \"deploy\" section in runbook.json: the maintenance flag cannot be set on a platform (use -NoPlatform to record the window only)"),
                ErrorIds.DeploymentNotPossible, ErrorCategory.InvalidArgument, env.Name));
        }
        var provider = Provider(env);
        try
        {
            return RunReporting(step => DeploymentOperations.SetSecretsAsync(provider, env.Name, new Dictionary<string, string> { [Variable] = value }, !NoRedeploy, false, step, Cancellation), $"{Variable}={value} on {env.Name}", env.Name);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }

    /// <summary>Appends the change and reads the window back (null when the environment never had one).</summary>
    protected MaintenanceWindow? Record(EnvironmentConfig env, string location, MaintenanceEvent e)
    {
        var context = ContextOf(env);
        return Run(() => MaintenanceLog.RecordAsync(location, context, e, Cancellation), location);
    }

    /// <summary>The environment's last window, if any.</summary>
    protected MaintenanceWindow? LastWindow(EnvironmentConfig env, string location)
    {
        var context = ContextOf(env);
        var system = LoadConfig().System;
        return Run(() => MaintenanceLog.LastWindowAsync(location, context, system, env.Name, Cancellation), location);
    }

    /// <summary>The window with the platform change that came with it.</summary>
    protected static MaintenanceWindow Attach(MaintenanceWindow window, DeploymentActionResult? deployment) => new()
    {
        System = window.System, Environment = window.Environment, StartedAt = window.StartedAt, Until = window.Until, EndedAt = window.EndedAt,
        Reason = window.Reason, StartedBy = window.StartedBy, Variable = window.Variable, Location = window.Location, Deployment = deployment,
    };
}

/// <summary>Where an environment's maintenance windows are recorded (shared by the maintenance cmdlets and Send-RunbookAlert).</summary>
internal static class MaintenanceState
{
    /// <summary>
    /// <paramref name="statePath"/> (relative to <paramref name="currentDirectory"/>), else the environment's incidents
    /// location + maintenance/ (a folder relative to runbook.json, or s3://), else .opsrunbook/incidents/maintenance beside runbook.json.
    /// </summary>
    public static string Location(EnvironmentConfig env, string? statePath, string configPath, string currentDirectory)
    {
        var path = statePath ?? (env.Incidents?.Path is { } p
            ? (p.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? p.TrimEnd('/') + "/maintenance/" : System.IO.Path.Combine(p, "maintenance"))
            : System.IO.Path.Combine(".opsrunbook", "incidents", "maintenance"));
        if (path.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)) return path;
        var baseDir = statePath is not null ? currentDirectory : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(configPath))!;
        return System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, path));
    }
}
