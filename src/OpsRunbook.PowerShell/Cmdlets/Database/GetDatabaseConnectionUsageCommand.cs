using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Shows connections against max_connections, by state, with the runbooks' thresholds.
/// </summary>
/// <remarks>
/// Get-DatabaseConnectionUsage is runbook 001's `SELECT count(*) FROM pg_stat_activity` against max_connections,
/// counting only client backends and subtracting the slots reserved for superusers. PercentUsed is compared with the
/// environment's connection-usage thresholds (runbook 003's pool utilization: warning above 80 %, critical above 90 %).
/// Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseConnectionUsage production</code>
/// <para>How close production is to running out of connections, and who holds them by state.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseConnectionUsage")]
[OutputType(typeof(DatabaseConnectionUsage))]
public sealed class GetDatabaseConnectionUsageCommand : DatabaseCmdlet
{
    /// <summary>Writes the usage.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetConnectionUsageAsync(s, EnvironmentThresholds(), ct)));
}
