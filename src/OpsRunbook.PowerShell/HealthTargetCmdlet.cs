using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell;

/// <summary>What Invoke-HealthCheck and Wait-HealthCheck share: how targets are chosen, and the per-check options.</summary>
public abstract class HealthTargetCmdlet : OpsRunbookCmdlet
{
    /// <summary>Parameter set: an environment's targets.</summary>
    protected const string EnvironmentSet = "Environment";
    /// <summary>Parameter set: URLs.</summary>
    protected const string UriSet = "Uri";
    /// <summary>Parameter set: target objects by property name.</summary>
    protected const string TargetSet = "Target";
    /// <summary>Parameter set: target objects by value.</summary>
    protected const string InputObjectSet = "InputObject";

    /// <summary>The environment in runbook.json whose targets to check. With -Uri or -Target it labels the results.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = EnvironmentSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = TargetSet)]
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = InputObjectSet)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Only the environment's targets with these names (wildcards allowed), e.g. deep, database*.</summary>
    [Parameter(ParameterSetName = EnvironmentSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>URLs to check: http(s)://, tcp://host:port, dns://SERVER/NAME, postgres:// or redis:// (rediss:// for TLS).</summary>
    [Parameter(Mandatory = true, ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public Uri[]? Uri { get; set; }

    /// <summary>Conditions every -Uri target must meet, e.g. '[STATUS] == 200', '[BODY].status == ok', '[CERTIFICATE_EXPIRATION] &gt; 14d'.</summary>
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

    /// <summary>Accept any TLS certificate. For test endpoints only.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Options for the checks, with the given failure and success thresholds.</summary>
    protected HealthCheckOptions Options(int failureThreshold, int successThreshold, int retryCount = 0) => new()
    {
        ThrottleLimit = ThrottleLimit,
        Timeout = TimeoutSec > 0 ? TimeSpan.FromSeconds(TimeoutSec) : TimeSpan.FromSeconds(10),
        OverrideTimeout = TimeoutSec > 0,
        FailureThreshold = failureThreshold,
        SuccessThreshold = successThreshold,
        RetryCount = retryCount,
        SkipCertificateCheck = SkipCertificateCheck,
    };

    /// <summary>The targets this pipeline record names, with vault: secrets supplied. Bad -Uri values are errors per item.</summary>
    protected IReadOnlyList<HealthCheckTarget> TargetsOfThisRecord()
    {
        var targets = new List<HealthCheckTarget>();
        switch (ParameterSetName)
        {
            case EnvironmentSet:
                if (string.IsNullOrWhiteSpace(Environment))
                {
                    ThrowTerminatingError(new ErrorRecord(new ArgumentException("give -Environment, the name of an environment in runbook.json"),
                        "OpsRunbook.EnvironmentMissing", ErrorCategory.InvalidArgument, null));
                }
                var config = LoadConfig();
                try
                {
                    var env = config.GetEnvironment(Environment!);
                    // secret:aws: references of this environment resolve with its AWS settings.
                    if (env.Aws is not null) Secrets.UseAws(env.Aws);
                    targets.AddRange(env.GetHealthCheckTargets(Name));
                }
                catch (RunbookConfigException ex)
                {
                    ThrowTerminatingError(ConfigError(ex));
                }
                break;
            case UriSet:
                foreach (var uri in Uri!)
                {
                    try
                    {
                        targets.Add(HealthCheckTarget.FromUri(uri, Condition, string.IsNullOrEmpty(Environment) ? null : Environment));
                    }
                    catch (ArgumentException ex)
                    {
                        WriteError(new ErrorRecord(ex, "OpsRunbook.InvalidTarget", ErrorCategory.InvalidArgument, SecretValue.Redact(uri.OriginalString)));
                    }
                }
                break;
            default:
                foreach (var t in (ParameterSetName == TargetSet ? Target : InputObject)!)
                {
                    if (!string.IsNullOrEmpty(Environment)) t.Environment ??= Environment;
                    targets.Add(t);
                }
                break;
        }
        foreach (var t in targets) SupplyVaultSecret(Secrets, t.Connection);
        return targets;
    }
}
