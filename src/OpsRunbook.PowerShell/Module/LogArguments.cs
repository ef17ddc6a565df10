using System.Text.RegularExpressions;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.PowerShell;

/// <summary>The log cmdlets' -Level and -Filter, read one way.</summary>
internal static class LogArguments
{
    /// <summary>The levels as the parser names them (error → ERROR, warning → WARN, 50 → ERROR).</summary>
    public static string[] Levels(string[]? levels) => (levels ?? []).Select(l => LogLineParser.NormalLevel(l) ?? l).ToArray();

    /// <summary>-Filter as a case-insensitive expression (bounded to a second per line), or an ArgumentException that says what is wrong.</summary>
    public static Regex? Filter(string? pattern)
    {
        if (pattern is null) return null;
        try
        {
            return new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"-Filter '{pattern}' is not a regular expression: {ex.Message}", ex);
        }
    }
}
