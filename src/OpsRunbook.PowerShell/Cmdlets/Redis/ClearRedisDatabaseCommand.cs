using System.Management.Automation;
using OpsRunbook.Engine.Cache;

namespace OpsRunbook.PowerShell.Cmdlets;

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
