using System.Text;

namespace OpsRunbook.Engine.Secrets;

/// <summary><c>${NAME}</c> and <c>${NAME:-default}</c> expansion from environment variables, as Docker Compose does.</summary>
public static class EnvTemplate
{
    /// <summary>True when <paramref name="text"/> contains at least one <c>${...}</c>.</summary>
    public static bool HasVariables(string text) => text.Contains("${", StringComparison.Ordinal);

    /// <summary>The text with each variable replaced by its default, or by <c>x</c> without one: enough to see its shape (scheme, host) without reading the environment.</summary>
    public static string Sketch(string text) => Expand(text, _ => null, "x");

    /// <summary>Expands every <c>${NAME}</c>; an unset variable without a default is an error that names it.</summary>
    public static string Expand(string text, Func<string, string?>? lookup = null, string? fallback = null)
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
}
