namespace OpsRunbook.Engine.Clients.Postgres;

/// <summary>PostgreSQL identifier quoting (quote_ident's rules): every identifier that reaches SQL text goes through it.</summary>
public static class Identifier
{
    /// <summary>"name" with embedded quotes doubled.</summary>
    public static string Quote(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('\0', StringComparison.Ordinal)) throw new ArgumentException("an identifier cannot contain a NUL character");
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// Splits what a person typed — <c>orders</c>, <c>public.orders</c>, <c>"My Schema"."Order Items"</c> — into schema
    /// and table (schema null when not given), following PostgreSQL's rules: unquoted parts fold to lower case.
    /// </summary>
    public static (string? schema, string table) ParseQualified(string text)
    {
        var parts = new List<string>();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new ArgumentException($"'{text}' has an unclosed double quote");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(text[i++]);
                }
                parts.Add(sb.ToString());
            }
            else
            {
                var start = i;
                while (i < text.Length && text[i] != '.') i++;
                var part = text[start..i].Trim();
                if (part.Length == 0) throw new ArgumentException($"'{text}' is not a table name; write table or schema.table");
                parts.Add(part.ToLowerInvariant());
            }
            if (i < text.Length)
            {
                if (text[i] != '.') throw new ArgumentException($"'{text}' is not a table name; write table or schema.table");
                i++;
                if (i >= text.Length) throw new ArgumentException($"'{text}' ends with a dot");
            }
        }
        return parts.Count switch
        {
            1 => (null, parts[0]),
            2 => (parts[0], parts[1]),
            _ => throw new ArgumentException($"'{text}' is not a table name; write table or schema.table"),
        };
    }
}
