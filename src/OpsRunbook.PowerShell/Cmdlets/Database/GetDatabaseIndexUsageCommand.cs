using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists indexes with their scans and sizes: Unused, RarelyUsed, Used, or Constraint (unique and primary keys).
/// </summary>
/// <remarks>
/// Get-DatabaseIndexUsage is runbook 000's `pg_stat_user_indexes ORDER BY idx_scan`, classified: an index never scanned
/// is Unused, one scanned fewer than -RarelyUsedBelow times RarelyUsed; unique, primary-key and exclusion indexes are
/// Constraint and never suggested for removal. Scans count since the statistics were last reset. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseIndexUsage production -Usage Unused | Sort-Object SizeBytes -Descending</code>
/// <para>Unused indexes, largest first: candidates to drop after checking replicas and reset dates.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseIndexUsage")]
[OutputType(typeof(DatabaseIndexUsage))]
public sealed class GetDatabaseIndexUsageCommand : DatabaseCmdlet
{
    /// <summary>Only indexes with these usages: Unused, RarelyUsed, Used, Constraint.</summary>
    [Parameter]
    [ValidateSet("Unused", "RarelyUsed", "Used", "Constraint")]
    public string[]? Usage { get; set; }

    /// <summary>Fewer scans than this is RarelyUsed (default 50).</summary>
    [Parameter]
    [ValidateRange(1L, long.MaxValue)]
    public long RarelyUsedBelow { get; set; } = 50;

    /// <summary>Writes the indexes.</summary>
    protected override void ProcessRecord()
    {
        foreach (var i in Run((s, ct) => DatabaseDiagnostics.GetIndexUsageAsync(s, RarelyUsedBelow, ct)))
        {
            if (Usage is null || Usage.Contains(i.Usage, StringComparer.OrdinalIgnoreCase)) WriteObject(i);
        }
    }
}
