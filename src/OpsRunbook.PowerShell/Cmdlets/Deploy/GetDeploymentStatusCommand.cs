using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists the instances of an environment's deployment — Fly machines (later: Railway, Compose containers, Kubernetes pods) — with state, health, image, region and release.
/// </summary>
/// <remarks>
/// Get-DeploymentStatus reads the environment's "deploy" provider from runbook.json. For Fly.io it lists the app's
/// machines through the Machines API (destroyed ones left out): state, health from the machine's checks, image,
/// region, process group and the release version flyctl records in the machine metadata. Nothing is changed.
/// </remarks>
/// <example>
/// <code>Get-DeploymentStatus production</code>
/// <para>The machines of production, with their health.</para>
/// </example>
/// <example>
/// <code>Get-DeploymentStatus production | Where-Object Health -ne Healthy</code>
/// <para>The instances that are not healthy.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DeploymentStatus")]
[OutputType(typeof(DeploymentInstance))]
public sealed class GetDeploymentStatusCommand : DeployCmdlet
{
    /// <summary>Writes each instance.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var provider = Provider(env);
        try
        {
            foreach (var i in Run(() => DeploymentOperations.StatusAsync(provider, env.Name, Cancellation), env.Name)) WriteObject(i);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}
