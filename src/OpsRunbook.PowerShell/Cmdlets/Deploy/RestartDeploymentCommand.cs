using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Restarts an environment's instances — one at a time, each back up before the next (default), or all at once with -Force.
/// </summary>
/// <remarks>
/// Fly.io: each started machine under its lease: restart, wait until started, release. Docker Compose: `docker compose
/// restart SERVICE`. Kubernetes: `kubectl rollout restart` semantics (a restartedAt annotation on the pod template; the
/// Deployment's strategy replaces the pods) and rollout status. Railway: deploymentRestart of the running deployment.
/// -WhatIf only counts the instances.
/// </remarks>
/// <example>
/// <code>Restart-Deployment production</code>
/// <para>A rolling restart after confirmation.</para>
/// </example>
/// <example>
/// <code>Restart-Deployment staging -Force -AllAtOnce</code>
/// <para>Restarts everything at once, without a prompt.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Restart, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class RestartDeploymentCommand : DeployCmdlet
{
    /// <summary>Restart every instance at once instead of one at a time.</summary>
    [Parameter]
    public SwitchParameter AllAtOnce { get; set; }

    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Restarts.</summary>
    protected override void ProcessRecord() => Act("Restart", !AllAtOnce, Force, AllAtOnce ? "Restart every instance at once" : "Restart the instances one at a time");
}
