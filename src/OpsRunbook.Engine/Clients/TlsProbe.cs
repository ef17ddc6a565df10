using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace OpsRunbook.Engine.Clients;

/// <summary>
/// What a TLS handshake showed about a server's certificate. <see cref="NotAfter"/> is the leaf's;
/// <see cref="FirstExpiry"/> and <see cref="FirstExpiring"/> are the earliest of every certificate the server presented
/// (leaf and intermediates): clients fail when any of them expires, as the AddTrust cross-signed intermediate showed in
/// 2020, while the leaf had months left.
/// </summary>
public sealed record TlsCertificateInfo(
    string Subject,
    string Issuer,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    bool ChainValid,
    bool HostNameMatches,
    string Problems)
{
    /// <summary>The earliest NotAfter in the presented chain (the leaf's when it presented only the leaf).</summary>
    public DateTimeOffset FirstExpiry { get; init; } = NotAfter;

    /// <summary>The subject of the certificate that expires first.</summary>
    public string FirstExpiring { get; init; } = Subject;

    /// <summary>Whether the certificate that expires first is the leaf.</summary>
    public bool LeafExpiresFirst => FirstExpiring == Subject && FirstExpiry == NotAfter;

    /// <summary>Time left until the first certificate of the presented chain expires (negative once expired).</summary>
    public TimeSpan ExpiresIn(DateTimeOffset now) => FirstExpiry - now;

    /// <summary>The leaf's subject alternative names (DNS names and IP addresses).</summary>
    public IReadOnlyList<string> SubjectAlternativeNames { get; init; } = [];

    /// <summary>The chain, leaf first: as built from what the server sent (and the trust store), else as sent.</summary>
    public IReadOnlyList<ChainCertificate> Chain { get; init; } = [];

    /// <summary>Why the chain is not valid, one reason per problem (the platform's words); empty when it is.</summary>
    public IReadOnlyList<string> ChainProblems { get; init; } = [];

    /// <summary>The TLS version negotiated.</summary>
    public string? Protocol { get; init; }
}

/// <summary>One certificate of a server's chain.</summary>
public sealed record ChainCertificate(string Subject, string Issuer, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Thumbprint, bool IsSelfSigned, bool IsCertificateAuthority)
{
    /// <summary>The certificate's facts.</summary>
    public static ChainCertificate Of(X509Certificate2 c) => new(c.Subject, c.Issuer, c.NotBefore.ToUniversalTime(), c.NotAfter.ToUniversalTime(),
        c.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), c.SubjectName.RawData.AsSpan().SequenceEqual(c.IssuerName.RawData),
        c.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority));

    /// <inheritdoc />
    public override string ToString() => $"{Subject} (until {NotAfter:yyyy-MM-dd})";
}

/// <summary>
/// Completes a TLS handshake only to read the server's certificate: expiry, chain validity (system trust or a private
/// CA) and host-name match, each reported rather than enforced, so an expired or wrong-host certificate is data.
/// </summary>
public static class TlsProbe
{
    /// <summary>Handshakes with host:port using <paramref name="serverName"/> (default <paramref name="host"/>) as SNI and the name to match.</summary>
    public static async Task<TlsCertificateInfo> ProbeAsync(string host, int port, string? caPath, CancellationToken cancellationToken, string? serverName = null)
    {
        var sni = string.IsNullOrEmpty(serverName) ? host : serverName;
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        X509Certificate2? captured = null;
        var presented = new X509Certificate2Collection();
        var errors = SslPolicyErrors.None;
        var cas = caPath is null ? null : TlsValidation.LoadCaFile(caPath);
        await using var ssl = new SslStream(client.GetStream(), false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = sni,
            RemoteCertificateValidationCallback = (_, certificate, chain, policy) =>
            {
                if (certificate is not null) captured = new X509Certificate2(certificate);
                // What the server sent besides the leaf (its intermediates) is the chain policy's extra store.
                foreach (var sent in chain?.ChainPolicy.ExtraStore ?? []) presented.Add(new X509Certificate2(sent));
                errors = policy;
                return true; // inspect, do not enforce
            },
        }, cancellationToken).ConfigureAwait(false);
        if (captured is null) throw new AuthenticationExceptionWithoutCertificate(host);
        using (captured)
        {
            var nameMatches = (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0;
            var problems = new List<string>();
            var reasons = new List<string>();
            // The chain as the platform builds it from what the server sent: the system's trust, or only the private CA.
            using var chain = new X509Chain();
            chain.ChainPolicy.ExtraStore.AddRange(presented);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (cas is not null)
            {
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(cas);
            }
            var built = chain.Build(captured);
            var chainValid = cas is not null ? built : (errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0;
            if (cas is not null) problems.AddRange(chain.ChainStatus.Select(s => s.Status.ToString()));
            else if (!chainValid) problems.Add("chain not trusted");
            if (!chainValid)
            {
                reasons.AddRange(chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.NoError)
                    .Select(s => string.IsNullOrWhiteSpace(s.StatusInformation) ? s.Status.ToString() : $"{s.Status}: {s.StatusInformation.Trim()}"));
                if (reasons.Count == 0) reasons.Add("the chain does not lead to a trusted root");
            }
            var chainList = chain.ChainElements.Count > 0
                ? chain.ChainElements.Select(e => ChainCertificate.Of(e.Certificate)).ToList()
                : [ChainCertificate.Of(captured), .. presented.Select(ChainCertificate.Of)];
            var sans = new List<string>();
            foreach (var extension in captured.Extensions.OfType<X509SubjectAlternativeNameExtension>())
            {
                sans.AddRange(extension.EnumerateDnsNames());
                sans.AddRange(extension.EnumerateIPAddresses().Select(a => a.ToString()));
            }
            if (!nameMatches) problems.Add($"certificate is not for {sni}");
            var leafNotAfter = captured.NotAfter.ToUniversalTime();
            var first = presented.Select(p => (p.Subject, NotAfter: new DateTimeOffset(p.NotAfter.ToUniversalTime())))
                .Where(p => p.NotAfter < leafNotAfter).OrderBy(p => p.NotAfter).Select(p => ((string, DateTimeOffset)?)p).FirstOrDefault()
                ?? (captured.Subject, leafNotAfter);
            foreach (var p in presented) p.Dispose();
            return new TlsCertificateInfo(captured.Subject, captured.Issuer, captured.NotBefore.ToUniversalTime(), leafNotAfter,
                chainValid, nameMatches, string.Join(", ", problems.Distinct()))
            {
                FirstExpiry = first.Item2,
                FirstExpiring = first.Item1,
                SubjectAlternativeNames = sans,
                Chain = chainList,
                ChainProblems = reasons.Distinct().ToList(),
                Protocol = ssl.SslProtocol.ToString(),
            };
        }
    }

    private sealed class AuthenticationExceptionWithoutCertificate(string host)
        : System.Security.Authentication.AuthenticationException($"{host} presented no certificate");
}
