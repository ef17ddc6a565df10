using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Cancels (or with -Terminate, terminates) PostgreSQL backends: by pid, from Get-DatabaseActivity or Get-DatabaseLock, or every query older than -OlderThan.
/// </summary>
/// <remarks>
/// Stop-DatabaseQuery is runbook 001's long-running query kill (`SELECT pg_terminate_backend(pid) ... interval '30
/// minutes'`) made safe. It first finds the backends without changing anything — which is all -WhatIf does — then asks
/// for each one (ConfirmImpact High; -Force for automation) and sends pg_cancel_backend (stop the query, keep the
/// connection) or, with -Terminate, pg_terminate_backend (close the connection). It never touches its own connections;
/// replication senders, autovacuum and other system processes are skipped unless named by pid. One QueryStopResult per
/// backend says what happened: Stopped, NotFound, Skipped or Failed (with the reason, e.g. a superuser's query needs a
/// superuser). Stopping other roles' queries needs pg_signal_backend.
/// </remarks>
/// <example>
/// <code>Get-DatabaseActivity production -MinDuration 30m | Stop-DatabaseQuery -Terminate -WhatIf</code>
/// <para>Shows which backends runbook 001's 30-minute rule would terminate, changing nothing.</para>
/// </example>
/// <example>
/// <code>Stop-DatabaseQuery production -OlderThan 30m -Terminate -Force</code>
/// <para>In automation: terminate every query running longer than 30 minutes, without prompts.</para>
/// </example>
/// <example>
/// <code>Stop-DatabaseQuery production -Pid 4242</code>
/// <para>Cancels one query and keeps its connection.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "DatabaseQuery", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Pid")]
[OutputType(typeof(QueryStopResult))]
public sealed class StopDatabaseQueryCommand : DatabaseCmdlet
{
    private readonly Dictionary<string, (DatabaseSession session, HashSet<int> pids)> _byServer = new(StringComparer.Ordinal);

    /// <summary>Backend pids; binds the Pid property of Get-DatabaseActivity and Get-DatabaseLock results.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Pid")]
    [ValidateRange(1, int.MaxValue)]
    public int[]? Pid { get; set; }

    /// <summary>Every active query running longer than this, e.g. 30m (runbook 001).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "OlderThan")]
    [DurationTransformation]
    public TimeSpan OlderThan { get; set; }

    /// <summary>With -OlderThan: the states to consider (default active).</summary>
    [Parameter(ParameterSetName = "OlderThan")]
    [ValidateSet("active", "idle in transaction", "idle in transaction (aborted)", "fastpath function call")]
    public string[]? State { get; set; }

    /// <summary>Terminate the backend (close its connection) instead of cancelling its query.</summary>
    [Parameter]
    public SwitchParameter Terminate { get; set; }

    /// <summary>Do not ask for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Collects the pids per server.</summary>
    protected override void ProcessRecord()
    {
        var session = Session();
        if (!_byServer.TryGetValue(session.Display, out var entry)) _byServer[session.Display] = entry = (session, []);
        foreach (var p in Pid ?? []) entry.pids.Add(p);
    }

    /// <summary>Plans (read-only), then stops each backend that is confirmed.</summary>
    protected override void EndProcessing()
    {
        foreach (var (session, pids) in _byServer.Values)
        {
            var plan = Run(() => DatabaseOperations.PlanStopAsync(session, ParameterSetName == "Pid" ? pids : null,
                ParameterSetName == "OlderThan" ? OlderThan : null, State, Cancellation), session.Display);
            var action = Terminate ? "Terminate (close the connection)" : "Cancel the running query";
            foreach (var candidate in plan)
            {
                if (candidate.SkipReason is null)
                {
                    var what = $"pid {candidate.Pid} on {session.Display} ({candidate.User}, {candidate.State}, {candidate.Duration?.ToString(@"hh\:mm\:ss") ?? "-"}): {candidate.Query}";
                    if (!ShouldAct(what, action, Force)) continue;
                }
                var result = Run(() => DatabaseOperations.StopAsync(session, candidate, Terminate, Cancellation), session.Display);
                if (result.Outcome == "Failed")
                {
                    WriteError(new ErrorRecord(new InvalidOperationException($"pid {result.Pid}: {result.Reason}"), ErrorIds.StopQueryFailed, ErrorCategory.PermissionDenied, result));
                }
                WriteVerbose($"pid {result.Pid}: {result.Outcome} ({result.Reason})");
                WriteObject(result);
            }
        }
        base.EndProcessing();
    }
}
