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

/// <summary>
/// Removes every key of the connection's Redis database (FLUSHDB), or of all databases with -All (FLUSHALL), and reports how many.
/// </summary>
/// <remarks>
/// Clear-RedisDatabase is runbook 000's `redis-cli FLUSHDB`, with the safety it lacks: it counts the keys first
/// (DBSIZE, or INFO keyspace for -All) — which is all -WhatIf does — then asks (ConfirmImpact High; -Force for
/// automation) and flushes, optionally ASYNC so Redis frees memory in the background. The RedisFlushResult says the
/// scope, the command and the keys removed. The database is the one the connection URL selects (redis://host/2).
/// </remarks>
/// <example>
/// <code>Clear-RedisDatabase production -WhatIf</code>
/// <para>How many keys a FLUSHDB would remove, removing none.</para>
/// </example>
/// <example>
/// <code>Clear-RedisDatabase production -Async -Force</code>
/// <para>In automation: flush the cache database without a prompt, freeing memory in the background.</para>
/// </example>
[Cmdlet(VerbsCommon.Clear, "RedisDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RedisFlushResult))]
public sealed class ClearRedisDatabaseCommand : RedisCmdlet
{
    /// <summary>FLUSHALL: every database of the server.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Flush asynchronously (FLUSHDB ASYNC): Redis frees the memory in the background.</summary>
    [Parameter]
    public SwitchParameter Async { get; set; }

    /// <summary>Do not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Counts, asks, flushes.</summary>
    protected override void ProcessRecord()
    {
        var session = Session();
        var keys = Run((s, ct) => RedisOperations.CountKeysAsync(s, All, ct));
        var scope = All ? "all databases" : $"database {session.Database}";
        if (!ShouldAct($"{session.Target} ({scope}, {keys} keys)", All ? "FLUSHALL" : "FLUSHDB", Force)) return;
        var result = Run((s, ct) => RedisOperations.FlushAsync(s, All, Async, ct));
        WriteVerbose($"{result.Command} on {result.Target}: {result.KeysRemoved} keys removed");
        WriteObject(result);
    }
}

/// <summary>
/// Reads the Redis slow log (SLOWLOG GET), newest first, with credentials in commands masked.
/// </summary>
/// <remarks>
/// Get-RedisSlowLog returns the commands that took longer than slowlog-log-slower-than, each with its id, time,
/// duration in microseconds, client and the command line. Arguments that carry credentials (AUTH, HELLO ... AUTH,
/// CONFIG SET requirepass/masterauth, ACL SETUSER &gt;password, MIGRATE ... AUTH) are masked. Read-only.
/// </remarks>
/// <example>
/// <code>Get-RedisSlowLog production -Count 20 | Sort-Object DurationMicroseconds -Descending</code>
/// <para>The slowest recent Redis commands.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "RedisSlowLog")]
[OutputType(typeof(RedisSlowLogEntry))]
public sealed class GetRedisSlowLogCommand : RedisCmdlet
{
    /// <summary>How many entries (default 10).</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int Count { get; set; } = 10;

    /// <summary>Writes the entries.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => RedisOperations.GetSlowLogAsync(s, Count, ct)), true);
}

/// <summary>
/// Lists Redis client connections (CLIENT LIST): address, name, user, database, age, idle time, last command.
/// </summary>
/// <remarks>
/// Get-RedisClient shows who is connected — application instances, replicas (flag S), monitors — with how long each
/// connection has lived and been idle, which helps find connection leaks (runbook 000's "connection pool exhausted").
/// Read-only.
/// </remarks>
/// <example>
/// <code>Get-RedisClient production | Group-Object User | Sort-Object Count -Descending</code>
/// <para>Connections per ACL user.</para>
/// </example>
/// <example>
/// <code>Get-RedisClient production | Where-Object Idle -gt ([timespan]'01:00:00')</code>
/// <para>Connections idle for more than an hour.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "RedisClient")]
[OutputType(typeof(RedisClientInfo))]
public sealed class GetRedisClientCommand : RedisCmdlet
{
    /// <summary>Writes the clients.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => RedisOperations.GetClientsAsync(s, ct)), true);
}
