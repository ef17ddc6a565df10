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
}

/// <summary>
/// Completes a TLS handshake only to read the server's certificate: expiry, chain validity (system trust or a private
/// CA) and host-name match, each reported rather than enforced, so an expired or wrong-host certificate is data.
/// </summary>
public static class TlsProbe
{
    /// <summary>Handshakes with host:port using <paramref name="host"/> as SNI.</summary>
    public static async Task<TlsCertificateInfo> ProbeAsync(string host, int port, string? caPath, CancellationToken cancellationToken)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        X509Certificate2? captured = null;
        var presented = new X509Certificate2Collection();
        var errors = SslPolicyErrors.None;
        var cas = caPath is null ? null : TlsValidation.LoadCaFile(caPath);
        await using var ssl = new SslStream(client.GetStream(), false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = host,
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
            bool chainValid;
            var problems = new List<string>();
            if (cas is not null)
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(cas);
                chain.ChainPolicy.ExtraStore.AddRange(presented);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chainValid = chain.Build(captured);
                problems.AddRange(chain.ChainStatus.Select(s => s.Status.ToString()));
            }
            else
            {
                chainValid = (errors & SslPolicyErrors.RemoteCertificateChainErrors) == 0;
                if (!chainValid) problems.Add("chain not trusted");
            }
            if (!nameMatches) problems.Add($"certificate is not for {host}");
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
            };
        }
    }

    private sealed class AuthenticationExceptionWithoutCertificate(string host)
        : System.Security.Authentication.AuthenticationException($"{host} presented no certificate");
}
