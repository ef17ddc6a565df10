using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// Checks an AWS Signature Version 4 Authorization header by recomputing it with the known secret key, independently of
/// the SDK (the algorithm of docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). The fakes that take
/// signed requests (Secrets Manager, STS AssumeRole) share it.
/// </summary>
public static class SigV4
{
    /// <summary>
    /// True when the request is signed by <paramref name="accessKey"/> for <paramref name="service"/> (any region when
    /// <paramref name="region"/> is null) and the signature matches; <paramref name="why"/> says what did not.
    /// </summary>
    public static bool Valid(HttpRequest r, string body, string accessKey, string secretKey, string service, string? region, IReadOnlyList<string> mustSign, out string why)
    {
        why = "";
        var auth = r.Headers.Authorization.ToString();
        const string prefix = "AWS4-HMAC-SHA256 ";
        if (!auth.StartsWith(prefix, StringComparison.Ordinal)) { why = "no SigV4 Authorization header"; return false; }
        var parts = auth[prefix.Length..].Split(',', StringSplitOptions.TrimEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var scope = parts["Credential"].Split('/');
        if (scope[0] != accessKey || (region is not null && scope[2] != region) || scope[3] != service || scope[4] != "aws4_request")
        {
            why = "bad credential scope " + parts["Credential"];
            return false;
        }
        var signed = parts["SignedHeaders"].Split(';');
        if (!mustSign.All(signed.Contains)) { why = string.Join(", ", mustSign) + " must be signed"; return false; }
        string Header(string name) => name == "host" ? r.Host.Value! : name == "content-type" ? r.ContentType! : r.Headers[name].ToString();
        var canonical = $"{r.Method}\n{r.Path.Value}\n{CanonicalQuery(r)}\n{string.Concat(signed.Select(h => $"{h}:{Header(h).Trim()}\n"))}\n{parts["SignedHeaders"]}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(body)))}";
        var amzDate = r.Headers["X-Amz-Date"].ToString();
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope[1]}/{scope[2]}/{scope[3]}/{scope[4]}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), scope[1]), scope[2]), scope[3]), "aws4_request");
        if (Hex(Hmac(key, toSign)) != parts["Signature"]) { why = "The request signature we calculated does not match the signature you provided."; return false; }
        return true;
    }

    private static string CanonicalQuery(HttpRequest r) => string.Join('&', r.Query
        .SelectMany(p => p.Value.Select(v => (Key: Uri.EscapeDataString(p.Key), Value: Uri.EscapeDataString(v ?? ""))))
        .OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
        .Select(p => $"{p.Key}={p.Value}"));

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
    private static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();
}
