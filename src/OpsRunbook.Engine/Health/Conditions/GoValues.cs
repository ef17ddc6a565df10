using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Health.Conditions;

/// <summary>
/// The Go standard-library rules Gatus's conditions rest on, so a condition gives Gatus's answer: strconv.ParseInt with
/// base 0, strconv.ParseFloat, time.ParseDuration, fmt's %v of values decoded by encoding/json, encoding/json's
/// output for an object, and path/filepath.Match for pat(). Each method names the Go function it follows.
/// </summary>
internal static class GoValues
{
    /// <summary>strconv.ParseInt(s, 0, 64): sign, 0x/0o/0b prefixes, a leading 0 for octal, underscores between digits.</summary>
    public static bool TryParseInt(string s, out long value)
    {
        value = 0;
        if (s.Length == 0) return false;
        var i = 0;
        var negative = false;
        if (s[0] is '+' or '-') { negative = s[0] == '-'; i = 1; }
        var digits = s[i..];
        var @base = 10;
        if (digits.Length >= 2 && digits[0] == '0')
        {
            switch (char.ToLowerInvariant(digits[1]))
            {
                case 'x': @base = 16; digits = digits[2..]; break;
                case 'o': @base = 8; digits = digits[2..]; break;
                case 'b': @base = 2; digits = digits[2..]; break;
                default: @base = 8; digits = digits[1..]; break;
            }
        }
        if (digits.Contains('_'))
        {
            if (!UnderscoresOk(s)) return false;
            digits = digits.Replace("_", "", StringComparison.Ordinal);
        }
        if (digits.Length == 0) return false; // "0x", a sign alone
        ulong magnitude = 0;
        foreach (var c in digits)
        {
            var d = c is >= '0' and <= '9' ? c - '0' : c is >= 'a' and <= 'z' ? c - 'a' + 10 : c is >= 'A' and <= 'Z' ? c - 'A' + 10 : 99;
            if (d >= @base) return false;
            if (magnitude > (ulong.MaxValue - (ulong)d) / (ulong)@base) return false;
            magnitude = magnitude * (ulong)@base + (ulong)d;
        }
        if (negative ? magnitude > 1UL << 63 : magnitude > long.MaxValue) return false;
        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    /// <summary>strconv's underscoreOK: underscores only with base 0, each between digits (or after the prefix).</summary>
    private static bool UnderscoresOk(string s)
    {
        var saw = '^';
        var i = 0;
        if (s.Length >= 1 && s[0] is '-' or '+') s = s[1..];
        var hex = false;
        if (s.Length >= 2 && s[0] == '0' && char.ToLowerInvariant(s[1]) is 'b' or 'o' or 'x')
        {
            i = 2;
            saw = '0';
            hex = char.ToLowerInvariant(s[1]) == 'x';
        }
        for (; i < s.Length; i++)
        {
            if (s[i] is >= '0' and <= '9' || (hex && char.ToLowerInvariant(s[i]) is >= 'a' and <= 'f')) { saw = '0'; continue; }
            if (s[i] == '_')
            {
                if (saw != '0') return false;
                saw = '_';
                continue;
            }
            if (saw == '_') return false;
            saw = '!';
        }
        return saw != '_';
    }

    /// <summary>strconv.ParseFloat(s, 64) for the forms a condition meets: decimal, exponent, inf/infinity/nan in any case.</summary>
    public static bool TryParseFloat(string s, out double value)
    {
        var t = s.TrimStart('+', '-');
        var negative = s.StartsWith('-');
        if (t.Length == s.Length - 1 || t.Length == s.Length)
        {
            switch (t.ToLowerInvariant())
            {
                case "inf" or "infinity": value = negative ? double.NegativeInfinity : double.PositiveInfinity; return true;
                case "nan": value = double.NaN; return true;
            }
        }
        return double.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value)
            && !s.Contains('∞');
    }

    /// <summary>int64(f) as Go on amd64 converts it: toward zero; NaN and out-of-range values give math.MinInt64.</summary>
    public static long Truncate(double f) =>
        double.IsNaN(f) || f >= 9.2233720368547758e18 || f < -9.2233720368547758e18 ? long.MinValue : (long)f;

    private static readonly Regex DurationPart = new(@"\G([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)", RegexOptions.CultureInvariant);

    /// <summary>time.ParseDuration, in whole milliseconds (Duration.Milliseconds() truncates toward zero).</summary>
    public static bool TryParseDurationMs(string s, out long milliseconds)
    {
        milliseconds = 0;
        var i = 0;
        var negative = false;
        if (s.Length > 0 && s[0] is '+' or '-') { negative = s[0] == '-'; i = 1; }
        if (s[i..] == "0") return true;
        if (i >= s.Length) return false;
        decimal nanos = 0;
        while (i < s.Length)
        {
            var m = DurationPart.Match(s, i);
            if (!m.Success || m.Index != i || (m.Groups[1].Length == 0 && m.Groups[2].Length == 0)) return false;
            var number = decimal.Parse((m.Groups[1].Length > 0 ? m.Groups[1].Value : "0") + (m.Groups[2].Length > 0 ? "." + m.Groups[2].Value : ""), CultureInfo.InvariantCulture);
            nanos += number * m.Groups[3].Value switch
            {
                "ns" => 1m, "us" or "µs" or "μs" => 1_000m, "ms" => 1_000_000m, "s" => 1_000_000_000m, "m" => 60_000_000_000m, _ => 3_600_000_000_000m,
            };
            if (nanos > long.MaxValue) return false;
            i += m.Length;
        }
        milliseconds = (long)decimal.Truncate((negative ? -nanos : nanos) / 1_000_000m);
        return true;
    }

    /// <summary>fmt's %v of a value encoding/json decoded into interface{}: strings as they are, numbers as %g, nil as &lt;nil&gt;, arrays [a b], objects map[k:v].</summary>
    public static string FormatV(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => FormatNumber(e.GetDouble()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => "[" + string.Join(' ', e.EnumerateArray().Select(FormatV)) + "]",
        JsonValueKind.Object => "map[" + string.Join(' ', e.EnumerateObject().GroupBy(p => p.Name).Select(g => g.Last())
            .OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Name + ":" + FormatV(p.Value))) + "]",
        _ => "<nil>",
    };

    /// <summary>
    /// A JSON number as %v shows it: strconv.FormatFloat(f, 'g', -1, 64), shortest digits, an exponent below 1e-4 and
    /// from 1e6 up. One deliberate difference: Go writes whole numbers from a million up with an exponent (1e+06), so in
    /// Gatus [BODY].count == 1000000 is false for a count of 1000000; here whole numbers below 2^53 stay whole.
    /// </summary>
    public static string FormatNumber(double f)
    {
        if (double.IsNaN(f)) return "NaN";
        if (double.IsInfinity(f)) return f > 0 ? "+Inf" : "-Inf";
        if (f == Math.Floor(f) && Math.Abs(f) < 9007199254740992d) return ((long)f).ToString(CultureInfo.InvariantCulture);
        var (digits, exp) = Shortest(f);
        return (f < 0 ? "-" : "") + (exp < -4 || exp >= 6 ? Exponent(digits, exp, padTo: 2) : Plain(digits, exp));
    }

    /// <summary>encoding/json's float64: plain, with an exponent below 1e-6 and from 1e21 (1e-07 written 1e-7).</summary>
    private static string JsonNumber(double f)
    {
        var abs = Math.Abs(f);
        var (digits, exp) = Shortest(f);
        return (f < 0 ? "-" : "") + (abs != 0 && (abs < 1e-6 || abs >= 1e21) ? Exponent(digits, exp, padTo: 1) : Plain(digits, exp));
    }

    /// <summary>The shortest round-trip digits of |f| (no leading or trailing zeros) and the decimal exponent of the first.</summary>
    private static (string Digits, int Exponent) Shortest(double f)
    {
        var r = Math.Abs(f).ToString("R", CultureInfo.InvariantCulture);
        var parts = r.Split('E');
        var e = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : 0;
        var dot = parts[0].IndexOf('.');
        var whole = dot < 0 ? parts[0] : parts[0][..dot];
        var all = whole + (dot < 0 ? "" : parts[0][(dot + 1)..]);
        var point = whole.Length + e;
        var trimmed = all.TrimStart('0');
        point -= all.Length - trimmed.Length;
        trimmed = trimmed.TrimEnd('0');
        return trimmed.Length == 0 ? ("0", 0) : (trimmed, point - 1);
    }

    private static string Exponent(string digits, int exp, int padTo) =>
        digits[0] + (digits.Length > 1 ? "." + digits[1..] : "") + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString(new string('0', padTo), CultureInfo.InvariantCulture);

    private static string Plain(string digits, int exp)
    {
        if (exp < 0) return "0." + new string('0', -exp - 1) + digits;
        if (digits.Length <= exp + 1) return digits + new string('0', exp + 1 - digits.Length);
        return digits[..(exp + 1)] + "." + digits[(exp + 1)..];
    }

    /// <summary>encoding/json's Marshal of a decoded value: minified, object keys sorted, &lt; &gt; &amp; escaped as \u003c.</summary>
    public static string Marshal(JsonElement e)
    {
        var sb = new StringBuilder();
        Write(sb, e);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                var first = true;
                foreach (var p in e.EnumerateObject().GroupBy(p => p.Name).Select(g => g.Last()).OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, p.Name);
                    sb.Append(':');
                    Write(sb, p.Value);
                }
                sb.Append('}');
                break;
            case JsonValueKind.Array:
                sb.Append('[');
                var i = 0;
                foreach (var item in e.EnumerateArray())
                {
                    if (i++ > 0) sb.Append(',');
                    Write(sb, item);
                }
                sb.Append(']');
                break;
            case JsonValueKind.String: WriteString(sb, e.GetString()!); break;
            case JsonValueKind.Number: sb.Append(JsonNumber(e.GetDouble())); break;
            case JsonValueKind.True: sb.Append("true"); break;
            case JsonValueKind.False: sb.Append("false"); break;
            default: sb.Append("null"); break;
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ': sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        sb.Append('"');
    }

    /// <summary>path/filepath.Match on Linux after Gatus removes '/' from both: * and ? and [classes] with ^ and ranges, \ escapes; a malformed pattern matches nothing.</summary>
    public static bool GlobMatch(string pattern, string text)
    {
        if (pattern == "*") return true;
        pattern = pattern.Replace("/", "", StringComparison.Ordinal);
        text = text.Replace("/", "", StringComparison.Ordinal);
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': regex.Append(".*"); break;
                case '?': regex.Append('.'); break;
                case '\\':
                    if (++i >= pattern.Length) return false;
                    regex.Append(Regex.Escape(pattern[i].ToString()));
                    break;
                case '[':
                    var close = i + 1;
                    var cls = new StringBuilder("[");
                    if (close < pattern.Length && pattern[close] == '^') { cls.Append('^'); close++; }
                    var any = false;
                    for (; close < pattern.Length && (pattern[close] != ']' || !any); close++)
                    {
                        var ch = pattern[close];
                        if (ch == '\\') { if (++close >= pattern.Length) return false; ch = pattern[close]; }
                        if (ch is '-' && any && close + 1 < pattern.Length && pattern[close + 1] != ']') { cls.Append('-'); continue; }
                        cls.Append(Regex.Escape(ch.ToString()).Replace("]", "\\]", StringComparison.Ordinal).Replace("-", "\\-", StringComparison.Ordinal));
                        any = true;
                    }
                    if (close >= pattern.Length || !any) return false;
                    regex.Append(cls).Append(']');
                    i = close;
                    break;
                default: regex.Append(Regex.Escape(c.ToString())); break;
            }
        }
        regex.Append('$');
        try
        {
            return Regex.IsMatch(text, regex.ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
