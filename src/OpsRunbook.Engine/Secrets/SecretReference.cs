namespace OpsRunbook.Engine.Secrets;

/// <summary>Where a secret comes from. Secrets are referenced in configuration, never written into it.</summary>
public enum SecretScheme
{
    /// <summary><c>env:NAME</c> — an environment variable of the current process.</summary>
    Environment,
    /// <summary><c>secret:aws:ID[#jsonKey]</c> — AWS Secrets Manager (AWSCURRENT), optionally one key of a JSON secret.</summary>
    AwsSecretsManager,
    /// <summary><c>vault:VAULT/NAME</c> — a PowerShell SecretManagement vault, resolved by the PowerShell layer.</summary>
    Vault,
}

/// <summary>A parsed secret reference such as <c>env:DATABASE_URL</c>. Its text is safe to show; its value is not.</summary>
public sealed record SecretReference(SecretScheme Scheme, string Id, string? Key, string Vault)
{
    /// <summary>The reference as written, e.g. <c>secret:aws:prod/db#password</c>.</summary>
    public string Text => Scheme switch
    {
        SecretScheme.Environment => "env:" + Id,
        SecretScheme.AwsSecretsManager => "secret:aws:" + Id + (Key is null ? "" : "#" + Key),
        _ => "vault:" + Vault + "/" + Id,
    };

    /// <inheritdoc />
    public override string ToString() => Text;

    /// <summary>True when <paramref name="text"/> starts with one of the reference prefixes.</summary>
    public static bool LooksLikeReference(string? text) =>
        text is not null && (text.StartsWith("env:", StringComparison.Ordinal)
            || text.StartsWith("secret:", StringComparison.Ordinal)
            || text.StartsWith("vault:", StringComparison.Ordinal));

    /// <summary>Parses a reference; <paramref name="error"/> says what to fix when it is malformed.</summary>
    public static bool TryParse(string? text, out SecretReference? reference, out string? error)
    {
        reference = null;
        error = null;
        if (text is null || !LooksLikeReference(text))
        {
            error = "a secret reference starts with env:, secret:aws: or vault:";
            return false;
        }
        if (text.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = text[4..];
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                error = $"'{text}' is not a valid env: reference; write env:NAME with letters, digits and _ only";
                return false;
            }
            reference = new SecretReference(SecretScheme.Environment, name, null, "");
            return true;
        }
        if (text.StartsWith("secret:", StringComparison.Ordinal))
        {
            if (!text.StartsWith("secret:aws:", StringComparison.Ordinal))
            {
                error = $"'{text}' names an unknown secret store; the supported one is secret:aws:ID[#key]";
                return false;
            }
            var rest = text["secret:aws:".Length..];
            var hash = rest.IndexOf('#');
            var id = hash < 0 ? rest : rest[..hash];
            var key = hash < 0 ? null : rest[(hash + 1)..];
            if (id.Length == 0 || (key is not null && key.Length == 0))
            {
                error = $"'{text}' is incomplete; write secret:aws:SECRET_ID or secret:aws:SECRET_ID#jsonKey";
                return false;
            }
            reference = new SecretReference(SecretScheme.AwsSecretsManager, id, key, "");
            return true;
        }
        var body = text["vault:".Length..];
        var slash = body.IndexOf('/');
        if (slash <= 0 || slash == body.Length - 1)
        {
            error = $"'{text}' is incomplete; write vault:VAULT_NAME/SECRET_NAME";
            return false;
        }
        reference = new SecretReference(SecretScheme.Vault, body[(slash + 1)..], null, body[..slash]);
        return true;
    }

    /// <summary>Parses a reference or throws <see cref="ArgumentException"/> saying what to fix.</summary>
    public static SecretReference Parse(string text) =>
        TryParse(text, out var r, out var e) ? r! : throw new ArgumentException(e);
}
