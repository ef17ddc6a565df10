using System.Management.Automation;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Runs a load test with pgbench against the environment's PostgreSQL and reports throughput and latency percentiles against a target.
/// </summary>
/// <remarks>
/// Invoke-DatabaseLoadTest is runbook 003's weekly "internal latency test" (`pgbench -c 20 -j 4 -T 300 -S`) with the
/// real pgbench, found as pg_dump is (PATH, then the versioned PostgreSQL folders, newest first). It connects as the
/// environment's database login (or -Connection, -Replica, -Target) through libpq variables and a private password
/// file: the password is never on a command line. By default each of -Clients sessions (20) on -Threads pgbench
/// threads (4) runs pgbench's select-only transaction for -Duration (5 minutes), with -n so nothing is written (no
/// VACUUM, no TRUNCATE of pgbench_history). -Script TpcbLike or SimpleUpdate runs pgbench's write transactions on its
/// own tables; -ScriptFile runs a file of the application's own statements (pgbench's script syntax) instead.
///
/// pgbench's tables must exist for its scripts: -Initialize creates them first (pgbench -i, -Scale 1 = 100,000
/// accounts); when they exist already, -Initialize drops and recreates them only with -Force. The cmdlet refuses, with
/// an error that says what to do, missing tables, a missing script file, or a login that may not create the tables.
///
/// The result (DatabaseLoadTestResult) has pgbench's own figures — transactions, failed transactions, tps without the
/// initial connection time, average and standard deviation of latency — and the 50th, 95th and 99th percentiles and the
/// maximum from pgbench's per-transaction log (every transaction up to a minute's test, one in ten beyond;
/// -SamplingRate changes it). Healthy when the 95th percentile is within -LatencyTarget (default: the environment's
/// db_latency_ms warning level, runbook 003's 100 ms, else 100 ms); Degraded over it; Unhealthy when clients aborted on
/// an error or transactions failed (the result says which error). Progress shows pgbench's figures every 5 seconds;
/// Ctrl-C stops pgbench and its sessions at once. -WhatIf says what would run, and runs nothing. A load test is load:
/// run it against production in a quiet hour, or against a replica (-Replica) for the read-only test. Piped to
/// Test-MetricThreshold, the 95th percentile is compared as db_latency_ms with the environment's levels.
/// </remarks>
/// <example>
/// <code>Invoke-DatabaseLoadTest production -Clients 20 -Threads 4 -Duration 5m</code>
/// <para>Runbook 003's weekly test: pgbench's select-only transaction from 20 sessions for five minutes, p95 against the target.</para>
/// </example>
/// <example>
/// <code>Invoke-DatabaseLoadTest staging -Initialize -Scale 10 -Force -Script TpcbLike -Duration 1m -LatencyTarget 50ms</code>
/// <para>(Re)creates pgbench's tables with a million accounts on staging and runs its write transaction for a minute.</para>
/// </example>
/// <example>
/// <code>Invoke-DatabaseLoadTest production -Replica -Duration 2m | Export-RunbookReport -Title 'Weekly load test' -Format Markdown -Path ./load-test.md</code>
/// <para>The read-only test on the replica, documented in a report (Unhealthy fails it, Degraded warns).</para>
/// </example>
/// <example>
/// <code>Invoke-DatabaseLoadTest production -Duration 2m | Test-MetricThreshold -MinimumSeverity Warning | Send-RunbookAlert</code>
/// <para>The p95 under load against the environment's db_latency_ms levels (runbook 003: warning over 100 ms, critical over 150), paging when it is past one.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "DatabaseLoadTest", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(DatabaseLoadTestResult))]
public sealed class InvokeDatabaseLoadTestCommand : DatabaseCmdlet
{
    /// <summary>Concurrent sessions (pgbench -c; default 20).</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int Clients { get; set; } = 20;

    /// <summary>pgbench worker threads (-j; default 4, never more than -Clients).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int Threads { get; set; } = 4;

    /// <summary>How long the test runs (default 5m).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>pgbench's transaction: SelectOnly (default, writes nothing), TpcbLike or SimpleUpdate (write to pgbench's tables).</summary>
    [Parameter]
    public LoadTestScript Script { get; set; } = LoadTestScript.SelectOnly;

    /// <summary>A file of the application's own statements to run instead of pgbench's (pgbench -f).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ScriptFile { get; set; }

    /// <summary>Create pgbench's tables first (pgbench -i).</summary>
    [Parameter]
    public SwitchParameter Initialize { get; set; }

    /// <summary>With -Initialize: pgbench's scale, 100,000 accounts each (default 1).</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int Scale { get; set; } = 1;

    /// <summary>The 95th-percentile latency to stay under (default: the environment's db_latency_ms warning level, else 100ms).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? LatencyTarget { get; set; }

    /// <summary>The share of transactions whose latency is logged for the percentiles, 0.0001 to 1 (default 1 up to a minute, 0.1 beyond).</summary>
    [Parameter]
    [ValidateRange(0.0001, 1.0)]
    public double? SamplingRate { get; set; }

    /// <summary>With -Initialize: drop and recreate pgbench's tables when they exist; and do not ask.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Plans, asks, runs.</summary>
    protected override void ProcessRecord()
    {
        var session = Session();
        var target = LatencyTarget
            ?? (EnvironmentThresholds()?.RuleFor(Engine.Metrics.WellKnownMetrics.DbLatencyMs)?.Warning is { } ms ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromMilliseconds(100));
        var options = new LoadTestOptions
        {
            Clients = Clients,
            Threads = Threads,
            Duration = Duration,
            Script = ScriptFile is null ? Script : LoadTestScript.File,
            ScriptFile = ScriptFile is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ScriptFile),
            Initialize = Initialize,
            Scale = Scale,
            Replace = Force,
            LatencyTarget = target,
            SamplingRate = SamplingRate,
        };
        if (Duration <= TimeSpan.Zero) ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Duration must be longer than zero, e.g. 5m"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Duration));
        var plan = Run(() => DatabaseLoadTest.PlanAsync(session, options, Cancellation), session.Display);
        WriteVerbose($"pgbench: {plan.Pgbench}");
        if (plan.Refusal is not null)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException($"The load test cannot run: {plan.Refusal}."), ErrorIds.LoadTestRefused, ErrorCategory.InvalidOperation, session.Display));
        }
        if (!ShouldAct(session.Display, string.Join("; ", plan.Steps), Force)) return;
        var context = ContextOf(null) with { Environment = session.Environment };
        var result = RunObserved(progress => DatabaseLoadTest.RunAsync(session, plan, options, context with { Progress = progress }), "Invoke-DatabaseLoadTest",
            task => Run(() => task, session.Display), activityId: 4);
        if (result.Status != HealthStatus.Healthy) WriteWarning(result.Reason);
        WriteObject(result);
    }
}
