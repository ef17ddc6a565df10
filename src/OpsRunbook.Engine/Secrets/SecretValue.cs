using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Secrets;

/// <summary>
/// A setting that may hold a secret (a connection string, a token, a webhook URL): either a reference
/// (<c>env:</c>, <c>secret:aws:</c>, <c>vault:</c>), a template with <c>${VAR}</c> expansions, or a literal.
/// Its <see cref="Display"/> never contains a secret; the value only exists after <see cref="ResolveAsync"/>.
/// </summary>
public sealed partial class SecretValue
{
    private readonly string _raw;

    private SecretValue(string raw, SecretReference? reference)
    {
        _raw = raw;
        Reference = reference;
    }

    /// <summary>The reference, when the setting is one.</summary>
    public SecretReference? Reference { get; }

    /// <summary>True when the setting is a literal that holds a credential (a password in a URL or connection string).</summary>
    public bool IsPlaintextSecret => Reference is null && !EnvTemplate.HasVariables(_raw) && ContainsCredential(_raw);

    /// <summary>What may be shown: the reference or template as written, or the literal with credentials masked.</summary>
    public string Display => Reference?.Text ?? (EnvTemplate.HasVariables(_raw) ? _raw : Redact(_raw));

    /// <inheritdoc />
    public override string ToString() => Display;

    /// <summary>Wraps a configuration or parameter value; a string that starts like a reference must be a valid one.</summary>
    public static SecretValue Parse(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (SecretReference.LooksLikeReference(raw))
        {
            return new SecretValue(raw, SecretReference.Parse(raw));
        }
        return new SecretValue(raw, null);
    }

    /// <summary>Resolves the value. Callers must register it with a <see cref="SecretRedactor"/> before it can reach any text.</summary>
    public async ValueTask<string> ResolveAsync(ISecretResolver resolver, CancellationToken cancellationToken)
    {
        if (Reference is not null)
        {
            return await resolver.ResolveAsync(Reference, cancellationToken).ConfigureAwait(false);
        }
        return EnvTemplate.Expand(_raw);
    }

    /// <summary>True when the text carries a password: <c>scheme://user:pw@</c>, <c>scheme://:pw@</c> or a <c>Password=</c> pair.</summary>
    public static bool ContainsCredential(string text) => UrlPassword().IsMatch(text) || KeyValuePassword().IsMatch(text);

    /// <summary>Masks every credential in <paramref name="text"/>: URL passwords and <c>Password=</c> pairs.</summary>
    public static string Redact(string text)
    {
        var masked = UrlPassword().Replace(text, m => m.Groups["pre"].Value + "***@");
        return KeyValuePassword().Replace(masked, m => m.Groups["key"].Value + "=***");
    }

    [GeneratedRegex(@"(?<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(?<key>(?i:password|pwd))\s*=\s*(""[^""]*""|'[^']*'|[^;]*)")]
    private static partial Regex KeyValuePassword();
}
