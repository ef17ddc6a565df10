using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>A private CA and a localhost server certificate made in memory; the CA is written to a PEM file for clients.</summary>
public sealed class TestCertificates : IDisposable
{
    /// <param name="dnsName">The name the server certificate is for.</param>
    /// <param name="leafNotAfterDays">Days from now until the server certificate expires (negative: already expired).</param>
    public TestCertificates(string dnsName = "localhost", int leafNotAfterDays = 29)
    {
        // One clock reading: the leaf must not outlive its issuer, even by the milliseconds between two reads.
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caReq = new CertificateRequest("CN=OpsRunbook Unit Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        Ca = caReq.CreateSelfSigned(now.AddDays(-60), now.AddDays(Math.Max(30, leafNotAfterDays + 30)));

        Server = Issue(dnsName, leafNotAfterDays);

        CaPath = Path.Combine(Path.GetTempPath(), $"opsrunbook-ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(CaPath, Ca.ExportCertificatePem());
    }

    /// <summary>
    /// A root, an intermediate that expires in <paramref name="intermediateDays"/>, and a localhost leaf signed by it
    /// that expires in <paramref name="leafDays"/> — later than its issuer, as a cross-signed intermediate can leave a
    /// chain (AddTrust, 2020). The server presents the intermediate; clients trust the root.
    /// </summary>
    public static (X509Certificate2 Leaf, X509Certificate2Collection Chain, string RootPath) ShortLivedIntermediate(int intermediateDays, int leafDays)
    {
        var now = DateTimeOffset.UtcNow;
        using var rootKey = RSA.Create(2048);
        var rootReq = new CertificateRequest("CN=OpsRunbook Test Root", rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        rootReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var root = rootReq.CreateSelfSigned(now.AddDays(-60), now.AddDays(365));
        using var interKey = RSA.Create(2048);
        var interReq = new CertificateRequest("CN=OpsRunbook Test Intermediate", interKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        interReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        interReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var intermediate = interReq.Create(root, now.AddDays(-30), now.AddDays(intermediateDays), [9, 8, 7, 6, 5, 4, 3, 2]);
        using var leafKey = RSA.Create(2048);
        var leafReq = ServerRequest("localhost", leafKey);
        // The issuer-name overload: the certificate-issuer overload refuses a leaf that outlives its issuer.
        using var signed = leafReq.Create(intermediate.SubjectName, X509SignatureGenerator.CreateForRSA(interKey, RSASignaturePadding.Pkcs1),
            now.AddDays(-1), now.AddDays(leafDays), [1, 3, 5, 7, 9, 11, 13, 15]);
        using var withKey = signed.CopyWithPrivateKey(leafKey);
        var leaf = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        var rootPath = Path.Combine(Path.GetTempPath(), $"opsrunbook-root-{Guid.NewGuid():N}.pem");
        File.WriteAllText(rootPath, root.ExportCertificatePem());
        return (leaf, [intermediate], rootPath);
    }

    /// <summary>A server certificate request for <paramref name="dnsName"/> (and 127.0.0.1 when localhost), for TLS servers.</summary>
    private static CertificateRequest ServerRequest(string dnsName, RSA key)
    {
        var req = new CertificateRequest("CN=" + dnsName, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        if (dnsName == "localhost") san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        return req;
    }

    /// <summary>Another server certificate from this CA: for <paramref name="dnsName"/> (and 127.0.0.1 when localhost), until <paramref name="notAfterDays"/> from now.</summary>
    public X509Certificate2 Issue(string dnsName, int notAfterDays)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = RSA.Create(2048);
        var req = ServerRequest(dnsName, key);
        using var signed = req.Create(Ca, now.AddDays(Math.Min(-1, notAfterDays - 10)), now.AddDays(notAfterDays), RandomNumberGenerator.GetBytes(8));
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A certificate that signs itself (no CA vouches for it), for <paramref name="dnsName"/>.</summary>
    public static X509Certificate2 SelfSigned(string dnsName, int notAfterDays)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = RSA.Create(2048);
        var req = ServerRequest(dnsName, key);
        using var cert = req.CreateSelfSigned(now.AddDays(-1), now.AddDays(notAfterDays));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public X509Certificate2 Ca { get; }
    public X509Certificate2 Server { get; }
    public string CaPath { get; }

    public void Dispose()
    {
        File.Delete(CaPath);
        Server.Dispose();
        Ca.Dispose();
    }
}
