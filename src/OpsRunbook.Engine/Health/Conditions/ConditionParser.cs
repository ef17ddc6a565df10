using System.Text;

namespace OpsRunbook.Engine.Health.Conditions;

/// <summary>
/// Parses Gatus-style conditions: <c>[STATUS] == 200</c>, <c>[RESPONSE_TIME] &lt; 2000</c>, <c>[BODY].status == ok</c>,
/// <c>[STATUS] == any(200, 204)</c>, <c>len([BODY].items) &gt; 0</c>, <c>has([BODY].errors) == false</c>,
/// <c>[BODY].version == pat(1.*)</c>. Errors name the column they broke at.
/// </summary>
public static class ConditionParser
{
    /// <summary>Placeholders a condition may use.</summary>
    public static readonly IReadOnlyList<string> Placeholders = ["STATUS", "RESPONSE_TIME", "BODY", "CONNECTED", "CERTIFICATE_EXPIRATION", "DNS_RCODE"];

    /// <summary>Functions a condition may use.</summary>
    public static readonly IReadOnlyList<string> Functions = ["any", "len", "has", "pat"];

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
        var p = new State(text);
        p.SkipSpace();
        if (p.AtEnd) throw p.Fail("the condition is empty; write for example [STATUS] == 200");
        var left = ParseOperand(p, isLeft: true);
        if (left is FunctionOperand { Function: "any" or "pat" } f)
        {
            throw new ConditionSyntaxException(text, p.Start(f), $"{f.Function}() goes on the right of the operator");
        }
        p.SkipSpace();
        var op = ParseOperator(p);
        // "[STATUS] === 200" would otherwise compare with the value "= 200": a typo that pages someone, not a condition.
        if (!p.AtEnd && p.Text[p.Pos] is '=' or '<' or '>' or '!')
        {
            throw p.Fail($"'{Condition.OperatorText(op)}{p.Text[p.Pos]}' is not an operator; use ==, !=, <, <=, > or >=");
        }
        p.SkipSpace();
        if (p.AtEnd) throw p.Fail($"a value is missing after '{Condition.OperatorText(op)}'");
        var right = ParseOperand(p, isLeft: false);
        p.SkipSpace();
        if (!p.AtEnd) throw p.Fail($"unexpected '{p.Rest}' after the condition");
        if (right is FunctionOperand { Function: "any" or "pat" } rf && op is not (ConditionOperator.Equal or ConditionOperator.NotEqual))
        {
            throw new ConditionSyntaxException(text, p.Start(rf), $"{rf.Function}() works with == and != only");
        }
        if (left is LiteralOperand && right is LiteralOperand)
        {
            throw new ConditionSyntaxException(text, 0, $"compare a placeholder ({string.Join(", ", Placeholders.Select(x => "[" + x + "]"))}) with a value");
        }
        return new Condition(text.Trim(), left, op, right);
    }

    private static ConditionOperator ParseOperator(State p)
    {
        string[] ops = ["==", "!=", "<=", ">=", "<", ">"];
        foreach (var o in ops)
        {
            if (p.Text.AsSpan(p.Pos).StartsWith(o, StringComparison.Ordinal))
            {
                p.Pos += o.Length;
                return o switch
                {
                    "==" => ConditionOperator.Equal,
                    "!=" => ConditionOperator.NotEqual,
                    "<=" => ConditionOperator.LessOrEqual,
                    ">=" => ConditionOperator.GreaterOrEqual,
                    "<" => ConditionOperator.Less,
                    _ => ConditionOperator.Greater,
                };
            }
        }
        if (!p.AtEnd && p.Current == '=') throw p.Fail("use '==' to compare, not '='");
        throw p.Fail(p.AtEnd ? "an operator is missing: ==, !=, <, <=, > or >=" : $"expected an operator (==, !=, <, <=, >, >=) but found '{p.Current}'");
    }

    private static Operand ParseOperand(State p, bool isLeft)
    {
        var start = p.Pos;
        if (p.Current == '[') return ParsePlaceholder(p);
        if (p.Current is '"' or '\'') return ParseQuoted(p);
        var ident = p.PeekIdentifier();
        if (ident.Length > 0 && p.Pos + ident.Length < p.Text.Length && p.Text[p.Pos + ident.Length] == '(')
        {
            if (!Functions.Contains(ident))
            {
                throw p.Fail($"unknown function '{ident}()'; use any(), len(), has() or pat()");
            }
            p.Pos += ident.Length + 1;
            var args = new List<Operand>();
            p.SkipSpace();
            while (true)
            {
                if (p.AtEnd) throw p.Fail($"{ident}( is not closed with ')'");
                if (p.Current == ')' && args.Count == 0) throw p.Fail($"{ident}() needs an argument");
                args.Add(ident is "len" or "has" ? ParseFunctionPlaceholder(p, ident) : ParseArgumentLiteral(p));
                p.SkipSpace();
                if (p.AtEnd) throw p.Fail($"{ident}( is not closed with ')'");
                if (p.Current == ')') { p.Pos++; break; }
                if (p.Current != ',') throw p.Fail($"expected ',' or ')' in {ident}()");
                if (ident != "any") throw p.Fail($"{ident}() takes one argument");
                p.Pos++;
                p.SkipSpace();
            }
            var f = new FunctionOperand(p.Text[start..p.Pos], ident, args);
            p.Starts[f] = start;
            return f;
        }
        // A bare literal: on the left it ends at a space or an operator; on the right it runs to the end (Gatus allows spaces).
        var sb = new StringBuilder();
        while (!p.AtEnd && (isLeft ? !char.IsWhiteSpace(p.Current) && p.Current is not ('=' or '!' or '<' or '>') : true))
        {
            sb.Append(p.Current);
            p.Pos++;
        }
        var value = sb.ToString().TrimEnd();
        if (value.Length == 0) throw new ConditionSyntaxException(p.Text, start, "expected a placeholder such as [STATUS] or a value");
        return new LiteralOperand(value, value);
    }

    private static Operand ParseFunctionPlaceholder(State p, string function)
    {
        if (p.AtEnd || p.Current != '[') throw p.Fail($"{function}() takes a placeholder such as [BODY].items");
        return ParsePlaceholder(p);
    }

    private static Operand ParseArgumentLiteral(State p)
    {
        if (p.Current is '"' or '\'') return ParseQuoted(p);
        var start = p.Pos;
        while (!p.AtEnd && p.Current is not (',' or ')')) p.Pos++;
        var value = p.Text[start..p.Pos].Trim();
        if (value.Length == 0) throw new ConditionSyntaxException(p.Text, start, "an argument is empty");
        return new LiteralOperand(value, value);
    }

    private static LiteralOperand ParseQuoted(State p)
    {
        var start = p.Pos;
        var quote = p.Current;
        p.Pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (p.AtEnd) throw new ConditionSyntaxException(p.Text, start, $"the string opened here is not closed with {quote}");
            var c = p.Current;
            p.Pos++;
            if (c == quote) break;
            if (c == '\\' && !p.AtEnd)
            {
                sb.Append(p.Current);
                p.Pos++;
                continue;
            }
            sb.Append(c);
        }
        return new LiteralOperand(p.Text[start..p.Pos], sb.ToString());
    }

    private static PlaceholderOperand ParsePlaceholder(State p)
    {
        var start = p.Pos;
        var close = p.Text.IndexOf(']', p.Pos);
        if (close < 0) throw p.Fail("'[' is not closed with ']'");
        var name = p.Text[(p.Pos + 1)..close];
        if (!Placeholders.Contains(name))
        {
            var hint = Placeholders.FirstOrDefault(x => string.Equals(x, name, StringComparison.OrdinalIgnoreCase));
            throw p.Fail(hint is not null
                ? $"placeholders are upper case: write [{hint}]"
                : $"unknown placeholder [{name}]; use {string.Join(", ", Placeholders.Select(x => "[" + x + "]"))}");
        }
        p.Pos = close + 1;
        var path = new List<object>();
        while (!p.AtEnd && p.Current is '.' or '[')
        {
            if (name != "BODY") throw p.Fail($"only [BODY] takes a path; [{name}] is a single value");
            if (p.Current == '.')
            {
                p.Pos++;
                var key = p.PeekIdentifier(allowDash: true);
                if (key.Length == 0) throw p.Fail("a field name is missing after '.'");
                path.Add(key);
                p.Pos += key.Length;
            }
            else
            {
                var end = p.Text.IndexOf(']', p.Pos);
                if (end < 0) throw p.Fail("'[' is not closed with ']'");
                if (!int.TryParse(p.Text.AsSpan(p.Pos + 1, end - p.Pos - 1), out var index) || index < 0)
                {
                    throw p.Fail("an array index is a whole number, e.g. [0]");
                }
                path.Add(index);
                p.Pos = end + 1;
            }
        }
        return new PlaceholderOperand(p.Text[start..p.Pos], name, path);
    }

    private sealed class State(string text)
    {
        public string Text { get; } = text;
        public int Pos { get; set; }
        public Dictionary<Operand, int> Starts { get; } = new(ReferenceEqualityComparer.Instance);
        public bool AtEnd => Pos >= Text.Length;
        public char Current => Text[Pos];
        public string Rest => Text[Pos..];

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(Current)) Pos++;
        }

        public string PeekIdentifier(bool allowDash = false)
        {
            var i = Pos;
            while (i < Text.Length && (char.IsLetterOrDigit(Text[i]) || Text[i] == '_' || (allowDash && Text[i] == '-'))) i++;
            return Text[Pos..i];
        }

        public int Start(Operand o) => Starts.TryGetValue(o, out var s) ? s : 0;

        public ConditionSyntaxException Fail(string problem) => new(Text, Pos, problem);
    }
}
