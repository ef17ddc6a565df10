using System.Management.Automation;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Checks targets in rounds until all of them are Healthy (or at least Degraded), writing one HealthReport per round.
/// </summary>
/// <remarks>
/// Wait-HealthCheck is the runbooks' "verify the deployment" and "monitor for 15 minutes": it checks the same targets as
/// Invoke-HealthCheck (an environment, URLs or target objects) every -Interval until every target reaches -Until, and
/// writes each round as a HealthReport (its Round number, worst status and entries). When -Timeout passes first it
/// stops with a terminating error (OpsRunbook.HealthWaitTimeout) that lists what is still failing, so a script or a
/// CI job fails with the reason. Each round makes one attempt per target: the rounds themselves are the repetition.
/// </remarks>
/// <example>
/// <code>Wait-HealthCheck -Environment production -Until Healthy -Timeout 10m -Interval 15s</code>
/// <para>After a deploy: waits up to ten minutes for every production target to be healthy, checking every 15 seconds.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production -Name deep | Wait-HealthCheck -Timeout 2m -Interval 5s | Select-Object -Last 1</code>
/// <para>Waits for the deep health check alone and keeps only the final round.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Wait, "HealthCheck", DefaultParameterSetName = EnvironmentSet)]
[OutputType(typeof(HealthReport))]
public sealed class WaitHealthCheckCommand : HealthTargetCmdlet
{
    private readonly List<HealthCheckTarget> _targets = [];
    private CancellationTokenSource? _cancel;

    /// <summary>The status every target must reach: Healthy (default) or Degraded (meaning: nothing Unhealthy).</summary>
    [Parameter]
    [ValidateSet("Healthy", "Degraded")]
    public string Until { get; set; } = "Healthy";

    /// <summary>How long to wait in all, e.g. 10m, 90s (default 10m).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Time between the starts of two rounds, e.g. 15s (default 15s, the interval of runbook 002's simple check).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Collects the targets.</summary>
    protected override void ProcessRecord() => _targets.AddRange(TargetsOfThisRecord());

    /// <summary>Runs the rounds.</summary>
    protected override void EndProcessing()
    {
        if (_targets.Count == 0) return;
        if (Timeout <= TimeSpan.Zero || Interval <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Timeout and -Interval must be greater than zero"), ErrorIds.InvalidDuration, ErrorCategory.InvalidArgument, null));
        }
        try
        {
            foreach (var t in _targets) HealthCheckSession.Validate(t);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidTarget, ErrorCategory.InvalidArgument, null));
        }
        _cancel = new CancellationTokenSource();
        var until = Enum.Parse<HealthStatus>(Until);
        try
        {
            foreach (var report in HealthWait.RunAsync(_targets, Options(1, 1), Secrets, until, Timeout, Interval, _cancel.Token).ToBlockingEnumerable(_cancel.Token))
            {
                WriteVerbose($"round {report.Round}: {report}");
                WriteObject(report);
            }
        }
        catch (HealthWaitTimeoutException ex)
        {
            ThrowTerminatingError(ErrorTable.Typed(ex, null)!);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Ctrl+C
        }
    }

    /// <summary>Ctrl+C stops waiting.</summary>
    protected override void StopProcessing() => _cancel?.Cancel();
}
