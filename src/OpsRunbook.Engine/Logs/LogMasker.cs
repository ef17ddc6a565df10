using System.Runtime.CompilerServices;

namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Replaces the parts of a message that vary between occurrences by a named mask before templates are mined, in one
/// pass and without regular expressions: <c>&lt;UUID&gt;</c>, <c>&lt;IP&gt;</c> (IPv4 with an optional port, IPv6),
/// <c>&lt;HEX&gt;</c> (0x… and identifiers of 8 or more hex digits that mix digits and letters, as request ids and
/// commit hashes do), <c>&lt;DURATION&gt;</c> (a number with a unit: 250ms, 1.5s, 1h30m) and <c>&lt;NUM&gt;</c>. As in
/// Drain3's masking instructions, a mask starts and ends at a boundary (the text's ends or a character that is neither
/// a letter nor a digit), so <c>user42</c> stays and <c>db-3</c> becomes <c>db-&lt;NUM&gt;</c>.
/// </summary>
public static class LogMasker
{
    [ThreadStatic]
    private static char[]? _buffer;

    private static readonly string[] Units = ["ns", "us", "µs", "ms", "s", "m", "h", "d"];

    /// <summary>The message with its variable parts masked.</summary>
    public static string Mask(string message)
    {
        var masked = MaskSpan(message, out var changed);
        return changed ? masked.ToString() : message;
    }

    /// <summary>
    /// As <see cref="Mask"/>, into a buffer of this thread that the next call reuses (the message itself when nothing is
    /// masked, <paramref name="changed"/> false): a counter looks a masked message up without making a string of it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static ReadOnlySpan<char> MaskSpan(string message, out bool changed)
    {
        var buffer = _buffer ??= new char[256];
        var length = 0;
        var copied = 0;
        changed = false;
        for (var i = 0; i < message.Length; i++)
        {
            if (i > 0 && char.IsAsciiLetterOrDigit(message[i - 1]))
            {
                // Inside a word: skip to the character that ends it; the loop's step lands after it.
                while (i < message.Length && char.IsAsciiLetterOrDigit(message[i])) i++;
                continue;
            }
            var c = message[i];
            if (!char.IsAsciiHexDigit(c) && c != ':' && c != '-' && c != '+') continue;
            // Quick refusals, so words cost little: a word starting with a-f can only be a UUID or a hex id (8 or more
            // hex digits) or an IPv6 address (hex digits then ':'); ':' only starts "::"; a sign only a number.
            if (char.IsAsciiLetter(c))
            {
                var run = HexRun(message, i);
                if (run < 8 && (i + run >= message.Length || message[i + run] != ':')) continue;
            }
            else if (c == ':' ? i + 1 >= message.Length || message[i + 1] != ':' : (c is '-' or '+') && (i + 1 >= message.Length || !char.IsAsciiDigit(message[i + 1])))
            {
                continue;
            }
            var (n, mask) = Match(message, i);
            if (n == 0) continue;
            changed = true;
            Append(ref buffer, ref length, message.AsSpan(copied, i - copied));
            Append(ref buffer, ref length, mask);
            i += n - 1;
            copied = i + 1;
        }
        if (!changed) return message;
        Append(ref buffer, ref length, message.AsSpan(copied));
        _buffer = buffer;
        return buffer.AsSpan(0, length);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Append(ref char[] buffer, ref int length, ReadOnlySpan<char> text)
    {
        if (length + text.Length > buffer.Length) Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + text.Length));
        text.CopyTo(buffer.AsSpan(length));
        length += text.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int Length, string Mask) Match(string s, int i)
    {
        // Each shape is tried only where the characters at i could start it (one hex run and one digit run read first).
        int n;
        var hex = HexRun(s, i);
        var digits = Digits(s, i);
        var afterHex = i + hex < s.Length ? s[i + hex] : '\0';
        if (hex == 8 && afterHex == '-' && (n = Uuid(s, i)) > 0) return (n, "<UUID>");
        if (digits is >= 1 and <= 3 && afterHex == '.' && hex == digits && (n = IPv4(s, i)) > 0) return (n, "<IP>");
        if ((afterHex == ':' || s[i] == ':') && (n = IPv6(s, i)) > 0) return (n, "<IP>");
        if ((hex >= 8 || s[i] == '0') && (n = Hex(s, i)) > 0) return (n, "<HEX>");
        if (digits == 0 && s[i] is not ('-' or '+')) return (0, "");
        if ((n = Duration(s, i)) > 0) return (n, "<DURATION>");
        if ((n = Number(s, i)) > 0) return (n, "<NUM>");
        return (0, "");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool EndsAt(string s, int end) => end >= s.Length || !char.IsAsciiLetterOrDigit(s[end]);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int HexRun(string s, int i)
    {
        var j = i;
        while (j < s.Length && char.IsAsciiHexDigit(s[j])) j++;
        return j - i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Digits(string s, int i)
    {
        var j = i;
        while (j < s.Length && char.IsAsciiDigit(s[j])) j++;
        return j - i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Uuid(string s, int i)
    {
        var j = i;
        foreach (var group in (ReadOnlySpan<int>)[8, 4, 4, 4, 12])
        {
            if (j > i)
            {
                if (j >= s.Length || s[j] != '-') return 0;
                j++;
            }
            if (HexRun(s, j) != group) return 0;
            j += group;
        }
        return EndsAt(s, j) ? j - i : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int IPv4(string s, int i)
    {
        var j = i;
        for (var part = 0; part < 4; part++)
        {
            if (part > 0)
            {
                if (j >= s.Length || s[j] != '.') return 0;
                j++;
            }
            var d = Digits(s, j);
            if (d is 0 or > 3) return 0;
            j += d;
        }
        if (j + 1 < s.Length && s[j] == ':' && Digits(s, j + 1) is > 0 and <= 5) j += 1 + Digits(s, j + 1);
        return EndsAt(s, j) ? j - i : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int IPv6(string s, int i)
    {
        var j = i;
        int colons = 0, hex = 0;
        var doubleColon = false;
        while (j < s.Length && (char.IsAsciiHexDigit(s[j]) || s[j] == ':'))
        {
            if (s[j] == ':')
            {
                colons++;
                if (j + 1 < s.Length && s[j + 1] == ':') doubleColon = true;
            }
            else hex++;
            j++;
        }
        // A clock (10:15:30) has two colons and no "::"; an address has "::" or seven colons.
        if (colons < 2 || (!doubleColon && colons != 7) || (hex == 0 && j - i != 2)) return 0;
        return EndsAt(s, j) ? j - i : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Hex(string s, int i)
    {
        if (s[i] == '0' && i + 2 < s.Length && (s[i + 1] is 'x' or 'X') && HexRun(s, i + 2) is var n and > 0)
        {
            return EndsAt(s, i + 2 + n) ? n + 2 : 0;
        }
        var run = HexRun(s, i);
        if (run < 8 || !EndsAt(s, i + run)) return 0;
        var span = s.AsSpan(i, run);
        return span.ContainsAnyInRange('0', '9') && (span.ContainsAnyInRange('a', 'f') || span.ContainsAnyInRange('A', 'F')) ? run : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Number(string s, int i)
    {
        var j = i;
        if (s[j] is '-' or '+') j++;
        var d = Digits(s, j);
        if (d == 0) return 0;
        j += d;
        if (j + 1 < s.Length && s[j] == '.' && Digits(s, j + 1) is var f and > 0) j += 1 + f;
        return EndsAt(s, j) ? j - i : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Duration(string s, int i)
    {
        var j = i;
        while (true)
        {
            var n = NumberPrefix(s, j);
            if (n == 0) break;
            // The longest unit that follows (ms before m).
            string? unit = null;
            foreach (var u in Units)
            {
                if ((unit is null || u.Length > unit.Length) && string.CompareOrdinal(s, j + n, u, 0, u.Length) == 0) unit = u;
            }
            if (unit is null) break;
            j += n + unit.Length;
            if (EndsAt(s, j)) return j - i;
        }
        return 0;
    }

    /// <summary>The length of a number at <paramref name="i"/> that a letter follows (a duration's value).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int NumberPrefix(string s, int i)
    {
        var j = i;
        if (j < s.Length && s[j] is '-' or '+') j++;
        var d = Digits(s, j);
        if (d == 0) return 0;
        j += d;
        if (j + 1 < s.Length && s[j] == '.' && Digits(s, j + 1) is var f and > 0) j += 1 + f;
        return j < s.Length && (char.IsAsciiLetter(s[j]) || s[j] == 'µ') ? j - i : 0;
    }
}
