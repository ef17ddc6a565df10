using System.Text;

namespace OpsRunbook.Engine.Secrets;

/// <summary><c>${NAME}</c> and <c>${NAME:-default}</c> expansion from environment variables, as Docker Compose does.</summary>
public static partial class EnvTemplate
{
    /// <summary>True when <paramref name="text"/> contains at least one <c>${...}</c>.</summary>
    public static bool HasVariables(string text) => text.Contains("${", StringComparison.Ordinal);

    /// <summary>The text with each variable replaced by its default, or by <c>x</c> without one: enough to see its shape (scheme, host) without reading the environment.</summary>
    public static string Sketch(string text) => Expand(text, _ => null, "x");

    /// <summary>One variable read from the environment while expanding: its name, value, and where the value starts in the result.</summary>
    public sealed record Substitution(string Name, string Value, int Index);

    /// <summary>
    /// Expands every <c>${NAME}</c>; an unset variable without a default is an error that names it. Each value read from
    /// the environment (not a default) is added to <paramref name="substituted"/>.
    /// </summary>
    public static string Expand(string text, Func<string, string?>? lookup = null, string? fallback = null, ICollection<Substitution>? substituted = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        if (!HasVariables(text))
        {
            return text;
        }
        var sb = new StringBuilder(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var start = text.IndexOf("${", i, StringComparison.Ordinal);
            if (start < 0)
            {
                sb.Append(text, i, text.Length - i);
                break;
            }
            sb.Append(text, i, start - i);
            var end = text.IndexOf('}', start + 2);
            if (end < 0)
            {
                throw new FormatException($"'${{' at position {start + 1} has no closing '}}'");
            }
            var inner = text.Substring(start + 2, end - start - 2);
            var dflt = inner.IndexOf(":-", StringComparison.Ordinal);
            var name = dflt < 0 ? inner : inner[..dflt];
            var value = lookup(name);
            if (!string.IsNullOrEmpty(value)) substituted?.Add(new Substitution(name, value, sb.Length));
            if (string.IsNullOrEmpty(value))
            {
                value = dflt < 0
                    ? fallback ?? throw new InvalidOperationException($"environment variable {name} is not set (used as ${{{name}}}); set it or write ${{{name}:-default}}")
                    : inner[(dflt + 2)..];
            }
            sb.Append(value);
            i = end + 1;
        }
        return sb.ToString();
    }

    /// <summary>
    /// Expands a URL and says which of its variables are secrets, and how to show it without them: a value that lands
    /// in the query, the fragment or the user-info part (?token=${T}, https://${USER}:${PASS}@host), or whose variable's
    /// name says it is one (TOKEN, SECRET, KEY, PASS, PWD, AUTH, CRED, SIG, COOKIE, SESSION: /hooks/${SLACK_TOKEN}).
    /// A host or base URL in a variable (${APP_URL}/health) stays visible, so failures still say where.
    /// </summary>
    public static (string Url, string Display, IReadOnlyList<string> Secrets) ExpandUrl(string template, Func<string, string?>? lookup = null)
    {
        var substitutions = new List<Substitution>();
        var url = Expand(template, lookup, substituted: substitutions);
        if (substitutions.Count == 0) return (url, url, []);
        var query = url.IndexOfAny(['?', '#']);
        var authority = url.IndexOf("://", StringComparison.Ordinal) is var s and >= 0 ? s + 3 : -1;
        var at = authority < 0 ? -1 : url.IndexOf('@', authority);
        var pathStart = authority < 0 ? -1 : url.IndexOf('/', authority);
        bool InUserInfo(int index) => at >= 0 && index >= authority && index < at && (pathStart < 0 || at < pathStart);
        var secret = substitutions.Where(v => (query >= 0 && v.Index >= query) || InUserInfo(v.Index) || SecretName().IsMatch(v.Name)).ToList();
        if (secret.Count == 0) return (url, url, []);
        var display = new StringBuilder(url);
        foreach (var v in secret.OrderByDescending(v => v.Index)) display.Remove(v.Index, v.Value.Length).Insert(v.Index, "${" + v.Name + "}");
        return (url, display.ToString(), secret.Select(v => v.Value).ToList());
    }

    [System.Text.RegularExpressions.GeneratedRegex("TOKEN|SECRET|KEY|PASS|PWD|AUTH|CRED|SIG|COOKIE|SESSION", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex SecretName();
}
