using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Common;

/// <summary>PowerShell-style name patterns (<c>*</c>, <c>?</c>, case-insensitive) for -Name filters.</summary>
public static class NamePattern
{
    /// <summary>True when <paramref name="pattern"/> has a wildcard.</summary>
    public static bool HasWildcard(string pattern) => pattern.IndexOfAny(['*', '?']) >= 0;

    /// <summary>True when <paramref name="name"/> matches any of <paramref name="patterns"/> (or there are none).</summary>
    public static bool MatchesAny(string name, IReadOnlyCollection<string>? patterns) =>
        patterns is null || patterns.Count == 0 || patterns.Any(p => Matches(name, p));

    /// <summary>True when <paramref name="name"/> matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string name, string pattern) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}
