using System.Management.Automation;
using OpsRunbook.Engine.Cache;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Reads Redis INFO as a typed object: version, role, memory against maxmemory, eviction policy, hit rate, evictions, clients, ops/s, replication.
/// </summary>
/// <remarks>
/// Get-RedisInfo is runbook 000's `redis-cli INFO memory` and runbook 001's cache hit-rate check in one object.
/// HitRatePercent is keyspace_hits / (keyspace_hits + keyspace_misses). MemorySeverity compares memory use with the
/// environment's Redis memory thresholds (runbook 000: normal below 70 %, warning above 80 %, critical above 90 %).
/// Raw holds every INFO field. Read-only.
/// </remarks>
/// <example>
/// <code>Get-RedisInfo production | Format-List Version, Role, MemoryPercent, MemorySeverity, EvictionPolicy, HitRatePercent</code>
/// <para>Runbook 000's Redis memory check.</para>
/// </example>
/// <example>
/// <code>Get-RedisInfo -Connection env:REDIS_URL | Select-Object HitRatePercent, EvictedKeys</code>
/// <para>Cache effectiveness of any Redis, by connection reference.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "RedisInfo")]
[OutputType(typeof(RedisInfo))]
public sealed class GetRedisInfoCommand : RedisCmdlet
{
    /// <summary>Writes the info.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => RedisOperations.GetInfoAsync(s, Thresholds, ct)));
}
