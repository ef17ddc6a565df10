using System.Text.Json;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>
/// Checks a JSON Web Key Set (RFC 7517/7518): an object with a non-empty "keys" array; each key with a known "kty"
/// and its required public members; unique "kid"s; and no private key material, which a public JWKS must never carry.
/// </summary>
public static class JwksValidator
{
    private static readonly Dictionary<string, string[]> Required = new(StringComparer.Ordinal)
    {
        ["RSA"] = ["n", "e"],
        ["EC"] = ["crv", "x", "y"],
        ["OKP"] = ["crv", "x"],
        ["oct"] = ["k"],
    };

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth"];

    /// <summary>The problems found (empty when valid), the number of keys and their ids.</summary>
    public static (IReadOnlyList<string> problems, int keys, IReadOnlyList<string> kids, IReadOnlyList<string> algorithms) Validate(string json)
    {
        var problems = new List<string>();
        var kids = new List<string>();
        var algs = new List<string>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return (["the body is not JSON"], 0, kids, algs);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
            {
                return (["not a JWKS: no \"keys\" array"], 0, kids, algs);
            }
            var count = keys.GetArrayLength();
            if (count == 0) problems.Add("the key set is empty");
            var i = 0;
            foreach (var key in keys.EnumerateArray())
            {
                var where = $"key {i++}";
                if (key.ValueKind != JsonValueKind.Object)
                {
                    problems.Add($"{where} is not an object");
                    continue;
                }
                var kty = key.TryGetProperty("kty", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : null;
                if (kty is null || !Required.TryGetValue(kty, out var members))
                {
                    problems.Add($"{where} has {(kty is null ? "no kty" : $"unknown kty '{kty}'")}");
                    continue;
                }
                foreach (var m in members.Where(m => !key.TryGetProperty(m, out var v) || v.ValueKind != JsonValueKind.String || v.GetString()!.Length == 0))
                {
                    problems.Add($"{where} ({kty}) lacks '{m}'");
                }
                var leaked = PrivateMembers.Where(m => key.TryGetProperty(m, out _)).ToList();
                if (kty == "oct" || leaked.Count > 0)
                {
                    problems.Add($"{where} exposes private key material ({(kty == "oct" ? "a symmetric key" : string.Join(", ", leaked))})");
                }
                if (key.TryGetProperty("kid", out var kid) && kid.ValueKind == JsonValueKind.String)
                {
                    if (kids.Contains(kid.GetString()!)) problems.Add($"{where} repeats kid '{kid.GetString()}'");
                    kids.Add(kid.GetString()!);
                }
                if (key.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String) algs.Add(alg.GetString()!);
            }
            return (problems, count, kids, algs);
        }
    }
}
