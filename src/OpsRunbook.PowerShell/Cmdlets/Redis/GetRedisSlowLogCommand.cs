using System.Management.Automation;
using OpsRunbook.Engine.Cache;

namespace OpsRunbook.PowerShell.Cmdlets;

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
