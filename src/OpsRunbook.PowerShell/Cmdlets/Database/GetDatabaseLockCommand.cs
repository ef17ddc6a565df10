using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists blocked backends and the backends blocking them (pg_blocking_pids), longest wait first.
/// </summary>
/// <remarks>
/// Get-DatabaseLock is runbook 000's lock-monitoring query, made readable: each DatabaseLock pairs a waiting backend
/// (pid, user, query, how long it waits) with the one holding the lock (pid, user, query, state, how long its
/// transaction is open — "idle in transaction" is the classic culprit). Its Pid is the blocker's, so piping into
/// Stop-DatabaseQuery stops blockers. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseLock production</code>
/// <para>Who waits on whom.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseLock production | Where-Object BlockingState -eq 'idle in transaction' | Stop-DatabaseQuery -Terminate</code>
/// <para>Terminates sessions that hold locks while doing nothing (asks first).</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseLock")]
[OutputType(typeof(DatabaseLock))]
public sealed class GetDatabaseLockCommand : DatabaseCmdlet
{
    /// <summary>Show whole query texts.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>Writes the pairs.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetLocksAsync(s, Full, ct)), true);
}
