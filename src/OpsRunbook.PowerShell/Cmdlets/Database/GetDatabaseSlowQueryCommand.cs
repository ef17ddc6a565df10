using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists the slowest statements from pg_stat_statements, by mean time (or total, calls, max).
/// </summary>
/// <remarks>
/// Get-DatabaseSlowQuery is the runbooks' `SELECT query, calls, mean_exec_time FROM pg_stat_statements ORDER BY
/// mean_exec_time DESC LIMIT 10`, on every supported server version: PostgreSQL 13 renamed mean_time to mean_exec_time
/// and total_time to total_exec_time, and the cmdlet uses the server's names. Each DatabaseSlowQuery has calls, mean,
/// total and max milliseconds, rows and the share of all statements' time. When the extension is missing, the error
/// says exactly what to run (CREATE EXTENSION, shared_preload_libraries). Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseSlowQuery production -Top 10</code>
/// <para>The ten statements with the highest mean execution time.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseSlowQuery production -OrderBy Total -Top 5 -Full | Format-List Query, Calls, TotalMs, PercentOfTotal</code>
/// <para>Where the database spends its time, with whole query texts.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseSlowQuery")]
[OutputType(typeof(DatabaseSlowQuery))]
public sealed class GetDatabaseSlowQueryCommand : DatabaseCmdlet
{
    /// <summary>How many statements (default 10).</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int Top { get; set; } = 10;

    /// <summary>Mean (default), Total, Calls or Max.</summary>
    [Parameter]
    public SlowQueryOrder OrderBy { get; set; } = SlowQueryOrder.Mean;

    /// <summary>Show whole query texts.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>Writes the statements.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetSlowQueriesAsync(s, Top, OrderBy, Full, ct)), true);
}
