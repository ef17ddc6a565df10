using System.Globalization;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Health.Conditions;

/// <summary>Comparison operators.</summary>
public enum ConditionOperator
{
    /// <summary>==</summary>
    Equal,
    /// <summary>!=</summary>
    NotEqual,
    /// <summary>&lt;</summary>
    Less,
    /// <summary>&lt;=</summary>
    LessOrEqual,
    /// <summary>&gt;</summary>
    Greater,
    /// <summary>&gt;=</summary>
    GreaterOrEqual,
}

/// <summary>
/// A Gatus condition, <c>left op right</c>, evaluated as Gatus evaluates it (TwiN/gatus config/endpoint/condition.go
/// and placeholder.go): each side resolves to text (a placeholder's value, a [BODY] path, len() or has(), or the text
/// itself); == and != compare as integers when both sides are integers in Go's notation (0x1 == 1), else as text,
/// with pat() and any() on either side; &lt; &lt;= &gt; &gt;= compare whole numbers: a Go duration (2s, 1h30m) in
/// milliseconds, an integer, a decimal truncated, anything else 0. A [BODY] path with no value reads
/// "[BODY].x (INVALID)". The cases of Gatus's condition_test.go are in tests/.../Health/GatusConditionParityTests.cs.
/// One extension: a whole number of days (14d) is a duration where Gatus would read 0.
/// </summary>
public sealed record Condition(string Text, string Left, ConditionOperator Operator, string Right)
{
    private const string Invalid = "(INVALID)";

    /// <summary>Evaluates against what a check observed.</summary>
    public ConditionResult Evaluate(ConditionContext context)
    {
        var left = Resolve(Left, context);
        var right = Resolve(Right, context);
        bool success;
        string description;
        if (Operator is ConditionOperator.Equal or ConditionOperator.NotEqual)
        {
            success = IsEqual(left, right) == (Operator == ConditionOperator.Equal);
            description = Prettify(left, right);
        }
        else
        {
            long l = Number(left), r = Number(right);
            success = Operator switch
            {
                ConditionOperator.Less => l < r,
                ConditionOperator.LessOrEqual => l <= r,
                ConditionOperator.Greater => l > r,
                _ => l >= r,
            };
            description = Prettify(NumberText(Left, l), NumberText(Right, r));
        }
        return new ConditionResult(Text, success, description);
    }

    /// <summary>The operator as written.</summary>
    public static string OperatorText(ConditionOperator op) => op switch
    {
        ConditionOperator.Equal => "==",
        ConditionOperator.NotEqual => "!=",
        ConditionOperator.Less => "<",
        ConditionOperator.LessOrEqual => "<=",
        ConditionOperator.Greater => ">",
        _ => ">=",
    };

    /// <summary>placeholder.go's ResolvePlaceholder: placeholder names in any case, len() and has() around them.</summary>
    private static string Resolve(string operand, ConditionContext c)
    {
        var original = operand.Trim();
        var inner = original;
        var function = "";
        if ((inner.StartsWith("len(", StringComparison.Ordinal) || inner.StartsWith("has(", StringComparison.Ordinal)) && inner.EndsWith(')'))
        {
            function = inner[..3];
            inner = inner[4..^1];
        }
        var upper = inner.ToUpperInvariant();
        string? simple = upper switch
        {
            "[STATUS]" => c.Status.ToString(CultureInfo.InvariantCulture),
            "[IP]" => c.Ip,
            "[RESPONSE_TIME]" => c.ResponseTimeMs.ToString(CultureInfo.InvariantCulture),
            "[DNS_RCODE]" => c.DnsResponseCode,
            "[CONNECTED]" => c.Connected ? "true" : "false",
            "[CERTIFICATE_EXPIRATION]" => c.CertificateExpirationMs.ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
        if (simple is not null)
        {
            return function switch
            {
                "has" => simple.Length > 0 ? "true" : "false",
                "len" => System.Text.Encoding.UTF8.GetByteCount(simple).ToString(CultureInfo.InvariantCulture),
                _ => simple,
            };
        }
        if (upper == "[BODY]")
        {
            var body = c.Body.Trim();
            return function switch
            {
                "has" => body.Length > 0 ? "true" : "false",
                "len" => (BodyPath.TryEval("", c.Body, out _, out var n) ? n : System.Text.Encoding.UTF8.GetByteCount(body)).ToString(CultureInfo.InvariantCulture),
                _ => body,
            };
        }
        if (upper.StartsWith("[BODY].", StringComparison.Ordinal) || upper.StartsWith("[BODY][", StringComparison.Ordinal))
        {
            var path = inner["[BODY]".Length..];
            if (path.StartsWith('.')) path = path[1..];
            var found = BodyPath.TryEval(path, c.Body, out var value, out var length);
            if (function == "has") return found ? "true" : "false";
            if (!found) return original + " " + Invalid;
            return function == "len" ? length.ToString(CultureInfo.InvariantCulture) : value;
        }
        return function switch
        {
            "has" => "false",
            "len" => original + " " + Invalid,
            _ => original,
        };
    }

    /// <summary>condition.go's isEqual.</summary>
    private static bool IsEqual(string first, string second)
    {
        if (first.EndsWith(')') || second.EndsWith(')'))
        {
            var firstPattern = Unwrap(ref first, "pat(");
            var secondPattern = Unwrap(ref second, "pat(");
            if (firstPattern != secondPattern) return firstPattern ? GoValues.GlobMatch(first, second) : GoValues.GlobMatch(second, first);
            var firstAny = Unwrap(ref first, "any(");
            var secondAny = Unwrap(ref second, "any(");
            if (firstAny != secondAny)
            {
                var (options, value) = firstAny ? (first, second) : (second, first);
                return options.Split(',').Any(o => o.Trim() == value);
            }
        }
        return GoValues.TryParseInt(first, out var a) && GoValues.TryParseInt(second, out var b) ? a == b : first == second;
    }

    private static bool Unwrap(ref string text, string prefix)
    {
        if (!text.StartsWith(prefix, StringComparison.Ordinal) || !text.EndsWith(')')) return false;
        text = text[prefix.Length..^1];
        return true;
    }

    private static readonly Regex Days = new(@"^(\d+)d$", RegexOptions.CultureInvariant);

    /// <summary>condition.go's sanitizeAndResolveNumerical: a Go duration (not zero) in ms, an integer, a decimal truncated, else 0.</summary>
    private static long Number(string text)
    {
        if (GoValues.TryParseDurationMs(text, out var ms) && ms != 0) return ms;
        if (Days.Match(text) is { Success: true } d && long.TryParse(d.Groups[1].Value, CultureInfo.InvariantCulture, out var days) && days < 106_751_991) return days * 86_400_000;
        if (GoValues.TryParseInt(text, out var n)) return n;
        return GoValues.TryParseFloat(text, out var f) ? GoValues.Truncate(f) : 0;
    }

    /// <summary>prettifyNumericalParameters: a duration placeholder or a duration as written shows as a duration (336h), else the integer.</summary>
    private static string NumberText(string operand, long value)
    {
        var written = operand.Trim();
        return written is "[CERTIFICATE_EXPIRATION]" || GoValues.TryParseDurationMs(written, out _) || Days.IsMatch(written)
            ? FormatDuration(value)
            : value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// formatDuration: whole seconds, zero minutes and seconds left off (336h, 1h30m, 1h0m15s). Below a second Gatus
    /// shows 0s (100ms reads "100ms (0s)"); here it stays in milliseconds.
    /// </summary>
    private static string FormatDuration(long milliseconds)
    {
        var seconds = milliseconds / 1000;
        if (seconds == 0) return milliseconds == 0 ? "0s" : $"{milliseconds}ms";
        var sign = seconds < 0 ? "-" : "";
        var abs = Math.Abs(seconds);
        long h = abs / 3600, m = abs / 60 % 60, s = abs % 60;
        var text = h > 0 ? $"{h}h{m}m{s}s" : m > 0 ? $"{m}m{s}s" : $"{s}s";
        if (h > 0 || m > 0)
        {
            if (s == 0) text = text[..^2];
            if (s == 0 && h > 0 && m == 0) text = text[..^2];
        }
        return sign + text;
    }

    /// <summary>condition.go's prettify: each side that resolved to something else shows it in parentheses.</summary>
    private string Prettify(string leftValue, string rightValue)
    {
        string left = Left.Trim(), right = Right.Trim();
        if (IsPattern(left) && rightValue.Length > 25) rightValue = rightValue[..25] + "...(truncated)";
        if (IsPattern(right) && leftValue.Length > 25) leftValue = leftValue[..25] + "...(truncated)";
        return $"{Side(left, leftValue)} {OperatorText(Operator)} {Side(right, rightValue)}";

        static bool IsPattern(string s) => s.StartsWith("pat(", StringComparison.Ordinal) && s.EndsWith(')');
        static string Side(string written, string value) =>
            value == written ? written : value == written + " " + Invalid ? value : $"{written} ({Shorten(value)})";
    }

    /// <summary>A long value (a whole page) is cut in a description; Gatus prints it all.</summary>
    private static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "...(truncated)";
}

/// <summary>What a check observed, for conditions to read. As in Gatus, what a check has no value for reads as 0, false or empty.</summary>
public sealed class ConditionContext(int? status = null, double? responseTimeMs = null, string? body = null, bool? connected = null,
    double? certificateExpirationMs = null, string? dnsResponseCode = null, string? ip = null)
{
    /// <summary>HTTP status code; 0 without one.</summary>
    public int Status { get; } = status ?? 0;
    /// <summary>Response time in whole milliseconds (truncated, as Go's Duration.Milliseconds).</summary>
    public long ResponseTimeMs { get; } = (long)Math.Truncate(responseTimeMs ?? 0);
    /// <summary>Response body text; empty without one.</summary>
    public string Body { get; } = body ?? "";
    /// <summary>Whether a connection was made.</summary>
    public bool Connected { get; } = connected ?? false;
    /// <summary>Time until the certificate chain's first expiry, in whole ms (negative once expired); 0 when not known.</summary>
    public long CertificateExpirationMs { get; } = (long)Math.Truncate(certificateExpirationMs ?? 0);
    /// <summary>DNS response code (NOERROR, NXDOMAIN, ...); empty without one.</summary>
    public string DnsResponseCode { get; } = dnsResponseCode ?? "";
    /// <summary>The address the host resolved to; empty when not looked up.</summary>
    public string Ip { get; } = ip ?? "";
}
