using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Shows replication: the server's role, each replica's state and lag on a primary, the replay delay on a replica.
/// </summary>
/// <remarks>
/// Get-DatabaseReplication asks the server it connects to. On a primary it lists pg_stat_replication: each replica's
/// state, sync state, lag in bytes (pg_wal_lsn_diff) and write/flush/replay lag in seconds. On a replica (-Replica) it
/// shows the WAL receiver's status and how far replay is behind. Severity compares the worst lag with the environment's
/// thresholds (runbook 003: warning above 10 s, critical above 30 s); a replica that is not streaming is Critical.
/// Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseReplication production | Select-Object -ExpandProperty Replicas</code>
/// <para>Each replica of the production primary and its lag.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseReplication production -Replica</code>
/// <para>The replica's own view: is it streaming, how far behind is replay.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseReplication")]
[OutputType(typeof(DatabaseReplication))]
public sealed class GetDatabaseReplicationCommand : DatabaseCmdlet
{
    /// <summary>Writes the replication state.</summary>
    protected override void ProcessRecord()
    {
        var profile = EnvironmentThresholds();
        WriteObject(Run((s, ct) => DatabaseDiagnostics.GetReplicationAsync(s, profile, ct)));
    }
}
