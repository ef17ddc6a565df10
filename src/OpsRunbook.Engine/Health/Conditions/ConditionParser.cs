using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Health.Conditions;

/// <summary>
/// Reads Gatus conditions: <c>[STATUS] == 200</c>, <c>[RESPONSE_TIME] &lt; 2s</c>, <c>[BODY].status == ok</c>,
/// <c>[STATUS] == any(200, 204)</c>, <c>len([BODY].items) &gt; 0</c>, <c>has([BODY].errors) == false</c>,
/// <c>[BODY].version == pat(1.*)</c>. What Gatus accepts is accepted and split where Gatus splits it (the first of
/// " == ", " != ", " &lt;= ", " &gt;= ", " &gt; ", " &lt; " with a space on each side). What Gatus would read as
/// a constant because of a typo is an error naming the column: an unknown placeholder or function, '===',
/// a path on a placeholder other than [BODY], any() or pat() with &lt; or &gt;, an unclosed bracket.
/// </summary>
public static class ConditionParser
{
    /// <summary>Placeholders a condition may use (in any case, as in Gatus).</summary>
    public static readonly IReadOnlyList<string> Placeholders = new string[] { "STATUS", "RESPONSE_TIME", "BODY", "CONNECTED", "CERTIFICATE_EXPIRATION", "DNS_RCODE", "IP" };

    /// <summary>Functions a condition may use.</summary>
    public static readonly IReadOnlyList<string> Functions = new string[] { "any", "len", "has", "pat" };

    private static readonly (string Token, ConditionOperator Op)[] Operators =
    [
        ("==", ConditionOperator.Equal), ("!=", ConditionOperator.NotEqual), ("<=", ConditionOperator.LessOrEqual),
        (">=", ConditionOperator.GreaterOrEqual), (">", ConditionOperator.Greater), ("<", ConditionOperator.Less),
    ];

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Condition> Cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Parses through a cache: the same few conditions are evaluated for every target and attempt. Parsed conditions
    /// are immutable; the cache is emptied when it grows past 4,096 entries.
    /// </summary>
    public static Condition ParseCached(string text)
    {
        if (Cache.TryGetValue(text, out var cached)) return cached;
        var parsed = Parse(text);
        if (Cache.Count >= 4096) Cache.Clear();
        Cache.TryAdd(text, parsed);
        return parsed;
    }

    /// <summary>Parses one condition or throws <see cref="ConditionSyntaxException"/>.</summary>
    public static Condition Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Trim().Length == 0) throw new ConditionSyntaxException(text, 0, "the condition is empty; write for example [STATUS] == 200");
        foreach (var (token, op) in Operators)
        {
            var at = text.IndexOf(" " + token + " ", StringComparison.Ordinal);
            if (at < 0) continue;
            var rightStart = at + token.Length + 2;
            var again = text.IndexOf(" " + token + " ", rightStart - 1, StringComparison.Ordinal);
            if (again >= 0) throw new ConditionSyntaxException(text, again + 1, $"a condition compares two things once; this is a second '{token}'");
            var left = CheckOperand(text, 0, at, op);
            var right = CheckOperand(text, rightStart, text.Length, op);
            return new Condition(text.Trim(), left, op, right);
        }
        throw Diagnose(text);
    }

    /// <summary>Why no operator with a space on each side was found.</summary>
    private static ConditionSyntaxException Diagnose(string text)
    {
        var m = Regex.Match(text, "[=!<>]+");
        if (!m.Success)
        {
            var gap = Regex.Match(text.Trim(), @"\s+\S");
            var offset = text.Length - text.TrimStart().Length;
            return gap.Success
                ? new ConditionSyntaxException(text, offset + gap.Index + gap.Length - 1, $"expected an operator (==, !=, <, <=, >, >=) but found '{text.Trim()[gap.Index + gap.Length - 1]}'")
                : new ConditionSyntaxException(text, text.TrimEnd().Length, "an operator is missing: ==, !=, <, <=, > or >=");
        }
        var run = m.Value;
        if (run == "=") return new ConditionSyntaxException(text, m.Index, "use '==' to compare, not '='");
        if (!Operators.Any(o => o.Token == run)) return new ConditionSyntaxException(text, m.Index, $"'{run}' is not an operator; use ==, !=, <, <=, > or >=");
        if (text[(m.Index + run.Length)..].Trim().Length == 0) return new ConditionSyntaxException(text, m.Index + run.Length, $"a value is missing after '{run}'");
        return new ConditionSyntaxException(text, m.Index, $"put a space before and after '{run}' (Gatus reads '{text.Trim()}' as no condition)");
    }

    private static readonly Regex FunctionStart = new(@"^([A-Za-z_][A-Za-z0-9_]*)\(", RegexOptions.CultureInvariant);
    private static readonly Regex PlaceholderStart = new(@"^\[([A-Za-z_]+)(\]?)", RegexOptions.CultureInvariant);

    /// <summary>Checks the operand text[start..end] and returns it as written.</summary>
    private static string CheckOperand(string text, int start, int end, ConditionOperator op)
    {
        var raw = text[start..end];
        var at = start + (raw.Length - raw.TrimStart().Length);
        var s = raw.Trim();
        if (s.Length == 0) throw new ConditionSyntaxException(text, at, "a value is missing here");
        if (FunctionStart.Match(s) is { Success: true } f)
        {
            var name = f.Groups[1].Value;
            if (!Functions.Contains(name)) throw new ConditionSyntaxException(text, at, $"unknown function '{name}()'; use any(), len(), has() or pat()");
            var close = MatchingParen(s, name.Length);
            if (close < 0) throw new ConditionSyntaxException(text, at + s.Length, $"{name}( is not closed with ')'");
            if (close != s.Length - 1)
            {
                var rest = s[(close + 1)..];
                throw new ConditionSyntaxException(text, at + close + 1 + (rest.Length - rest.TrimStart().Length), $"unexpected '{rest.Trim()}' after {name}()");
            }
            var inner = s[(name.Length + 1)..^1];
            if (inner.Trim().Length == 0) throw new ConditionSyntaxException(text, at + name.Length + 1, $"{name}() needs an argument");
            if (name is "len" or "has")
            {
                if (!inner.StartsWith('[')) throw new ConditionSyntaxException(text, at + name.Length + 1, $"{name}() takes a placeholder such as [BODY].items");
                CheckPlaceholder(text, at + name.Length + 1, inner);
            }
            else if (op is not (ConditionOperator.Equal or ConditionOperator.NotEqual))
            {
                throw new ConditionSyntaxException(text, at, $"{name}() works with == and != only");
            }
            return s;
        }
        if (PlaceholderStart.IsMatch(s)) CheckPlaceholder(text, at, s);
        return s;
    }

    private static int MatchingParen(string s, int open)
    {
        var depth = 0;
        for (var i = open; i < s.Length; i++)
        {
            if (s[i] == '(') depth++;
            else if (s[i] == ')' && --depth == 0) return i;
        }
        return -1;
    }

    /// <summary>A known placeholder, and a path only on [BODY]: .key, [index], .key[index][index].</summary>
    private static void CheckPlaceholder(string text, int at, string s)
    {
        var close = s.IndexOf(']');
        if (close < 0) throw new ConditionSyntaxException(text, at, "'[' is not closed with ']'");
        var name = s[1..close];
        var known = Placeholders.FirstOrDefault(p => string.Equals(p, name, StringComparison.OrdinalIgnoreCase));
        if (known is null)
        {
            throw new ConditionSyntaxException(text, at, name.ToUpperInvariant() switch
            {
                "DOMAIN_EXPIRATION" => "[DOMAIN_EXPIRATION] needs a WHOIS lookup, which OpsRunbook does not make; use [CERTIFICATE_EXPIRATION] for the certificate",
                "CONTEXT" => "[CONTEXT] belongs to Gatus suites; OpsRunbook checks have no suite context",
                _ => $"unknown placeholder [{name}]; use {string.Join(", ", Placeholders.Select(x => "[" + x + "]"))}",
            });
        }
        var i = close + 1;
        if (i < s.Length && known != "BODY") throw new ConditionSyntaxException(text, at + i, $"only [BODY] takes a path; [{known}] is a single value");
        while (i < s.Length)
        {
            if (s[i] == '.')
            {
                var j = i + 1;
                while (j < s.Length && s[j] is not ('.' or '[' or ']')) j++;
                if (j == i + 1) throw new ConditionSyntaxException(text, at + i + 1, "a field name is missing after '.'");
                i = j;
            }
            else if (s[i] == '[')
            {
                var end = s.IndexOf(']', i);
                if (end < 0) throw new ConditionSyntaxException(text, at + i, "'[' is not closed with ']'");
                if (!int.TryParse(s.AsSpan(i + 1, end - i - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                {
                    throw new ConditionSyntaxException(text, at + i, "an array index is a whole number, e.g. [0]");
                }
                i = end + 1;
            }
            else
            {
                throw new ConditionSyntaxException(text, at + i, $"expected '.' or '[' after [{known}]{s[(close + 1)..i]}");
            }
        }
    }
}
