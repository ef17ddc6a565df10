using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists PostgreSQL backends from pg_stat_activity: who runs what, for how long, waiting on what.
/// </summary>
/// <remarks>
/// Get-DatabaseActivity is runbook 000's "active connections" and 001's "queries running longer than 5 minutes": one
/// DatabaseActivity per backend with pid, user, application, client, state, wait event, how long the current query
/// and transaction have run, the pids blocking it, and the query (cut to 200 characters unless -Full). -State,
/// -MinDuration and -Database filter on the server. OpsRunbook's own connections are left out. Its output pipes into
/// Stop-DatabaseQuery by Pid. Read-only: it runs in a read-only transaction with a statement timeout.
/// </remarks>
/// <example>
/// <code>Get-DatabaseActivity production -State active</code>
/// <para>What the production primary is running right now.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseActivity production -MinDuration 30m | Stop-DatabaseQuery -Terminate -WhatIf</code>
/// <para>Runbook 001's long-running query kill, previewed: which backends would be terminated.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseActivity")]
[OutputType(typeof(DatabaseActivity))]
public sealed class GetDatabaseActivityCommand : DatabaseCmdlet
{
    /// <summary>Only backends in these states: active, idle, 'idle in transaction', 'idle in transaction (aborted)', fastpath function call, disabled.</summary>
    [Parameter]
    [ValidateSet("active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled")]
    public string[]? State { get; set; }

    /// <summary>Only queries running at least this long, e.g. 5m, 30s.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? MinDuration { get; set; }

    /// <summary>Only backends connected to this database.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>Show whole query texts instead of their first 200 characters.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>Also list the server's own processes (autovacuum, checkpointer, WAL sender ...), which have no user or state;
    /// by default only client connections are listed.</summary>
    [Parameter]
    public SwitchParameter IncludeBackground { get; set; }

    /// <summary>Writes the backends.</summary>
    protected override void ProcessRecord() =>
        WriteObject(Run((s, ct) => DatabaseDiagnostics.GetActivityAsync(s, new ActivityFilter(State, MinDuration, Database, Full, IncludeBackground), ct)), true);
}
