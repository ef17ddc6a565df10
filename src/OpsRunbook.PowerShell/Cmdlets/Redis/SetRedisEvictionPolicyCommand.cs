using System.Management.Automation;
using OpsRunbook.Engine.Cache;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Sets Redis's maxmemory-policy (runbook 000: allkeys-lru when memory runs out).
/// </summary>
/// <remarks>
/// Set-RedisEvictionPolicy runs CONFIG SET maxmemory-policy with one of the policies Redis accepts: noeviction,
/// allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl. The change is
/// in memory: add it to redis.conf (or CONFIG REWRITE) to keep it over a restart. -PassThru returns the new RedisInfo.
/// Supports -WhatIf and -Confirm.
/// </remarks>
/// <example>
/// <code>Set-RedisEvictionPolicy production -Policy allkeys-lru -PassThru</code>
/// <para>Runbook 000's fix for a Redis that is full.</para>
/// </example>
[Cmdlet(VerbsCommon.Set, "RedisEvictionPolicy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RedisInfo))]
public sealed class SetRedisEvictionPolicyCommand : RedisCmdlet
{
    /// <summary>The policy to set.</summary>
    [Parameter(Mandatory = true)]
    [ValidateSet("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl")]
    public string Policy { get; set; } = "";

    /// <summary>Return the RedisInfo after the change.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Sets the policy.</summary>
    protected override void ProcessRecord()
    {
        var session = Session();
        if (!ShouldProcess(session.Target, $"CONFIG SET maxmemory-policy {Policy}")) return;
        Run(async (s, ct) =>
        {
            await RedisOperations.SetEvictionPolicyAsync(s, Policy, ct).ConfigureAwait(false);
            return true;
        });
        if (PassThru) WriteObject(Run((s, ct) => RedisOperations.GetInfoAsync(s, Thresholds, ct)));
    }
}
