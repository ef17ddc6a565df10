using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Stops every instance of an environment: runbook 002's emergency shutdown. Start-Deployment brings them back.
/// </summary>
/// <remarks>
/// Fly.io: each running machine is stopped under its lease (SIGTERM, 30 s). Docker Compose: `docker compose stop SERVICE`.
/// Kubernetes: scales the Deployment to 0 and records the replica count in the annotation opsrunbook.io/replicas-before-stop
/// for Start-Deployment. Railway: deploymentStop of the running deployment. ConfirmImpact High.
/// </remarks>
/// <example>
/// <code>Stop-Deployment production</code>
/// <para>Takes production down, after confirmation.</para>
/// </example>
/// <example>
/// <code>Stop-Deployment production -WhatIf</code>
/// <para>Says how many instances would stop.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class StopDeploymentCommand : DeployCmdlet
{
    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Stops.</summary>
    protected override void ProcessRecord() => Act("Stop", true, Force, "Stop every instance (the service goes down)");
}
