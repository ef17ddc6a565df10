using System.Security.Cryptography;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>How new secret values are generated.</summary>
public sealed record PasswordPolicy
{
    /// <summary>Letters and digits plus <c>-_.~</c>: the RFC 3986 unreserved set, safe unescaped inside any connection URL.</summary>
    public const string UrlSafeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";

    /// <summary>Length in characters (default 32, about 194 bits with the default alphabet).</summary>
    public int Length { get; init; } = 32;

    /// <summary>Characters never used (in addition to those outside the alphabet).</summary>
    public string ExcludeCharacters { get; init; } = "";

    /// <summary>Use the printable ASCII punctuation too (not URL safe: values must then be escaped in URLs).</summary>
    public bool IncludePunctuation { get; init; }

    /// <summary>The characters a value is drawn from.</summary>
    public string Alphabet
    {
        get
        {
            var baseSet = IncludePunctuation ? UrlSafeAlphabet + "!#$%&()*+,/:;<=>?@[]^{|}" : UrlSafeAlphabet;
            return new string(baseSet.Where(c => !ExcludeCharacters.Contains(c, StringComparison.Ordinal)).Distinct().ToArray());
        }
    }

    /// <summary>Throws with what to fix when the policy cannot produce a strong value.</summary>
    public void Validate()
    {
        if (Length is < 16 or > 4096) throw new ArgumentException($"a generated secret must be 16 to 4096 characters long; {Length} was asked for");
        if (Alphabet.Length < 16) throw new ArgumentException($"ExcludeCharacters leaves only {Alphabet.Length} characters to choose from; leave at least 16");
    }
}

/// <summary>Values from the operating system's CSPRNG, uniform over the policy's alphabet (no modulo bias).</summary>
public static class PasswordGenerator
{
    /// <summary>A new value.</summary>
    public static string Generate(PasswordPolicy? policy = null)
    {
        policy ??= new PasswordPolicy();
        policy.Validate();
        var alphabet = policy.Alphabet;
        // Require at least one letter and one digit when the alphabet has both: some services insist on it.
        while (true)
        {
            var value = RandomNumberGenerator.GetString(alphabet, policy.Length);
            var needLetter = alphabet.Any(char.IsLetter);
            var needDigit = alphabet.Any(char.IsDigit);
            if ((!needLetter || value.Any(char.IsLetter)) && (!needDigit || value.Any(char.IsDigit))) return value;
        }
    }
}
