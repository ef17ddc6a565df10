using System.Management.Automation;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Checks endpoints, DNS, TLS certificates, PostgreSQL and Redis, and returns one HealthCheckResult per target as each completes.
/// </summary>
/// <remarks>
/// Invoke-HealthCheck runs the health checks every runbook starts with. With -Environment it checks every target the
/// environment in runbook.json defines: its HTTP(S), TCP, DNS and JWKS endpoints with their Gatus-style conditions
/// ([STATUS] == 200, [BODY].status == ok, [RESPONSE_TIME] &lt; 2000, [CERTIFICATE_EXPIRATION] &gt; 14d, [DNS_RCODE] == NOERROR),
/// the PostgreSQL primary and replica (connect, SELECT 1, server version, role, sslmode, replica lag, connection usage)
/// and Redis (AUTH or ACL user, TLS, PING, role, replica link, memory use against maxmemory). -Uri checks ad-hoc URLs,
/// and -Target or pipeline input checks target objects, including the Target of earlier results.
///
/// Checks run concurrently (-ThrottleLimit) and results stream as each target finishes. A target is Unhealthy only after
/// -FailureThreshold consecutive failed attempts (3 by default, Fly.io's rule) and passes after -SuccessThreshold
/// consecutive passing attempts; one that never settles is Degraded and says it flaps. Measured values past the
/// environment's warning thresholds (replica lag, connection usage, Redis memory) make a target Degraded, past critical
/// Unhealthy. A target that is down, refuses the connection, fails DNS or TLS, rejects the password or times out is a
/// result with a readable Reason, never an error. -Summary adds one HealthReport whose Status is the worst entry.
/// Secrets are resolved only when a target is checked and never appear in results, verbose output or errors.
/// </remarks>
/// <example>
/// <code>Invoke-HealthCheck -Environment production</code>
/// <para>Checks every endpoint, the database primary and replica and Redis of the production environment.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production -Summary | Where-Object Status -ne Healthy</code>
/// <para>Shows only the targets (and the summary) that are not healthy.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck -Uri https://paintbox.fly.dev/api/health -Condition '[STATUS] == 200', '[BODY].status == ok', '[CERTIFICATE_EXPIRATION] &gt; 14d'</code>
/// <para>Checks one URL with conditions, like runbook 002's deep health check, including its certificate's expiry.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Where-Object Status -eq Unhealthy | Invoke-HealthCheck -FailureThreshold 5</code>
/// <para>Checks the failing targets again, allowing five consecutive failures before calling them down.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "HealthCheck", DefaultParameterSetName = EnvironmentSet)]
[OutputType(typeof(HealthCheckResult))]
[OutputType(typeof(HealthReport))]
public sealed class InvokeHealthCheckCommand : HealthTargetCmdlet
{
    private HealthCheckSession? _session;
    private readonly List<HealthCheckResult> _results = [];
    private int _submitted;
    private int _emitted;

    /// <summary>Consecutive failed attempts before a target is Unhealthy (default 3, Fly.io's rule).</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int FailureThreshold { get; set; } = 3;

    /// <summary>Consecutive passing attempts before a target counts as passing (default 1).</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int SuccessThreshold { get; set; } = 1;

    /// <summary>Extra attempts for a failing target; the same as -FailureThreshold (RetryCount + 1) when larger.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public int RetryCount { get; set; }

    /// <summary>After the results, write one HealthReport whose Status is the worst result's.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    /// <summary>Starts the session.</summary>
    protected override void BeginProcessing() => _session = new HealthCheckSession(Options(FailureThreshold, SuccessThreshold, RetryCount), Secrets);

    /// <summary>Submits this record's targets and writes whatever has finished.</summary>
    protected override void ProcessRecord()
    {
        foreach (var target in TargetsOfThisRecord())
        {
            try
            {
                _session!.Submit(target);
                _submitted++;
            }
            catch (Exception ex) when (ex is ArgumentException or ConditionSyntaxException)
            {
                WriteError(new ErrorRecord(ex, ErrorIds.InvalidTarget, ErrorCategory.InvalidArgument, target));
            }
        }
        while (_session!.TryTakeResult(out var result)) Emit(result);
    }

    /// <summary>Writes the remaining results as they complete, then the summary.</summary>
    protected override void EndProcessing()
    {
        foreach (var result in _session!.CompleteAndDrain()) Emit(result);
        WriteProgress(new ProgressRecord(1, "Invoke-HealthCheck", "Done") { RecordType = ProgressRecordType.Completed });
        if (Summary)
        {
            WriteObject(HealthReport.From(_results, _session.Elapsed, DateTimeOffset.UtcNow));
        }
        _session.Dispose();
    }

    /// <summary>Ctrl+C cancels the running checks.</summary>
    protected override void StopProcessing() => _session?.Cancel();

    private void Emit(HealthCheckResult result)
    {
        if (Summary) _results.Add(result);
        WriteVerbose($"{result.Status} {result.Name}: {result.Reason}");
        var done = ++_emitted;
        WriteProgress(new ProgressRecord(1, "Invoke-HealthCheck", $"{done} of {_submitted} checked")
        {
            PercentComplete = _submitted == 0 ? 100 : Math.Min(100, done * 100 / _submitted),
        });
        WriteObject(result);
    }
}
