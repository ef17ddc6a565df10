using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Starts the instances Stop-Deployment stopped and waits until they are up: runbook 002's resume.
/// </summary>
/// <remarks>
/// Fly.io: each stopped machine is started under its lease and waited for. Docker Compose: `docker compose start SERVICE`.
/// Kubernetes: scales back to the recorded replica count (1 when none was recorded) and waits for the rollout. Railway:
/// redeploys the newest deployment with its image (deploymentRedeploy, usePreviousImageTag) and waits for SUCCESS.
/// </remarks>
/// <example>
/// <code>Start-Deployment production; Wait-HealthCheck production</code>
/// <para>Brings production back and waits until its checks pass.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class StartDeploymentCommand : DeployCmdlet
{
    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Starts.</summary>
    protected override void ProcessRecord() => Act("Start", true, Force, "Start the stopped instances");
}
