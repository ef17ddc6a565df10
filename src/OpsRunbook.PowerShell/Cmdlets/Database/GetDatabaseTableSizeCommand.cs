using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Lists tables by size: table, indexes, TOAST, live and dead rows, last vacuum and analyze.
/// </summary>
/// <remarks>
/// Get-DatabaseTableSize is runbook 000's table-size query, with the parts separated and upkeep dates added (largest
/// first). Names are taken from the catalog, so mixed-case and unusual names work (the runbook's string-built query
/// breaks on them). QualifiedName pipes into Invoke-DatabaseMaintenance -Table. Read-only.
/// </remarks>
/// <example>
/// <code>Get-DatabaseTableSize production -Top 10</code>
/// <para>The ten largest tables.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseTableSize production | Where-Object DeadRows -gt 100000 | Invoke-DatabaseMaintenance -Vacuum -WhatIf</code>
/// <para>Which bloated tables a VACUUM would touch.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseTableSize")]
[OutputType(typeof(DatabaseTableSize))]
public sealed class GetDatabaseTableSizeCommand : DatabaseCmdlet
{
    /// <summary>Only this schema.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Schema { get; set; }

    /// <summary>How many tables (default 20).</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Top { get; set; } = 20;

    /// <summary>Writes the tables.</summary>
    protected override void ProcessRecord() => WriteObject(Run((s, ct) => DatabaseDiagnostics.GetTableSizesAsync(s, Schema, Top, ct)), true);
}
