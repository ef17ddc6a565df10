using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Runs ANALYZE, VACUUM, VACUUM FULL or REINDEX (CONCURRENTLY where the server allows) on tables or the whole database, reporting duration and size before and after.
/// </summary>
/// <remarks>
/// Invoke-DatabaseMaintenance is the runbooks' maintenance (`VACUUM ANALYZE;`, `REINDEX DATABASE ...;`, `VACUUM
/// FULL;`) per table or database. Table names are resolved in the catalog first (table, schema.table, or quoted names;
/// never pasted into SQL), which is all -WhatIf does. Then each operation runs outside a transaction, as PostgreSQL
/// requires, with its own statement timeout (-TimeoutSec, default one hour), and writes a MaintenanceResult with the
/// duration and the size before and after. REINDEX uses CONCURRENTLY on PostgreSQL 12 and later. -Full means VACUUM FULL,
/// which rewrites each table under an ACCESS EXCLUSIVE lock that blocks reads and writes: the cmdlet warns and asks
/// separately (-Force skips the question). With -Vacuum and -Analyze together, one VACUUM (ANALYZE) runs.
/// </remarks>
/// <example>
/// <code>Invoke-DatabaseMaintenance production -Vacuum -Analyze</code>
/// <para>Runbook 001's weekly VACUUM ANALYZE of the whole database.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseTableSize production -Top 5 | Invoke-DatabaseMaintenance -Reindex</code>
/// <para>Rebuilds the indexes of the five largest tables without blocking writes (REINDEX CONCURRENTLY).</para>
/// </example>
/// <example>
/// <code>Invoke-DatabaseMaintenance production -Table public.events -Vacuum -Full -WhatIf</code>
/// <para>Shows what a VACUUM FULL would lock, changing nothing.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "DatabaseMaintenance", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(MaintenanceResult))]
public sealed class InvokeDatabaseMaintenanceCommand : DatabaseCmdlet
{
    private readonly Dictionary<string, (DatabaseSession session, List<string> tables)> _byServer = new(StringComparer.Ordinal);

    /// <summary>
    /// Tables: name, schema.name or "Quoted"."Names" (alias -Table); binds QualifiedName from Get-DatabaseTableSize. None: the whole database.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Table")]
    public string[]? QualifiedName { get; set; }

    /// <summary>ANALYZE: refresh planner statistics.</summary>
    [Parameter]
    public SwitchParameter Analyze { get; set; }

    /// <summary>VACUUM: reclaim dead rows for reuse.</summary>
    [Parameter]
    public SwitchParameter Vacuum { get; set; }

    /// <summary>With -Vacuum: VACUUM FULL, rewriting tables under an ACCESS EXCLUSIVE lock.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>REINDEX (CONCURRENTLY on PostgreSQL 12+).</summary>
    [Parameter]
    public SwitchParameter Reindex { get; set; }

    /// <summary>Statement timeout for each operation, in seconds (default 3600).</summary>
    [Parameter]
    [ValidateRange(1, 604800)]
    public int TimeoutSec { get; set; } = 3600;

    /// <summary>Do not ask for confirmation, not even for VACUUM FULL.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Checks the switches.</summary>
    protected override void BeginProcessing()
    {
        if (!Analyze && !Vacuum && !Reindex && !Full)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("say what to run: -Analyze, -Vacuum, -Vacuum -Full, -Reindex (several may be combined)"),
                ErrorIds.NoOperation, ErrorCategory.InvalidArgument, null));
        }
    }

    /// <summary>Collects the tables per server.</summary>
    protected override void ProcessRecord()
    {
        var session = Session();
        if (!_byServer.TryGetValue(session.Display, out var entry)) _byServer[session.Display] = entry = (session, []);
        entry.tables.AddRange((QualifiedName ?? []).Where(t => !string.IsNullOrWhiteSpace(t)));
    }

    /// <summary>Plans (read-only), then runs each confirmed operation.</summary>
    protected override void EndProcessing()
    {
        var operations = new List<MaintenanceOperation>();
        var vacuumAnalyzes = Analyze && (Vacuum || Full);
        if (Analyze && !vacuumAnalyzes) operations.Add(MaintenanceOperation.Analyze);
        if (Full) operations.Add(MaintenanceOperation.VacuumFull);
        else if (Vacuum) operations.Add(MaintenanceOperation.Vacuum);
        if (Reindex) operations.Add(MaintenanceOperation.Reindex);
        foreach (var (session, tables) in _byServer.Values)
        {
            var plan = Run(() => DatabaseOperations.PlanMaintenanceAsync(session, tables.Distinct().ToList(), Cancellation), session.Display);
            var total = plan.Count * operations.Count;
            var done = 0;
            foreach (var item in plan)
            {
                foreach (var op in operations)
                {
                    var statement = DatabaseOperations.Statement(item, op, session.ServerVersionNum, vacuumAnalyzes);
                    if (!ShouldAct($"{item.Object} on {session.Display}", statement, Force)) continue;
                    if (op == MaintenanceOperation.VacuumFull)
                    {
                        WriteWarning($"VACUUM FULL rewrites {item.Object} under an ACCESS EXCLUSIVE lock: reads and writes wait until it finishes.");
                        if (!Force && !ShouldContinue($"Lock {item.Object} for the whole VACUUM FULL?", "VACUUM FULL blocks reads and writes")) continue;
                    }
                    WriteProgress(new ProgressRecord(2, "Invoke-DatabaseMaintenance", $"{statement}") { PercentComplete = total == 0 ? 0 : done * 100 / total });
                    var result = Run(() => DatabaseOperations.RunMaintenanceAsync(session, item, op, vacuumAnalyzes, TimeSpan.FromSeconds(TimeoutSec), Cancellation), session.Display);
                    done++;
                    if (result.Outcome == "Failed")
                    {
                        WriteError(new ErrorRecord(new InvalidOperationException($"{result.Operation} {result.Object}: {result.Error}"), ErrorIds.MaintenanceFailed, ErrorCategory.InvalidOperation, result));
                    }
                    WriteObject(result);
                }
            }
            WriteProgress(new ProgressRecord(2, "Invoke-DatabaseMaintenance", "Done") { RecordType = ProgressRecordType.Completed });
        }
        base.EndProcessing();
    }
}
