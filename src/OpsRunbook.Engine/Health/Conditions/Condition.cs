using System.Globalization;
using System.Text.Json;
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

/// <summary>One side of a condition.</summary>
public abstract record Operand(string Text);

/// <summary><c>[BODY].data[0].id</c>: a placeholder and an optional JSON path.</summary>
public sealed record PlaceholderOperand(string Text, string Placeholder, IReadOnlyList<object> Path) : Operand(Text);

/// <summary><c>any(200, 204)</c>, <c>len([BODY].items)</c>, <c>has([BODY].errors)</c>, <c>pat(ok*)</c>.</summary>
public sealed record FunctionOperand(string Text, string Function, IReadOnlyList<Operand> Arguments) : Operand(Text);

/// <summary>A number, a bare word or a quoted string.</summary>
public sealed record LiteralOperand(string Text, string Value) : Operand(Text);

/// <summary>A parsed Gatus-style condition: <c>left op right</c>.</summary>
public sealed record Condition(string Text, Operand Left, ConditionOperator Operator, Operand Right)
{
    /// <summary>Evaluates against what a check observed.</summary>
    public ConditionResult Evaluate(ConditionContext context)
    {
        var left = Resolve(Left, context);
        var right = Right;
        if (Left is PlaceholderOperand { Placeholder: "RESPONSE_TIME" or "CERTIFICATE_EXPIRATION" } && Right is LiteralOperand lit
            && lit.Value.Length > 0 && char.IsLetter(lit.Value[^1]) && OpsRunbook.Engine.Common.Duration.TryParse(lit.Value, out var d, out _))
        {
            // [CERTIFICATE_EXPIRATION] > 14d, [RESPONSE_TIME] < 2s: compare in milliseconds.
            right = lit with { Value = d.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) };
        }
        bool success;
        if (Right is FunctionOperand { Function: "any" } any)
        {
            var match = any.Arguments.Any(a => Compare(left, ConditionOperator.Equal, Resolve(a, context)));
            success = Operator == ConditionOperator.Equal ? match : !match;
        }
        else if (Right is FunctionOperand { Function: "pat" } pat)
        {
            var pattern = Resolve(pat.Arguments[0], context);
            var match = left is not null && pattern is not null && Glob(pattern).IsMatch(left);
            success = Operator == ConditionOperator.Equal ? match : !match;
        }
        else
        {
            success = Compare(left, Operator, Resolve(right, context));
        }
        var description = $"{Left.Text} ({Shorten(left ?? "<no value>")}) {OperatorText(Operator)} {Right.Text}";
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

    private static bool Compare(string? left, ConditionOperator op, string? right)
    {
        if (left is null || right is null)
        {
            return op == ConditionOperator.NotEqual && (left is null) != (right is null);
        }
        if (double.TryParse(left, NumberStyles.Float, CultureInfo.InvariantCulture, out var l)
            && double.TryParse(right, NumberStyles.Float, CultureInfo.InvariantCulture, out var r))
        {
            return op switch
            {
                ConditionOperator.Equal => l == r,
                ConditionOperator.NotEqual => l != r,
                ConditionOperator.Less => l < r,
                ConditionOperator.LessOrEqual => l <= r,
                ConditionOperator.Greater => l > r,
                _ => l >= r,
            };
        }
        var c = string.CompareOrdinal(left, right);
        return op switch
        {
            ConditionOperator.Equal => c == 0,
            ConditionOperator.NotEqual => c != 0,
            // Ordering only means something for numbers; a text value never satisfies < or >.
            _ => false,
        };
    }

    private static string? Resolve(Operand operand, ConditionContext context) => operand switch
    {
        LiteralOperand lit => lit.Value,
        PlaceholderOperand p => ValueText(context.Lookup(p.Placeholder, p.Path)),
        FunctionOperand { Function: "len" } f => context.Lookup(((PlaceholderOperand)f.Arguments[0]).Placeholder, ((PlaceholderOperand)f.Arguments[0]).Path) switch
        {
            null => null,
            JsonElement { ValueKind: JsonValueKind.Array } a => a.GetArrayLength().ToString(CultureInfo.InvariantCulture),
            JsonElement { ValueKind: JsonValueKind.Object } o => o.EnumerateObject().Count().ToString(CultureInfo.InvariantCulture),
            var v => (ValueText(v) ?? "").Length.ToString(CultureInfo.InvariantCulture),
        },
        FunctionOperand { Function: "has" } f => context.Lookup(((PlaceholderOperand)f.Arguments[0]).Placeholder, ((PlaceholderOperand)f.Arguments[0]).Path) is null ? "false" : "true",
        _ => null,
    };

    private static string? ValueText(object? value) => value switch
    {
        null => null,
        JsonElement { ValueKind: JsonValueKind.String } s => s.GetString(),
        JsonElement { ValueKind: JsonValueKind.True } => "true",
        JsonElement { ValueKind: JsonValueKind.False } => "false",
        JsonElement { ValueKind: JsonValueKind.Null } => "null",
        JsonElement e => e.GetRawText(),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static string Shorten(string s) => s.Length <= 80 ? s : s[..77] + "...";

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}

/// <summary>What a check observed, for conditions to read. Unavailable placeholders resolve to no value.</summary>
public sealed class ConditionContext
{
    private readonly Lazy<JsonElement?> _json;

    /// <summary>Creates a context; <paramref name="body"/> is parsed as JSON on first use of a path.</summary>
    public ConditionContext(int? status = null, double? responseTimeMs = null, string? body = null, bool? connected = null,
        double? certificateExpirationMs = null, string? dnsResponseCode = null)
    {
        CertificateExpirationMs = certificateExpirationMs;
        DnsResponseCode = dnsResponseCode;
        Status = status;
        ResponseTimeMs = responseTimeMs;
        Body = body;
        Connected = connected;
        _json = new Lazy<JsonElement?>(() =>
        {
            if (body is null) return null;
            try
            {
                using var doc = JsonDocument.Parse(body);
                return doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                return null;
            }
        });
    }

    /// <summary>HTTP status code.</summary>
    public int? Status { get; }
    /// <summary>Response time in ms.</summary>
    public double? ResponseTimeMs { get; }
    /// <summary>Response body text.</summary>
    public string? Body { get; }
    /// <summary>Whether a connection was made.</summary>
    public bool? Connected { get; }
    /// <summary>Time until the server certificate expires, in ms (negative once expired).</summary>
    public double? CertificateExpirationMs { get; }
    /// <summary>DNS response code (NOERROR, NXDOMAIN, ...).</summary>
    public string? DnsResponseCode { get; }

    /// <summary>The value of a placeholder with an optional path; null when it has none.</summary>
    public object? Lookup(string placeholder, IReadOnlyList<object> path) => placeholder switch
    {
        "STATUS" => Status,
        "RESPONSE_TIME" => ResponseTimeMs is { } ms ? Math.Round(ms, 3) : null,
        "CONNECTED" => Connected,
        "CERTIFICATE_EXPIRATION" => CertificateExpirationMs is { } c ? Math.Round(c) : null,
        "DNS_RCODE" => DnsResponseCode,
        "BODY" when path.Count == 0 => Body,
        "BODY" => Walk(path),
        _ => null,
    };

    private object? Walk(IReadOnlyList<object> path)
    {
        if (_json.Value is not { } current) return null;
        foreach (var step in path)
        {
            if (step is string key && current.ValueKind == JsonValueKind.Object && current.TryGetProperty(key, out var child))
            {
                current = child;
            }
            else if (step is int index && current.ValueKind == JsonValueKind.Array && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }
        return current;
    }
}
