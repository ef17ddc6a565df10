using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Health.Conditions;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Checks endpoints, PostgreSQL and Redis, and returns one HealthCheckResult per target as each completes.
/// </summary>
/// <remarks>
/// Invoke-HealthCheck runs the health checks every runbook starts with. With -Environment it checks every target the
/// environment in runbook.json defines: its HTTP(S) and TCP endpoints with their Gatus-style conditions
/// ([STATUS] == 200, [BODY].status == ok, [RESPONSE_TIME] &lt; 2000), the PostgreSQL primary and replica (connect,
/// SELECT 1, server version, primary/replica role, sslmode honoured) and Redis (AUTH or ACL user, TLS, PING, role,
/// memory use against maxmemory). -Uri checks ad-hoc URLs, and -Target or pipeline input checks target objects,
/// including the Target of earlier results.
///
/// Checks run concurrently (-ThrottleLimit) and results stream as each target finishes. A target that is down,
/// refuses the connection, fails DNS or TLS, rejects the password or times out is a result with Status Unhealthy
/// and a readable Reason, never an error. Statuses order worst first (Unhealthy, Degraded, Healthy); -Summary adds one
/// HealthReport whose Status is the worst entry. Secrets are resolved only when a target is checked and never
/// appear in results, verbose output or errors.
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
/// <code>Invoke-HealthCheck -Uri https://paintbox.fly.dev/api/health -Condition '[STATUS] == 200', '[BODY].status == ok', '[RESPONSE_TIME] &lt; 2000'</code>
/// <para>Checks one URL with conditions, like runbook 002's deep health check.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Where-Object Status -eq Unhealthy | Invoke-HealthCheck -RetryCount 3</code>
/// <para>Checks the failing targets again, retrying each up to three times.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Invoke, "HealthCheck", DefaultParameterSetName = EnvironmentSet)]
[OutputType(typeof(HealthCheckResult))]
[OutputType(typeof(HealthReport))]
public sealed class InvokeHealthCheckCommand : OpsRunbookCmdlet
{
    private const string EnvironmentSet = "Environment";
    private const string UriSet = "Uri";
    private const string TargetSet = "Target";
    private const string InputObjectSet = "InputObject";

    private HealthCheckSession? _session;
    private SecretResolver? _resolver;
    private readonly List<HealthCheckResult> _results = [];
    private int _submitted;
    private int _emitted;

    /// <summary>The environment in runbook.json whose targets to check. With -Uri or -Target it labels the results.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = EnvironmentSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = TargetSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Only the environment's targets with these names (wildcards allowed), e.g. deep, database*.</summary>
    [Parameter(ParameterSetName = EnvironmentSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>URLs to check: http(s)://, tcp://host:port, postgres:// or redis:// (rediss:// for TLS).</summary>
    [Parameter(Mandatory = true, ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public Uri[]? Uri { get; set; }

    /// <summary>Conditions every -Uri target must meet, e.g. '[STATUS] == 200', '[BODY].status == ok'.</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Condition { get; set; }

    /// <summary>Target objects to check; binds the Target property of earlier results, so results can be re-checked.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public HealthCheckTarget[]? Target { get; set; }

    /// <summary>Target objects from the pipeline.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNullOrEmpty]
    public HealthCheckTarget[]? InputObject { get; set; }

    /// <summary>How many targets are checked at once (default 32).</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int ThrottleLimit { get; set; } = HealthCheckOptions.DefaultThrottleLimit;

    /// <summary>Seconds each attempt may take; overrides the targets' own timeouts. Default: the target's, else 10.</summary>
    [Parameter]
    [ValidateRange(0.1, 3600.0)]
    public double TimeoutSec { get; set; }

    /// <summary>Extra attempts for a target that is Unhealthy, with exponential backoff from 1 second.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public int RetryCount { get; set; }

    /// <summary>Accept any TLS certificate. For test endpoints only.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>After the results, write one HealthReport whose Status is the worst result's.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    /// <summary>Starts the session.</summary>
    protected override void BeginProcessing()
    {
        _resolver = new SecretResolver();
        var options = new HealthCheckOptions
        {
            ThrottleLimit = ThrottleLimit,
            Timeout = TimeoutSec > 0 ? TimeSpan.FromSeconds(TimeoutSec) : TimeSpan.FromSeconds(10),
            OverrideTimeout = TimeoutSec > 0,
            RetryCount = RetryCount,
            SkipCertificateCheck = SkipCertificateCheck,
        };
        _session = new HealthCheckSession(options, _resolver);
    }

    /// <summary>Submits this record's targets and writes whatever has finished.</summary>
    protected override void ProcessRecord()
    {
        foreach (var target in TargetsOfThisRecord())
        {
            SupplyVaultSecret(_resolver!, target.Connection);
            try
            {
                _session!.Submit(target);
                _submitted++;
            }
            catch (Exception ex) when (ex is ArgumentException or ConditionSyntaxException)
            {
                WriteError(new ErrorRecord(ex, "OpsRunbook.InvalidTarget", ErrorCategory.InvalidArgument, target));
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

    private IEnumerable<HealthCheckTarget> TargetsOfThisRecord()
    {
        switch (ParameterSetName)
        {
            case EnvironmentSet:
                var config = LoadConfig();
                try
                {
                    return config.GetEnvironment(Environment!).GetHealthCheckTargets(Name);
                }
                catch (RunbookConfigException ex)
                {
                    ThrowTerminatingError(ConfigError(ex));
                    return [];
                }
            case UriSet:
                var targets = new List<HealthCheckTarget>();
                foreach (var uri in Uri!)
                {
                    try
                    {
                        targets.Add(HealthCheckTarget.FromUri(uri, Condition, Environment));
                    }
                    catch (ArgumentException ex)
                    {
                        WriteError(new ErrorRecord(ex, "OpsRunbook.InvalidTarget", ErrorCategory.InvalidArgument, SecretValue.Redact(uri.OriginalString)));
                    }
                }
                return targets;
            default:
                var given = (ParameterSetName == TargetSet ? Target : InputObject)!;
                if (Environment is not null)
                {
                    foreach (var t in given) t.Environment ??= Environment;
                }
                return given;
        }
    }

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
