using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Suggests indexes that may be missing: high-cardinality, unordered columns no index starts with, and tables read mostly by sequential scans.
/// </summary>
/// <remarks>
/// Get-DatabaseIndexAdvice runs the runbooks' "check for missing indexes" heuristic (pg_stats: n_distinct &gt; 100 and
/// correlation near zero — |correlation| &lt; 0.1, since a strongly negative correlation is ordered too), leaving out
/// columns an index already leads with, and adds tables with more sequential than index scans and at least -MinRows
/// rows. Each DatabaseIndexAdvice explains its numbers and, for columns, a CREATE INDEX CONCURRENTLY statement to review —
/// advice for a person, never run by the cmdlet. Statistics come from ANALYZE. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseIndexAdvice production</code>
/// <para>Missing-index hints for schema public.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseIndexAdvice")]
[OutputType(typeof(DatabaseIndexAdvice))]
public sealed class GetDatabaseIndexAdviceCommand : DatabaseCmdlet
{
    /// <summary>The schema to examine (default public, as in the runbooks).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Schema { get; set; } = "public";

    /// <summary>Tables smaller than this are not reported for sequential scans (default 10000 rows).</summary>
    [Parameter]
    [ValidateRange(0L, long.MaxValue)]
    public long MinRows { get; set; } = 10000;

    /// <summary>Writes the advice.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetIndexAdviceAsync(s, Schema, MinRows, ct)), true);
}
