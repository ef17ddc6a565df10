using System.Globalization;
using OpsRunbook.Engine.Clients;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Health;

/// <summary>
/// A server's TLS certificate as a client sees it (runbook 002's certificate checks, the renewals): the whole chain,
/// subject and names, issuer, the days until the first certificate of the chain expires, whether it is for the name
/// asked and whether the chain is trusted (with the reasons). A server that cannot be reached or refuses the handshake
/// is a result with <see cref="Error"/>, never an exception.
/// </summary>
public sealed class EndpointCertificate : IReportable, IMetricSource
{
    /// <summary>What was asked: the target's name (from runbook.json) or host:port.</summary>
    public required string Name { get; init; }
    /// <summary>The host (also the name the certificate must be for, unless <see cref="ServerName"/> says otherwise).</summary>
    public required string Host { get; init; }
    /// <summary>The port.</summary>
    public int Port { get; init; } = 443;
    /// <summary>The name sent as SNI and matched against the certificate.</summary>
    public required string ServerName { get; init; }
    /// <summary>The environment, if the target came from runbook.json.</summary>
    public string? Environment { get; init; }
    /// <summary>
    /// Unhealthy when expired, not yet valid, not for this name, untrusted or unreachable, or when fewer than 7 days
    /// are left; Degraded when fewer than 30 (the default renewal windows; Test-MetricThreshold applies an
    /// environment's own); else Healthy.
    /// </summary>
    public HealthStatus Status { get; init; }
    /// <summary>Why, in words.</summary>
    public required string Reason { get; init; }
    /// <summary>The leaf's subject.</summary>
    public string? Subject { get; init; }
    /// <summary>The leaf's DNS names and IP addresses.</summary>
    public IReadOnlyList<string> SubjectAlternativeNames { get; init; } = [];
    /// <summary>The leaf's issuer.</summary>
    public string? Issuer { get; init; }
    /// <summary>The leaf's start of validity.</summary>
    public DateTimeOffset? NotBefore { get; init; }
    /// <summary>The leaf's end of validity.</summary>
    public DateTimeOffset? NotAfter { get; init; }
    /// <summary>When the first certificate of the presented chain expires (an intermediate can expire before the leaf).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>The subject of that certificate.</summary>
    public string? ExpiresFirst { get; init; }
    /// <summary>Days until <see cref="ExpiresAt"/> (negative once expired), to one decimal.</summary>
    public double? DaysRemaining { get; init; }
    /// <summary>Whether the certificate is for <see cref="ServerName"/>.</summary>
    public bool? HostNameMatches { get; init; }
    /// <summary>Whether the chain leads to a trusted root (the system's, or the private CA given).</summary>
    public bool? ChainValid { get; init; }
    /// <summary>Why the chain is not trusted, one reason per problem.</summary>
    public IReadOnlyList<string> ChainProblems { get; init; } = [];
    /// <summary>The chain, leaf first.</summary>
    public IReadOnlyList<ChainCertificate> Chain { get; init; } = [];
    /// <summary>The TLS version negotiated.</summary>
    public string? Protocol { get; init; }
    /// <summary>Why the certificate could not be read (refused, timed out, no TLS), else null.</summary>
    public string? Error { get; init; }
    /// <summary>When it was read.</summary>
    public DateTimeOffset CheckedAt { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Status} {Name}: {Reason}";

    /// <summary>The days remaining as a metric sample, for Test-MetricThreshold (warning 30, critical 7 by default).</summary>
    public IEnumerable<MetricObservation> Observations()
    {
        if (DaysRemaining is { } days) yield return new MetricObservation(WellKnownMetrics.CertificateDaysRemaining, Name, days, Environment, CheckedAt);
    }

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Status switch { HealthStatus.Healthy => ReportOutcome.Pass, HealthStatus.Degraded => ReportOutcome.Warn, _ => ReportOutcome.Fail };
        yield return new ReportRow("Certificates", Name, outcome, Status.ToString(), Environment, Reason,
            new KeyValuePair<string, string>[]
            {
                new("Days", DaysRemaining?.ToString("0.0", CultureInfo.InvariantCulture) ?? ""),
                new("Expires", ExpiresAt?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? ""),
                new("Subject", Subject ?? ""),
                new("Issuer", Issuer ?? ""),
            },
            CheckedAt);
    }

    /// <summary>host, host:port, [v6]:port, https:// or tls:// URL (port 443 unless given); null when it is none of them.</summary>
    public static (string Name, string Host, int Port)? ParseServer(string text)
    {
        var value = text.Trim();
        if (value.Length == 0) return null;
        if (!value.Contains("://", StringComparison.Ordinal)) value = "tls://" + value;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) || uri.Scheme is not ("https" or "tls")) return null;
        return (text.Trim(), uri.IdnHost, uri.Port > 0 ? uri.Port : 443);
    }

    /// <summary>
    /// Reads the certificate of host:port (SNI <paramref name="serverName"/>, default the host), with the system's trust
    /// or only <paramref name="caPath"/>'s CA; failures become a result with <see cref="Error"/>.
    /// </summary>
    public static async Task<EndpointCertificate> ReadAsync(string name, string host, int port, string? serverName, string? caPath, string? environment,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var sni = string.IsNullOrEmpty(serverName) ? host : serverName;
        var now = DateTimeOffset.UtcNow;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        TlsCertificateInfo info;
        try
        {
            info = await TlsProbe.ProbeAsync(host, port, caPath, limit.Token, sni).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException && !cancellationToken.IsCancellationRequested)
        {
            var why = ex is OperationCanceledException ? $"no TLS handshake within {timeout.TotalSeconds:0.#} s" : FailureDescriber.Describe(ex, $"{host}:{port}");
            return new EndpointCertificate
            {
                Name = name, Host = host, Port = port, ServerName = sni, Environment = environment, Status = HealthStatus.Unhealthy,
                Reason = $"cannot read the certificate of {host}:{port}: {why}", Error = why, CheckedAt = now,
            };
        }
        var days = Math.Floor((info.FirstExpiry - now).TotalDays * 10) / 10;
        var problems = new List<string>();
        if (info.FirstExpiry <= now) problems.Add(info.LeafExpiresFirst ? $"expired {info.FirstExpiry:yyyy-MM-dd}" : $"{info.FirstExpiring} in its chain expired {info.FirstExpiry:yyyy-MM-dd}");
        if (info.NotBefore > now) problems.Add($"not valid before {info.NotBefore:yyyy-MM-dd HH:mm} UTC");
        if (!info.HostNameMatches) problems.Add($"not for {sni} (it is for {(info.SubjectAlternativeNames.Count > 0 ? string.Join(", ", info.SubjectAlternativeNames) : info.Subject)})");
        if (!info.ChainValid) problems.Add($"untrusted chain: {string.Join("; ", info.ChainProblems)}");
        var expiry = info.LeafExpiresFirst ? $"expires {info.FirstExpiry:yyyy-MM-dd}" : $"{info.FirstExpiring} in its chain expires {info.FirstExpiry:yyyy-MM-dd}, before the leaf";
        var window = ThresholdProfile.Universal[WellKnownMetrics.CertificateDaysRemaining].Classify(days);
        var status = problems.Count > 0 || window == AlertSeverity.Critical ? HealthStatus.Unhealthy : window == AlertSeverity.Warning ? HealthStatus.Degraded : HealthStatus.Healthy;
        var renew = window == AlertSeverity.Normal ? "" : $"renew: {days:0.#} days left; ";
        return new EndpointCertificate
        {
            Name = name, Host = host, Port = port, ServerName = sni, Environment = environment,
            Status = status,
            Reason = problems.Count == 0 ? $"{renew}{info.Subject}, {expiry} ({days:0.#} days), trusted, for {sni}" : string.Join("; ", problems),
            Subject = info.Subject, SubjectAlternativeNames = info.SubjectAlternativeNames, Issuer = info.Issuer, NotBefore = info.NotBefore, NotAfter = info.NotAfter,
            ExpiresAt = info.FirstExpiry, ExpiresFirst = info.FirstExpiring, DaysRemaining = days, HostNameMatches = info.HostNameMatches,
            ChainValid = info.ChainValid, ChainProblems = info.ChainProblems, Chain = info.Chain, Protocol = info.Protocol, CheckedAt = now,
        };
    }
}
