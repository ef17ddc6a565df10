namespace OpsRunbook.Engine.Reporting;

/// <summary>
/// The exit codes a script or scheduled job ends with (the contract schedulers act on): 0 all good, 1 the tool itself
/// failed (bad configuration, a crash, input it cannot judge), 2 failed checks, 3 warnings only.
/// </summary>
public enum RunExitCode
{
    /// <summary>Everything the gate judged passed (or warned below its threshold).</summary>
    Success = 0,
    /// <summary>The tool failed: the results are incomplete or could not be judged.</summary>
    ToolFailed = 1,
    /// <summary>At least one check failed (Unhealthy, Critical, Failed).</summary>
    Failed = 2,
    /// <summary>No check failed, at least one warned (Degraded, Warning), and the gate fails on warnings.</summary>
    WarningsOnly = 3,
}

/// <summary>How a report's rows and a -FailOn threshold make an exit code, and which of two codes a run ends with.</summary>
public static class ExitCodes
{
    /// <summary>
    /// The code for a report of <paramref name="failed"/> failing and <paramref name="warnings"/> warning rows at <paramref name="failOn"/>: 2 when a row fails; 3 when rows only warn
    /// and the threshold is Degraded/Warning (or none is given: the code then only informs); otherwise 0.
    /// </summary>
    public static RunExitCode Of(int failed, int warnings, ReportFailOn failOn)
    {
        if (failed > 0) return RunExitCode.Failed;
        if (warnings > 0 && failOn is ReportFailOn.None or ReportFailOn.Degraded or ReportFailOn.Warning) return RunExitCode.WarningsOnly;
        return RunExitCode.Success;
    }

    /// <summary>The code a run with both outcomes ends with: a tool failure over failed checks over warnings over success.</summary>
    public static RunExitCode Worse(RunExitCode a, RunExitCode b) => Rank(a) >= Rank(b) ? a : b;

    private static int Rank(RunExitCode code) => code switch
    {
        RunExitCode.ToolFailed => 3,
        RunExitCode.Failed => 2,
        RunExitCode.WarningsOnly => 1,
        _ => 0,
    };
}
