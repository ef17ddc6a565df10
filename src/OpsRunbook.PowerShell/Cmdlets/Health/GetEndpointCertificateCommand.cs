using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Reads the TLS certificates of URLs, hosts or an environment's HTTPS endpoints: the chain, names, issuer, days left, name match and trust.
/// </summary>
/// <remarks>
/// Get-EndpointCertificate completes a TLS handshake with each server only to read its certificate (nothing is
/// requested), as runbook 002's certificate checks and the renewal routines do by hand with openssl s_client. It
/// returns one EndpointCertificate per server: the leaf's subject, subject alternative names and issuer, the whole
/// chain leaf first, DaysRemaining until the first certificate of the chain expires (an intermediate can expire before
/// the leaf), whether the certificate is for the name asked (SNI, -ServerName to override) and whether the chain is
/// trusted, with the platform's reasons. Status is Unhealthy when it is expired, not yet valid, for another name or
/// untrusted; a server that refuses, times out or speaks no TLS is a result with Error, never an exception.
/// Pipe the results to Test-MetricThreshold for the renewal windows: certificate_days_remaining warns at 30 days and is
/// critical at 7 unless the environment's thresholds say otherwise. -Environment reads every https:// endpoint of the
/// environment in runbook.json (with its caCertificate, if it names one).
/// </remarks>
/// <example>
/// <code>Get-EndpointCertificate https://paintbox.fly.dev</code>
/// <para>The certificate of one site: days left, names, issuer, chain.</para>
/// </example>
/// <example>
/// <code>Get-EndpointCertificate -Environment production | Test-MetricThreshold | Where-Object Severity -ne Normal</code>
/// <para>Every HTTPS endpoint of production that is due for renewal (30 days) or about to expire (7 days).</para>
/// </example>
/// <example>
/// <code>Get-EndpointCertificate -Environment production | Format-List Name, Subject, SubjectAlternativeNames, ExpiresAt, ExpiresFirst, ChainProblems</code>
/// <para>The details of each endpoint's certificate, including which certificate of the chain expires first.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "EndpointCertificate", DefaultParameterSetName = UriSet)]
[OutputType(typeof(EndpointCertificate))]
public sealed class GetEndpointCertificateCommand : EnvironmentCmdlet
{
    private const string UriSet = "Uri";
    private const string EnvironmentSet = "Environment";
    private readonly List<Task<EndpointCertificate>> _reads = [];
    private SemaphoreSlim? _throttle;

    /// <summary>Servers to read: https:// URLs, host names or host:port (port 443 by default), tls://host:port for other TLS services.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Uri { get; set; }

    /// <summary>The environment in runbook.json whose https:// endpoints to read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = EnvironmentSet)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public override string? Environment { get; set; }

    /// <summary>Only the environment's endpoints with these names (wildcards allowed).</summary>
    [Parameter(ParameterSetName = EnvironmentSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TargetNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>The name to send as SNI and to match the certificate against, when it is not the host's (a load balancer's address).</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>A PEM file of the private CA to trust instead of the system's store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CaCertificatePath { get; set; }

    /// <summary>Seconds each handshake may take (default 10).</summary>
    [Parameter]
    [ValidateRange(0.1, 600.0)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>How many servers are read at once (default 16).</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 16;

    /// <summary>Starts the throttle.</summary>
    protected override void BeginProcessing() => _throttle = new SemaphoreSlim(ThrottleLimit, ThrottleLimit);

    /// <summary>Starts reading this record's servers; writes those already read.</summary>
    protected override void ProcessRecord()
    {
        var ca = CaCertificatePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CaCertificatePath);
        if (ParameterSetName == EnvironmentSet)
        {
            var env = ResolveEnvironment(EnvironmentNeed.Required)!;
            IReadOnlyList<HealthCheckTarget> targets;
            try
            {
                targets = env.GetHealthCheckTargets(Name);
            }
            catch (RunbookConfigException ex)
            {
                ThrowTerminatingError(ConfigError(ex));
                return;
            }
            var https = targets.Where(t => t.Address.StartsWith("https://", StringComparison.OrdinalIgnoreCase)).ToList();
            if (https.Count == 0) WriteWarning($"environment '{env.Name}' has no https:// endpoint{(Name is null ? "" : " with those names")}");
            foreach (var t in https)
            {
                var uri = new System.Uri(t.Address);
                Start(t.Name, uri.IdnHost, uri.Port, null, ca ?? t.CaCertificatePath, env.Name);
            }
        }
        else
        {
            foreach (var text in Uri!)
            {
                if (EndpointCertificate.ParseServer(text) is not { } endpoint)
                {
                    WriteError(new ErrorRecord(new ArgumentException($"'{text}' is not a server to read: give https://host[:port][/path], host or host:port"),
                        ErrorIds.InvalidTarget, ErrorCategory.InvalidArgument, text));
                    continue;
                }
                Start(endpoint.Name, endpoint.Host, endpoint.Port, ServerName, ca, null);
            }
        }
        WriteFinished(wait: false);
    }

    /// <summary>Writes the rest as they finish.</summary>
    protected override void EndProcessing() => WriteFinished(wait: true);

    private void Start(string name, string host, int port, string? serverName, string? ca, string? environment)
    {
        WriteVerbose($"reading the certificate of {host}:{port}{(serverName is null ? "" : $" as {serverName}")}");
        var throttle = _throttle!;
        var timeout = TimeSpan.FromSeconds(TimeoutSec);
        var ct = Cancellation;
        _reads.Add(Task.Run(async () =>
        {
            await throttle.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return await EndpointCertificate.ReadAsync(name, host, port, serverName, ca, environment, timeout, ct).ConfigureAwait(false);
            }
            finally
            {
                throttle.Release();
            }
        }, ct));
    }

    /// <summary>Writes the reads that have finished, in the order they finished; with <paramref name="wait"/> until all have (or Ctrl+C).</summary>
    private void WriteFinished(bool wait)
    {
        while (_reads.Count > 0)
        {
            var done = _reads.FirstOrDefault(t => t.IsCompleted);
            if (done is null)
            {
                if (!wait) return;
                try
                {
                    Task.WhenAny(_reads).Wait(Cancellation);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            _reads.Remove(done);
            if (done.IsCanceled) continue;
            var certificate = done.GetAwaiter().GetResult();
            WriteVerbose(certificate.ToString());
            WriteObject(certificate);
        }
    }
}
