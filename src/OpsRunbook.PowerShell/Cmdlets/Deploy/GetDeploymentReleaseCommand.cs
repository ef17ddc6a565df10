using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists an environment's releases, newest first, with version, image, status, author and which one is running.
/// </summary>
/// <remarks>
/// For Fly.io the releases come from the GraphQL API (releasesUnprocessed); IsCurrent is the release the machines
/// report running. Good marks releases that completed, which Start-Rollback may return to. Pipe a release into
/// Start-Rollback to roll back to it.
/// </remarks>
/// <example>
/// <code>Get-DeploymentRelease production -First 5</code>
/// <para>The last five releases.</para>
/// </example>
/// <example>
/// <code>Get-DeploymentRelease production | Where-Object Version -eq 41 | Start-Rollback -WhatIf</code>
/// <para>What rolling back to release 41 would do.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DeploymentRelease")]
[OutputType(typeof(DeploymentRelease))]
public sealed class GetDeploymentReleaseCommand : DeployCmdlet
{
    /// <summary>How many releases (default 20).</summary>
    [Parameter]
    [ValidateRange(1, 500)]
    public int First { get; set; } = 20;

    /// <summary>Writes each release.</summary>
    protected override void ProcessRecord()
    {
        var env = Env();
        var provider = Provider(env);
        try
        {
            foreach (var r in Run(() => DeploymentOperations.ReleasesAsync(provider, env.Name, First, Cancellation), env.Name)) WriteObject(r);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}
