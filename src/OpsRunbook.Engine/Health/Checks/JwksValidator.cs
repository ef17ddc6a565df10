using System.Text.Json;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>What a JWKS check found: problems fail it, ignored keys are only said.</summary>
/// <param name="Problems">What makes the set unusable or unsafe (empty when it is fine).</param>
/// <param name="Ignored">Keys a verifier would skip, and why (RFC 7517 §5); not a failure while a usable key remains.</param>
/// <param name="Keys">How many keys the set holds.</param>
/// <param name="KeyIds">The kids, in order (a kid may repeat: RFC 7517 §4.5).</param>
/// <param name="Algorithms">The alg members, in order.</param>
public sealed record JwksReport(IReadOnlyList<string> Problems, IReadOnlyList<string> Ignored, int Keys, IReadOnlyList<string> KeyIds, IReadOnlyList<string> Algorithms);

/// <summary>
/// Checks a JSON Web Key Set as a verifier reads it (RFC 7517 §5, RFC 7518): an object with a "keys" array holding at
/// least one key this check understands (RSA, EC, OKP) with its required public members, and no private key material,
/// which a public JWKS must never carry. Keys with a "kty" it does not understand, or missing required members, are
/// ignored as §5 says implementations SHOULD, and reported; a set is unusable only when no key is left. A "kid" may
/// repeat (§4.5: distinct kids are a SHOULD, e.g. the same key as RSA and as EC): never a failure.
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

    /// <summary>What the set holds and what is wrong with it.</summary>
    public static JwksReport Validate(string json)
    {
        var problems = new List<string>();
        var ignored = new List<string>();
        var kids = new List<string>();
        var algs = new List<string>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return new(new string[] { "the body is not JSON" }, ignored, 0, kids, algs);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
            {
                return new(new string[] { "not a JWKS: no \"keys\" array" }, ignored, 0, kids, algs);
            }
            var count = keys.GetArrayLength();
            if (count == 0) problems.Add("the key set is empty");
            var usable = 0;
            var i = 0;
            foreach (var key in keys.EnumerateArray())
            {
                var where = $"key {i++}";
                if (key.ValueKind != JsonValueKind.Object)
                {
                    ignored.Add($"{where} is not an object");
                    continue;
                }
                if (key.TryGetProperty("kid", out var kid) && kid.ValueKind == JsonValueKind.String) kids.Add(kid.GetString()!);
                if (key.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String) algs.Add(alg.GetString()!);
                // Private material is a leak whatever else is wrong with the key: never ignored.
                var kty = key.TryGetProperty("kty", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : null;
                var leaked = PrivateMembers.Where(m => key.TryGetProperty(m, out _)).ToList();
                if (kty == "oct" || leaked.Count > 0)
                {
                    problems.Add($"{where} exposes private key material ({(kty == "oct" ? "a symmetric key" : string.Join(", ", leaked))})");
                    continue;
                }
                if (kty is null || !Required.TryGetValue(kty, out var members))
                {
                    ignored.Add($"{where} has {(kty is null ? "no kty" : $"unknown kty '{kty}'")}");
                    continue;
                }
                var missing = members.Where(m => !key.TryGetProperty(m, out var v) || v.ValueKind != JsonValueKind.String || v.GetString()!.Length == 0).ToList();
                if (missing.Count > 0)
                {
                    ignored.Add($"{where} ({kty}) lacks {string.Join(", ", missing.Select(m => $"'{m}'"))}");
                    continue;
                }
                usable++;
            }
            if (count > 0 && usable == 0 && problems.Count == 0)
            {
                problems.Add($"no usable key: {string.Join("; ", ignored)}");
            }
            return new(problems, ignored, count, kids, algs);
        }
    }
}
