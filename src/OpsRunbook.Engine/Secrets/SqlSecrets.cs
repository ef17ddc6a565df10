using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Secrets;

/// <summary>
/// Removes secrets from SQL text the module shows (pg_stat_activity, pg_stat_statements, lock reports): PostgreSQL keeps
/// utility statements verbatim, so <c>CREATE ROLE app PASSWORD '…'</c> and <c>ALTER ROLE … PASSWORD 'SCRAM-SHA-256$…'</c>
/// (what a rotation writes) would otherwise be printed as they were sent.
/// </summary>
public static partial class SqlSecrets
{
    /// <summary>The text with password literals, SCRAM/MD5 verifiers, password= settings and URL passwords masked.</summary>
    public static string? Scrub(string? sql)
    {
        if (string.IsNullOrEmpty(sql)) return sql;
        var s = PasswordLiteral().Replace(sql, m => m.Groups[1].Value + "'" + SecretRedactor.Mask + "'");
        s = ScramVerifier().Replace(s, "SCRAM-SHA-256$" + SecretRedactor.Mask);
        s = Md5Verifier().Replace(s, "md5" + SecretRedactor.Mask);
        s = PasswordSetting().Replace(s, m => m.Groups[1].Value + SecretRedactor.Mask);
        return UrlPassword().Replace(s, m => m.Groups[1].Value + SecretRedactor.Mask + "@");
    }

    // CREATE/ALTER ROLE|USER ... [ENCRYPTED] PASSWORD 'literal' (also E'...' strings, with '' inside)
    [GeneratedRegex(@"(?i)\b(PASSWORD\s+)(?:E'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*')")]
    private static partial Regex PasswordLiteral();

    // SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>, wherever it appears
    [GeneratedRegex(@"SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+")]
    private static partial Regex ScramVerifier();

    [GeneratedRegex(@"\bmd5[0-9a-f]{32}\b")]
    private static partial Regex Md5Verifier();

    // password=secret or password='secret' in libpq connection strings (dblink, postgres_fdw user mappings)
    [GeneratedRegex(@"(?i)\b(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|(?!\$[0-9])[^\s')]+)")]
    private static partial Regex PasswordSetting();

    // scheme://user:password@host
    [GeneratedRegex(@"([a-z][a-z0-9+.-]*://[^:/@\s']+:)[^@\s']+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlPassword();
}
