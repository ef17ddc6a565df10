using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell;

/// <summary>What Invoke-HealthCheck and Wait-HealthCheck share: how targets are chosen, and the per-check options.</summary>
public abstract class HealthTargetCmdlet : EnvironmentCmdlet
{
    /// <summary>Parameter set: an environment's targets.</summary>
    protected const string EnvironmentSet = "Environment";
    /// <summary>Parameter set: URLs.</summary>
    protected const string UriSet = "Uri";
    /// <summary>Parameter set: target objects.</summary>
    protected const string TargetSet = "Target";
    /// <summary>Parameter set: whatever the pipeline brings (results, reports, environments, targets, names).</summary>
    protected const string InputObjectSet = "InputObject";

    private readonly HashSet<string> _seen = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);

    /// <summary>
    /// The environments in runbook.json whose targets to check: one name, several (<c>(Get-RunbookEnvironment).Name</c>),
    /// or wildcards (<c>prod-*</c>), all checked in one bounded-parallel run. With -Uri or -Target, one name that labels the results.
    /// </summary>
    /// <remarks>Not bound from piped objects' Environment property: everything piped goes to -InputObject, which knows
    /// a result (check its target again) from an environment (check all of it).</remarks>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = EnvironmentSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = TargetSet)]
    [EnvironmentListTransformation]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public override string? Environment { get; set; }

    /// <summary>Only the environment's targets with these names (wildcards allowed), e.g. deep, database*. With piped
    /// environments or environment names, the same for each of them.</summary>
    [Parameter(ParameterSetName = EnvironmentSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TargetNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>URLs to check: http(s)://, tcp://host:port, dns://SERVER/NAME, postgres:// or redis:// (rediss:// for TLS).</summary>
    [Parameter(Mandatory = true, ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public Uri[]? Uri { get; set; }

    /// <summary>Conditions every -Uri target must meet, e.g. '[STATUS] == 200', '[BODY].status == ok', '[CERTIFICATE_EXPIRATION] &gt; 14d'.</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Condition { get; set; }

    /// <summary>Target objects to check, such as the Target property of earlier results.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public HealthCheckTarget[]? Target { get; set; }

    /// <summary>
    /// What to check, from the pipeline: earlier HealthCheckResults or HealthReports (their targets are checked again,
    /// each once), environments from Get-RunbookEnvironment or environment names, target objects, or any OpsRunbook
    /// result with an Environment (such as a rotation's or a rollback's), whose environment is checked.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNullOrEmpty]
    public PSObject[]? InputObject { get; set; }

    /// <summary>How many targets are checked at once in all. Default: 32 per environment, at most 256 for a fleet of environments.</summary>
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
        // Given: one limit for the whole run. Default: each environment its own 32, within the fleet's 256.
        ThrottleLimit = ThrottleLimit,
        TotalThrottleLimit = MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : HealthCheckOptions.DefaultTotalThrottleLimit,
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
                foreach (var environment in EnvironmentNames()) targets.AddRange(EnvironmentTargets(environment, null, Name));
                break;
            case UriSet:
                foreach (var uri in Uri!)
                {
                    try
                    {
                        targets.Add(HealthCheckTarget.FromUri(uri, Condition, LabelEnvironment()));
                    }
                    catch (ArgumentException ex)
                    {
                        WriteError(new ErrorRecord(ex, ErrorIds.InvalidTarget, ErrorCategory.InvalidArgument, SecretValue.Redact(uri.OriginalString)));
                    }
                }
                break;
            case TargetSet:
                var label = LabelEnvironment();
                foreach (var t in Target!)
                {
                    if (label is not null) t.Environment ??= label;
                    targets.Add(t);
                }
                break;
            default:
                foreach (var item in InputObject!) AddPiped(item, targets);
                break;
        }
        // Each target once per invocation: piping a summary together with its entries, or the same environment twice,
        // checks nothing twice.
        targets.RemoveAll(t => !_seen.Add($"{t.Environment}\u0001{t.Name}\u0001{t.Address}"));
        foreach (var t in targets) SupplyVaultSecret(Secrets, t.Connection);
        return targets;
    }

    /// <summary>The environments -Environment names, wildcards expanded in runbook.json's order.</summary>
    private IEnumerable<string> EnvironmentNames()
    {
        var names = EnvironmentListTransformationAttribute.Split(Environment);
        if (names.Count == 1 && !WildcardPattern.ContainsWildcardCharacters(names[0])) return names;
        try
        {
            return LoadConfig().FindEnvironments(names).Select(e => e.Name).ToList();
        }
        catch (RunbookConfigException ex)
        {
            ThrowTerminatingError(ConfigError(ex));
            return [];
        }
    }

    /// <summary>The one environment that labels -Uri and -Target results.</summary>
    private string? LabelEnvironment()
    {
        var names = EnvironmentListTransformationAttribute.Split(Environment);
        if (names.Count > 1 || names.Any(WildcardPattern.ContainsWildcardCharacters))
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("with -Uri or -Target, -Environment is one name that labels the results; to check several environments, give -Environment alone"),
                ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Environment));
        }
        return names.Count == 0 ? null : names[0];
    }

    private void AddPiped(PSObject? item, List<HealthCheckTarget> targets)
    {
        switch (item?.BaseObject)
        {
            case null:
                return;
            case HealthCheckTarget target:
                targets.Add(target);
                return;
            case HealthCheckResult result:
                targets.Add(result.Target);
                return;
            case HealthReport report:
                targets.AddRange(report.Entries.Select(e => e.Target));
                return;
            case RunbookEnvironmentInfo info:
                targets.AddRange(EnvironmentTargets(info.Environment, ConfigPath is null ? info.ConfigPath : null, Name));
                return;
            case string name when !string.IsNullOrWhiteSpace(name):
                targets.AddRange(EnvironmentTargets(name, null, Name));
                return;
        }
        // Across a job, remoting or Import-Clixml boundary a result arrives as a property bag: its environment and target
        // name find the same target in runbook.json again. Other OpsRunbook results (a rotation's, a rollback's) name
        // the environment they changed, which is checked whole.
        var typeName = item.TypeNames.FirstOrDefault() ?? item.BaseObject.GetType().FullName!;
        var environment = item.Properties["Environment"]?.Value as string;
        var opsRunbookType = PipedInput.OpsRunbookType(item);
        var isResult = opsRunbookType == "OpsRunbook.Engine.Health.HealthCheckResult";
        var isReport = opsRunbookType == "OpsRunbook.Engine.Health.HealthReport";
        if (isResult && !string.IsNullOrEmpty(environment) && item.Properties["Name"]?.Value is string targetName)
        {
            targets.AddRange(EnvironmentTargets(environment, null, [targetName]));
        }
        else if (isReport && item.Properties["Entries"]?.Value is System.Collections.IEnumerable entries)
        {
            foreach (var entry in entries) AddPiped(PSObject.AsPSObject(entry), targets);
        }
        else if (!isResult && !string.IsNullOrEmpty(environment))
        {
            targets.AddRange(EnvironmentTargets(environment, null, Name));
        }
        else if (_refused.Add(typeName))
        {
            // One error per kind of input, not one per object: 50 unknown objects make one error.
            WriteError(new ErrorRecord(
                new ArgumentException($"{MyInvocation.MyCommand.Name} cannot check a {typeName}" + (isResult ? " without an Environment (a -Uri result): run it with -Uri again" : "") +
                    ": pipe HealthCheckResults, HealthReports, Get-RunbookEnvironment output, environment names or objects with an Environment property."),
                ErrorIds.UnsupportedInput, ErrorCategory.InvalidType, item));
        }
    }

    private IReadOnlyList<HealthCheckTarget> EnvironmentTargets(string? environment, string? configPath, string[]? names)
    {
        var env = ResolveEnvironment(EnvironmentNeed.Required, environment, configPath)!;
        try
        {
            return env.GetHealthCheckTargets(names);
        }
        catch (RunbookConfigException ex)
        {
            ThrowTerminatingError(ConfigError(ex));
            return [];
        }
    }
}
