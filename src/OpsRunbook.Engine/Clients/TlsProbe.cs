using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;

namespace OpsRunbook.Engine.Clients;

/// <summary>What a TLS handshake showed about a server's certificate.</summary>
public sealed record TlsCertificateInfo(
    string Subject,
    string Issuer,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    bool ChainValid,
    bool HostNameMatches,
    string Problems)
{
    /// <summary>Time left until the certificate expires (negative once expired).</summary>
    public TimeSpan ExpiresIn(DateTimeOffset now) => NotAfter - now;
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
        var errors = SslPolicyErrors.None;
        var cas = caPath is null ? null : TlsValidation.LoadCaFile(caPath);
        await using var ssl = new SslStream(client.GetStream(), false);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = host,
            RemoteCertificateValidationCallback = (_, certificate, _, policy) =>
            {
                if (certificate is not null) captured = new X509Certificate2(certificate);
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
            return new TlsCertificateInfo(captured.Subject, captured.Issuer, captured.NotBefore.ToUniversalTime(), captured.NotAfter.ToUniversalTime(),
                chainValid, nameMatches, string.Join(", ", problems.Distinct()));
        }
    }

    private sealed class AuthenticationExceptionWithoutCertificate(string host)
        : System.Security.Authentication.AuthenticationException($"{host} presented no certificate");
}
