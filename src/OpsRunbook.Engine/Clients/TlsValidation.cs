using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace OpsRunbook.Engine.Clients;

/// <summary>Certificate validation shared by the HTTP, Redis and other TLS clients: system trust, a private CA, or none.</summary>
public static class TlsValidation
{
    /// <summary>
    /// A validation callback: accept everything when <paramref name="skip"/>; otherwise, with <paramref name="caPath"/>,
    /// build the chain against that CA only (name mismatch still fails); otherwise the system's verdict.
    /// </summary>
    public static RemoteCertificateValidationCallback Callback(bool skip, string? caPath)
    {
        if (skip) return static (_, _, _, _) => true;
        if (caPath is null) return static (_, _, _, errors) => errors == SslPolicyErrors.None;
        var cas = LoadCaFile(caPath);
        return (_, certificate, chain, errors) => ValidateWithCa(certificate, errors, cas, chain?.ChainPolicy.ExtraStore);
    }

    /// <summary>Reads every certificate of a PEM bundle; says which file is wrong when it cannot.</summary>
    public static X509Certificate2Collection LoadCaFile(string path)
    {
        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPemFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentException($"cannot read the CA certificate file '{path}': {ex.Message}", ex);
        }
        return cas.Count > 0 ? cas : throw new ArgumentException($"the CA certificate file '{path}' holds no PEM certificate");
    }

    /// <summary>
    /// Checks a server certificate against a private CA, through the intermediates the server presented
    /// (<paramref name="presented"/>, the handshake chain's extra store): a private PKI issues from an intermediate, and
    /// without them the chain stops short of the root.
    /// </summary>
    public static bool ValidateWithCa(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection cas, X509Certificate2Collection? presented = null)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        if (presented is not null) chain.ChainPolicy.ExtraStore.AddRange(presented);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
