using System.Text;
using System.Text.Json;

namespace OpsRunbook.Engine.Health.Conditions;

/// <summary>
/// [BODY] paths walked as Gatus walks them (TwiN/gatus jsonpath/jsonpath.go Eval, walk and extractValue): keys split on
/// dots outside brackets, <c>key[0][1]</c> indexes, an array stops the walk (its %v is the value, its length the
/// count), an object at the end is its minified JSON, a null or a missing key is no value (the placeholder shows
/// INVALID). Lengths are in bytes, as Go's len().
/// </summary>
internal static class BodyPath
{
    /// <summary>The value and length at <paramref name="path"/> in <paramref name="body"/>; false when there is none.</summary>
    public static bool TryEval(string path, string body, out string value, out int length)
    {
        value = "";
        length = 0;
        if (path.Length == 0 && !(body.Length != 0 && body[0] == '[' && body[^1] == ']'))
        {
            value = body;
            length = Encoding.UTF8.GetByteCount(body);
            return true;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return false;
        }
        using (doc) return Walk(path, doc.RootElement, out value, out length);
    }

    private static bool Walk(string path, JsonElement? current, out string value, out int length)
    {
        value = "";
        length = 0;
        var keys = SplitKeys(path);
        var key = keys[0];
        switch (Extract(key, current))
        {
            case { ValueKind: JsonValueKind.Object } map:
                var rest = ReplaceFirst(path, key + ".");
                if (rest == path)
                {
                    value = GoValues.Marshal(map);
                    length = Encoding.UTF8.GetByteCount(value);
                    return true;
                }
                return Walk(rest, map, out value, out length);
            case { ValueKind: JsonValueKind.String } s:
                if (keys.Count > 1) return false;
                value = s.GetString()!;
                length = Encoding.UTF8.GetByteCount(value);
                return true;
            case { ValueKind: JsonValueKind.Array } array:
                value = GoValues.FormatV(array);
                length = array.GetArrayLength();
                return true;
            case { ValueKind: JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False } other:
                value = GoValues.FormatV(other);
                length = Encoding.UTF8.GetByteCount(value);
                return true;
            default:
                return false;
        }
    }

    private static List<string> SplitKeys(string path)
    {
        var keys = new List<string>();
        int start = 0, depth = 0;
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '[') depth++;
            else if (path[i] == ']') depth--;
            if (path[i] == '.' && depth == 0)
            {
                keys.Add(path[start..i]);
                start = i + 1;
            }
        }
        keys.Add(path[start..]);
        return keys;
    }

    private static string ReplaceFirst(string text, string what)
    {
        var i = text.IndexOf(what, StringComparison.Ordinal);
        return i < 0 ? text : text[..i] + text[(i + what.Length)..];
    }

    /// <summary>extractValue: <c>key[i]</c> (and <c>[i]</c>, <c>key[i][j]</c>), else the key of an object; an array is returned as it is.</summary>
    private static JsonElement? Extract(string key, JsonElement? value)
    {
        if (value is not { } v) return null;
        if (key.EndsWith(']') && key.Contains('['))
        {
            int open = 0, close = 0, depth = 0;
            var nested = false;
            string index = "";
            for (var i = 0; i < key.Length; i++)
            {
                if (key[i] == '[')
                {
                    open = i;
                    depth++;
                }
                else if (key[i] == ']' && depth == 1)
                {
                    close = i;
                    index = key[(open + 1)..i];
                    nested = key.Length > i + 1 && key[i + 1] == '[';
                    break;
                }
            }
            if (!int.TryParse(index, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 0) return null;
            var name = key[..open];
            JsonElement array;
            if (name.Length == 0)
            {
                array = v;
            }
            else
            {
                if (v.ValueKind != JsonValueKind.Object || !v.TryGetProperty(name, out array) || array.ValueKind == JsonValueKind.Null) return null;
            }
            if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() <= n) return null;
            return nested ? Extract(key[(close + 1)..], array[n]) : array[n];
        }
        return v.ValueKind switch
        {
            JsonValueKind.Array => v,
            JsonValueKind.Object => v.TryGetProperty(key, out var child) ? Last(v, key, child) : null,
            _ => v,
        };
    }

    /// <summary>Go's decoder keeps the last of duplicate keys; System.Text.Json's TryGetProperty finds the first.</summary>
    private static JsonElement Last(JsonElement obj, string key, JsonElement first)
    {
        var found = first;
        foreach (var p in obj.EnumerateObject())
        {
            if (p.NameEquals(key)) found = p.Value;
        }
        return found;
    }
}
