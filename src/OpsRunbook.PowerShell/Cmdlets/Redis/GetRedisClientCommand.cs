using System.Management.Automation;
using OpsRunbook.Engine.Cache;

namespace OpsRunbook.PowerShell.Cmdlets;

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
