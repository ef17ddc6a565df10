using System.Management.Automation;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Reads a metrics endpoint (Prometheus text format or JSON) and returns one MetricSample per series.
/// </summary>
/// <remarks>
/// Get-ServiceMetric scrapes the metrics endpoints of an environment (its "metrics" list in runbook.json) or the URLs
/// given with -Uri, as runbook 002's `curl .../api/metrics` does. Prometheus text exposition is parsed completely:
/// HELP and TYPE, labels with escapes, NaN and ±Inf, timestamps; a histogram or summary series comes back as one
/// sample with its buckets or quantiles, sum and count, and its Quantile(q) method computes PromQL's
/// histogram_quantile exactly. JSON endpoints are flattened: every numeric leaf is a sample named by its path
/// (memory.heapUsed). An endpoint that cannot be read is a non-terminating error naming it; the others still return.
/// A line of an exposition that cannot be read (an exporter's bug) is skipped with a warning naming its line number,
/// and the rest of that endpoint's samples still return; -Verbose lists every skipped line.
/// </remarks>
/// <example>
/// <code>Get-ServiceMetric -Uri https://paintbox.fly.dev/api/metrics -Name '*memory*', 'process_uptime_seconds'</code>
/// <para>The memory and uptime metrics of runbook 002's metrics endpoint.</para>
/// </example>
/// <example>
/// <code>(Get-ServiceMetric production -Name http_request_duration_seconds).Quantile(0.95)</code>
/// <para>The p95 request duration from a Prometheus histogram.</para>
/// </example>
/// <example>
/// <code>Get-ServiceMetric production | Test-MetricThreshold | Where-Object Severity -ne Normal</code>
/// <para>Compares every metric with the environment's thresholds and keeps the alerts.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "ServiceMetric", DefaultParameterSetName = "Environment")]
[OutputType(typeof(MetricSample))]
public sealed class GetServiceMetricCommand : EnvironmentCmdlet
{
    private MetricScraper? _scraper;
    private CancellationTokenSource? _cancel;

    /// <inheritdoc/>
    protected override string EnvironmentSection => "metrics";

    /// <summary>The environment whose metrics endpoints (runbook.json "metrics") to read.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Environment")]
    [Parameter(ParameterSetName = "Uri")]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public override string? Environment { get; set; }

    /// <summary>Metrics URLs to read (Prometheus text or JSON).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Uri")]
    [ValidateNotNullOrEmpty]
    public Uri[]? Uri { get; set; }

    /// <summary>Only metrics whose names match (wildcards allowed).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Seconds to wait for each endpoint (default 10).</summary>
    [Parameter]
    [ValidateRange(0.1, 3600.0)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Accept any TLS certificate. For test endpoints only.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Prepares the scraper.</summary>
    protected override void BeginProcessing()
    {
        _scraper = new MetricScraper();
        _cancel = new CancellationTokenSource();
    }

    /// <summary>Reads each endpoint and writes its samples.</summary>
    protected override void ProcessRecord()
    {
        var endpoints = new List<(Uri uri, TimeSpan timeout)>();
        var environment = string.IsNullOrEmpty(Environment) ? null : Environment;
        if (ParameterSetName == "Uri")
        {
            endpoints.AddRange(Uri!.Select(u => (u, TimeSpan.FromSeconds(TimeoutSec))));
        }
        else
        {
            var env = ResolveEnvironment(EnvironmentNeed.Required)!;
            if (env.Metrics.Count == 0) WriteWarning($"environment '{env.Name}' lists no metrics endpoints (\"metrics\" in runbook.json)");
            try
            {
                endpoints.AddRange(env.Metrics.Select(m => (m.ExpandedUri(), m.Timeout ?? TimeSpan.FromSeconds(TimeoutSec))));
            }
            catch (Exception ex) when (ex is InvalidOperationException or UriFormatException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidConfiguration, ErrorCategory.InvalidData, Environment));
            }
        }
        foreach (var (uri, timeout) in endpoints)
        {
            try
            {
                var (samples, skipped) = _scraper!.ScrapeAsync(uri, environment, timeout, SkipCertificateCheck, _cancel!.Token).GetAwaiter().GetResult();
                WriteVerbose($"{uri}: {samples.Count} series");
                if (skipped.Count > 0)
                {
                    WriteWarning($"{uri}: {skipped.Count} line(s) skipped, the rest read: {skipped[0]}{(skipped.Count > 1 ? " …" : "")}");
                    foreach (var line in skipped) WriteVerbose($"{uri}: skipped {line}");
                }
                foreach (var s in samples.Where(s => NamePattern.MatchesAny(s.Name, Name))) WriteObject(s);
            }
            catch (MetricScrapeException ex)
            {
                WriteError(ErrorTable.Typed(ex, uri)!);
            }
        }
    }

    /// <summary>Releases the HTTP connections.</summary>
    protected override void EndProcessing() => _scraper?.Dispose();

    /// <summary>Ctrl+C stops reading.</summary>
    protected override void StopProcessing() => _cancel?.Cancel();
}
