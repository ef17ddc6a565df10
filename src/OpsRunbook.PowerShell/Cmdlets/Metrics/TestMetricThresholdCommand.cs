using System.Collections;
using System.Management.Automation;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Compares metrics, health results and host resources with threshold tables and returns an Alert per value.
/// </summary>
/// <remarks>
/// Test-MetricThreshold takes MetricSample, HealthCheckResult, HealthReport, HostResource, EndpointCertificate and
/// DatabaseLoadTestResult objects from the pipeline and compares each value they carry (CPU, memory and disk %, response
/// times, replica lag, connection usage, Redis memory, certificate days left, a load test's p95 latency as
/// db_latency_ms, any metric by name, histogram p50/p90/p95/p99) with a threshold table. It writes one Alert per value that
/// has a rule: Severity Normal, Warning or Critical, with the rule and the runbook line it comes from.
///
/// The table is the input's environment's (runbook.json "thresholdProfile" and "thresholds"), or -Profile, one of the
/// runbooks' built-in tables verbatim: paintbox (runbook 000), formula-pm (001), cardmint (003), sentia (004).
/// -Threshold adds or replaces rules for this call. Use -MinimumSeverity Warning to keep only alerts.
///
/// -For 15m asks runbook 003's question, "sustained over 15 minutes": the samples of each series (repeated scrapes,
/// Measure-LogRecord's windows) are collected, and each series gives one Alert at the end, the latest value with the
/// mildest severity of every sample in the 15 minutes before it — Critical only if every one of them was critical. A
/// series whose samples do not reach back the whole window is Normal, and its Threshold says how much they cover.
/// </remarks>
/// <example>
/// <code>Get-HostResource | Test-MetricThreshold -Profile formula-pm</code>
/// <para>Runbook 001's daily disk and memory check against its own alert thresholds.</para>
/// </example>
/// <example>
/// <code>Invoke-HealthCheck production | Test-MetricThreshold -MinimumSeverity Warning</code>
/// <para>Replica lag, connection usage, Redis memory and response times of production that are past a level.</para>
/// </example>
/// <example>
/// <code>Measure-LogRecord -Path ./logs/app.log -Window 5m | Test-MetricThreshold -Profile paintbox -For 15m -MinimumSeverity Warning</code>
/// <para>Error rates over 1% (warning) or 5% (critical) that lasted a quarter of an hour, not one bad window.</para>
/// </example>
/// <example>
/// <code>Get-ServiceMetric -Uri http://localhost:9100/metrics | Test-MetricThreshold -Threshold @{ node_load1 = @{ warning = 2; critical = 4 } }</code>
/// <para>A rule for any metric by name.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "MetricThreshold")]
[OutputType(typeof(Alert))]
public sealed class TestMetricThresholdCommand : EnvironmentCmdlet
{
    private readonly Dictionary<string, ThresholdProfile> _profiles = new(StringComparer.OrdinalIgnoreCase);
    private IReadOnlyList<ThresholdRule> _extra = [];
    private readonly HashSet<object> _seen = new(ReferenceEqualityComparer.Instance);

    /// <summary>Results to compare: MetricSample, HealthCheckResult, HealthReport, HostResource, EndpointCertificate, DatabaseLoadTestResult.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public object[]? InputObject { get; set; }

    /// <summary>The environment whose thresholds apply; by default each input's own Environment.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public override string? Environment { get; set; }

    /// <summary>A built-in threshold table instead: paintbox, formula-pm, cardmint or sentia.</summary>
    [Parameter]
    [ValidateSet("paintbox", "formula-pm", "cardmint", "sentia")]
    public string? Profile { get; set; }

    /// <summary>Extra or replacing rules: @{ cpu = @{ warning = 70; critical = 85 }; uptime = @{ warning = 99.9; direction = 'below' } }.</summary>
    [Parameter]
    [ValidateNotNull]
    public Hashtable? Threshold { get; set; }

    /// <summary>Only alerts at or above this severity (default Normal: every compared value).</summary>
    [Parameter]
    public AlertSeverity MinimumSeverity { get; set; } = AlertSeverity.Normal;

    /// <summary>Alert only on what lasted: one Alert per series at the end, as severe as the mildest sample of this window (15m, 1h).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? For { get; set; }

    private readonly List<Alert> _window = [];

    /// <summary>Reads -Threshold once.</summary>
    protected override void BeginProcessing()
    {
        if (Threshold is null) return;
        try
        {
            _extra = ThresholdProfile.RulesFrom(Threshold);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidThreshold, ErrorCategory.InvalidArgument, Threshold));
        }
    }

    /// <summary>Compares each input's values and writes the alerts.</summary>
    protected override void ProcessRecord()
    {
        foreach (var item in InputObject ?? [])
        {
            var value = item is PSObject ps ? ps.BaseObject : item;
            // A HealthReport that follows its own results (-Summary) adds only entries not compared yet.
            var observations = value is OpsRunbook.Engine.Health.HealthReport report
                ? report.Entries.Where(e => !_seen.Contains(e)).SelectMany(ThresholdEvaluator.Observe).ToList()
                : ThresholdEvaluator.Observe(value).ToList();
            _seen.Add(value);
            if (observations.Count == 0 && value is not OpsRunbook.Engine.Health.HealthReport)
            {
                // Never silently nothing: a gate that skips what it cannot read passes.
                var piped = PSObject.AsPSObject(item);
                var hint = PipedInput.IsDeserialized(piped) ? ", whose values did not survive serialization: compare where the results are made (inside the job or remote session)" : "";
                var message = value is OpsRunbook.Engine.Health.EndpointCertificate { Error: { } error } unread
                    ? $"the certificate of {unread.Name} has no days to compare: {error}"
                    : $"Test-MetricThreshold compares MetricSample, HealthCheckResult, HealthReport, HostResource, EndpointCertificate and DatabaseLoadTestResult objects; it got {PipedInput.Describe(piped)}{hint}";
                WriteError(new ErrorRecord(new ArgumentException(message), ErrorIds.NotComparable, ErrorCategory.InvalidType, item));
                continue;
            }
            foreach (var group in observations.GroupBy(o => string.IsNullOrEmpty(Environment) ? o.Environment : Environment))
            {
                foreach (var alert in ThresholdEvaluator.Evaluate(group, ProfileFor(group.Key)))
                {
                    if (For is not null) _window.Add(alert);
                    else if (alert.Severity >= MinimumSeverity) WriteObject(alert);
                }
            }
        }
    }

    /// <summary>With -For: one alert per series, for what lasted the window.</summary>
    protected override void EndProcessing()
    {
        if (For is not { } window) return;
        if (window <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException("-For is how long a breach must last, for example 15m"), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, window));
        }
        foreach (var alert in ThresholdEvaluator.Sustained(_window, window))
        {
            if (alert.Severity >= MinimumSeverity) WriteObject(alert);
        }
    }

    private ThresholdProfile ProfileFor(string? environment)
    {
        var key = Profile ?? environment ?? "";
        if (_profiles.TryGetValue(key, out var cached)) return cached;
        ThresholdProfile profile;
        if (Profile is not null)
        {
            profile = ThresholdProfile.Get(Profile);
        }
        else if (environment is not null && ResolveEnvironment(EnvironmentNeed.FromData, environment) is { } env)
        {
            profile = env.GetThresholdProfile();
        }
        else
        {
            profile = ThresholdProfile.Defaults;
            WriteVerbose($"no environment thresholds for '{environment}': using {profile.Description}; give -Profile or -Environment for a full table");
        }
        if (_extra.Count > 0) profile = profile.With("-Threshold", _extra);
        _profiles[key] = profile;
        return profile;
    }

    /// <summary>Results of -Uri checks name environments no runbook.json here has: the defaults apply, said in verbose.</summary>
    protected override void EnvironmentUnavailableFor(string name, string why) => WriteVerbose($"environment '{name}': {why}");
}
