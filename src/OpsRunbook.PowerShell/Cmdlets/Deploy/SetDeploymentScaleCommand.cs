using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Changes how many instances an environment runs (optionally in one region) and/or their memory — `fly scale count`, `fly scale memory`, `docker compose --scale`, `kubectl scale`.
/// </summary>
/// <remarks>
/// Fly.io: new machines copy an existing machine's configuration (in -Region, else its region) and are waited for;
/// surplus machines (in -Region when given, newest first) are destroyed under their lease; -Memory updates each machine in
/// turn (lease, update guest.memory_mb, wait started, release). Docker Compose: `up -d --no-deps --scale SERVICE=N`.
/// Kubernetes: spec.replicas, then rollout status. What a provider cannot do (memory on Compose or Kubernetes, anything
/// on Railway's public API) is a clear error saying where to change it. -WhatIf only counts the instances.
/// </remarks>
/// <example>
/// <code>Set-DeploymentScale production -Count 4</code>
/// <para>Four instances, after confirmation.</para>
/// </example>
/// <example>
/// <code>Set-DeploymentScale production -Count 2 -Region lhr -Force</code>
/// <para>Two Fly machines in London, without a prompt.</para>
/// </example>
/// <example>
/// <code>Set-DeploymentScale production -Memory 1024 -WhatIf</code>
/// <para>What giving every machine 1 GB would touch.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "DeploymentScale", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DeploymentActionResult))]
public sealed class SetDeploymentScaleCommand : DeployCmdlet
{
    /// <summary>The number of instances (in -Region when given).</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int? Count { get; set; }

    /// <summary>Memory per instance, in MB (Fly.io).</summary>
    [Parameter]
    [ValidateRange(128, 262144)]
    public int? Memory { get; set; }

    /// <summary>The region -Count applies to (Fly.io).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Region { get; set; }

    /// <summary>Skips the confirmation (for automation). -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Scales.</summary>
    protected override void ProcessRecord()
    {
        if (Count is null && Memory is null)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("give -Count and/or -Memory"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, null));
        }
        var request = new ScaleRequest(Count, Memory, Region);
        var env = Env();
        var provider = Provider(env);
        try
        {
            var plan = Run(() => DeploymentOperations.ScaleAsync(provider, env.Name, request, true, _ => { }, Cancellation), env.Name);
            if (!ShouldAct($"{env.Name} ({provider.Name}, {plan.Instances} instance(s) now)", $"Scale to {request}", Force)) return;
            WriteObject(RunReporting(step => DeploymentOperations.ScaleAsync(provider, env.Name, request, false, step, Cancellation), $"Scale {env.Name}", env.Name));
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }
}
