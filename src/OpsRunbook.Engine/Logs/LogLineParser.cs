using System.Buffers;
using System.Globalization;
using System.Text;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Reads log lines of the formats the runbooks meet: JSON lines, logfmt, NGINX/Apache combined access logs, `docker
/// compose logs --timestamps`, `kubectl logs --timestamps [--prefix]` and plain text with a leading timestamp and
/// level. The message inside Compose's and kubectl's prefixes is read again (JSON, logfmt or plain), so a level the
/// application wrote is found there too. A line that fits no format is Plain, never an error.
/// </summary>
public static partial class LogLineParser
{
    [GeneratedRegex("""^(?<addr>\S+) \S+ (?<user>\S+) \[(?<time>[^\]]+)\] "(?<request>[^"]*)" (?<status>\d{3}) (?<bytes>\d+|-)(?: "(?<referer>[^"]*)" "(?<agent>[^"]*)")?""")]
    private static partial Regex Combined();

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][A-Za-z0-9_.-]*?)\s*\| ?(?<rest>.*)$")]
    private static partial Regex ComposePrefix();

    [GeneratedRegex(@"^(?:\[(?<prefix>[^\]]+)\] )?(?<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (?<rest>.*)$")]
    private static partial Regex KubectlLine();

    [GeneratedRegex(@"^(?<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+(?<rest>.*)$")]
    private static partial Regex LeadingTimestamp();

    [GeneratedRegex("""(?<key>[A-Za-z_][A-Za-z0-9_.\-/]*)=(?:"(?<q>(?:[^"\\]|\\.)*)"|(?<v>[^ ]*))""")]
    private static partial Regex LogfmtPair();

    private static readonly string[] TimeKeys = ["time", "timestamp", "ts", "@timestamp", "t", "date"];
    private static readonly string[] LevelKeys = ["level", "lvl", "severity", "log.level", "loglevel", "at"];
    private static readonly string[] MessageKeys = ["msg", "message", "event", "text"];

    /// <summary>The format most of <paramref name="lines"/> (the first 20 that are not blank) are written in.</summary>
    public static LogFormat Detect(IEnumerable<string> lines)
    {
        var votes = new Dictionary<LogFormat, int>();
        foreach (var line in lines.Where(l => !string.IsNullOrWhiteSpace(l)).Take(20))
        {
            var f = Recognise(line);
            votes[f] = votes.GetValueOrDefault(f) + 1;
        }
        return votes.Count == 0 ? LogFormat.Plain : votes.OrderByDescending(v => v.Value).ThenBy(v => v.Key).First().Key;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LogFormat Recognise(string line)
    {
        var t = line.TrimStart();
        if (t.StartsWith('{') && JsonFields(t) is not null) return LogFormat.Json;
        if (KubectlLine().IsMatch(line) && (line.StartsWith('[') || !LeadingTimestamp().IsMatch(line) || line[10] == 'T')) return LogFormat.Kubectl;
        if (Combined().IsMatch(line)) return LogFormat.NginxCombined;
        if (ComposePrefix().Match(line) is { Success: true } c && line.Contains(" | ", StringComparison.Ordinal) && !c.Groups["name"].Value.Contains('=')) return LogFormat.Compose;
        if (IsLogfmt(line)) return LogFormat.Logfmt;
        return LogFormat.Plain;
    }

    private static bool IsLogfmt(string line)
    {
        var pairs = LogfmtPair().Matches(line);
        return pairs.Count >= 2 && pairs[0].Index == 0;
    }

    /// <summary>Reads one line in <paramref name="format"/> (Auto: the line's own).</summary>
    /// <remarks>A line the given format cannot read (a logfmt line among JSON ones, a stack trace) is read in its own.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static LogRecord Parse(string line, LogFormat format = LogFormat.Auto, string? source = null)
    {
        if (format == LogFormat.Auto || !Fits(line, format)) format = Recognise(line);
        return format switch
        {
            LogFormat.Json => Json(line, source) ?? Plain(line, source),
            LogFormat.Logfmt => Logfmt(line, source),
            LogFormat.NginxCombined => Access(line, source) ?? Plain(line, source),
            LogFormat.Compose => Compose(line, source),
            LogFormat.Kubectl => Kubectl(line, source),
            _ => Plain(line, source),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Fits(string line, LogFormat format) => format switch
    {
        LogFormat.Json => line.TrimStart().StartsWith('{'),
        LogFormat.Logfmt => IsLogfmt(line),
        LogFormat.NginxCombined => Combined().IsMatch(line),
        LogFormat.Compose => ComposePrefix().IsMatch(line) && line.Contains('|', StringComparison.Ordinal),
        LogFormat.Kubectl => KubectlLine().IsMatch(line),
        _ => true,
    };

    /// <summary>
    /// The members of a one-line JSON object (strings unescaped, anything else as its JSON text), read in one pass with
    /// Utf8JsonReader; null when the line is not a JSON object.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Dictionary<string, string>? JsonFields(string line)
    {
        var max = Encoding.UTF8.GetMaxByteCount(line.Length);
        var rented = max <= 4096 ? null : ArrayPool<byte>.Shared.Rent(max);
        Span<byte> buffer = rented ?? stackalloc byte[4096];
        try
        {
            var bytes = buffer[..Encoding.UTF8.GetBytes(line, buffer)];
            var reader = new Utf8JsonReader(bytes);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        fields[name] = reader.GetString()!;
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        fields[name] = Encoding.UTF8.GetString(bytes[start..(int)reader.BytesConsumed]);
                        break;
                    default:
                        fields[name] = Encoding.UTF8.GetString(reader.ValueSpan);
                        break;
                }
            }
            // The object must close and nothing but blanks may follow.
            if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0) return null;
            return reader.Read() ? null : fields;
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LogRecord? Json(string line, string? source) =>
        JsonFields(line) is { } fields ? Structured(fields, line, LogFormat.Json, source) : null;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LogRecord Logfmt(string line, string? source)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in LogfmtPair().Matches(line))
        {
            fields[m.Groups["key"].Value] = m.Groups["q"].Success ? Regex.Unescape(m.Groups["q"].Value) : m.Groups["v"].Value;
        }
        return Structured(fields, line, LogFormat.Logfmt, source);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LogRecord Structured(Dictionary<string, string> fields, string line, LogFormat format, string? source)
    {
        string? Pick(string[] keys)
        {
            foreach (var k in keys)
            {
                if (fields.TryGetValue(k, out var v) && !string.IsNullOrEmpty(v)) return v;
            }
            return null;
        }
        return new LogRecord
        {
            Timestamp = Time(Pick(TimeKeys)),
            Level = NormalLevel(Pick(LevelKeys)),
            Message = Pick(MessageKeys) ?? (format == LogFormat.Logfmt ? line : ""),
            Fields = fields,
            Format = format,
            Raw = line,
            Source = source,
        };
    }

    private static LogRecord? Access(string line, string? source)
    {
        var m = Combined().Match(line);
        if (!m.Success) return null;
        var status = int.Parse(m.Groups["status"].Value, CultureInfo.InvariantCulture);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["remote_addr"] = m.Groups["addr"].Value, ["remote_user"] = m.Groups["user"].Value, ["request"] = m.Groups["request"].Value,
            ["status"] = m.Groups["status"].Value, ["body_bytes_sent"] = m.Groups["bytes"].Value,
        };
        if (m.Groups["referer"].Success) fields["http_referer"] = m.Groups["referer"].Value;
        if (m.Groups["agent"].Success) fields["http_user_agent"] = m.Groups["agent"].Value;
        return new LogRecord
        {
            Timestamp = DateTimeOffset.TryParseExact(m.Groups["time"].Value, "dd/MMM/yyyy:HH:mm:ss zzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t) ? t.ToUniversalTime() : null,
            Level = status >= 500 ? "ERROR" : status >= 400 ? "WARN" : "INFO",
            Message = $"{m.Groups["request"].Value} {status}",
            Fields = fields,
            Format = LogFormat.NginxCombined,
            Raw = line,
            Source = source,
        };
    }

    private static LogRecord Compose(string line, string? source)
    {
        var m = ComposePrefix().Match(line);
        if (!m.Success) return Plain(line, source);
        var name = m.Groups["name"].Value;
        var rest = m.Groups["rest"].Value;
        DateTimeOffset? ts = null;
        if (LeadingTimestamp().Match(rest) is { Success: true } t)
        {
            ts = Time(t.Groups["ts"].Value);
            rest = t.Groups["rest"].Value;
        }
        var inner = Parse(rest, LogFormat.Auto, source);
        var dash = name.LastIndexOf('-');
        return Wrap(inner, line, LogFormat.Compose, ts) with
        {
            Service = dash > 0 && name[(dash + 1)..].All(char.IsAsciiDigit) ? name[..dash] : name,
            Instance = name,
        };
    }

    private static LogRecord Kubectl(string line, string? source)
    {
        var m = KubectlLine().Match(line);
        if (!m.Success) return Plain(line, source);
        var inner = Parse(m.Groups["rest"].Value, LogFormat.Auto, source);
        var record = Wrap(inner, line, LogFormat.Kubectl, Time(m.Groups["ts"].Value));
        if (m.Groups["prefix"].Success)
        {
            // kubectl --prefix: [pod/NAME/CONTAINER]
            var parts = m.Groups["prefix"].Value.Split('/');
            record = record with { Pod = parts.Length >= 2 ? parts[1] : parts[0], Container = parts.Length >= 3 ? parts[2] : null };
        }
        return record;
    }

    /// <summary>The record of an inner message under a prefix that carried the time.</summary>
    private static LogRecord Wrap(LogRecord inner, string line, LogFormat format, DateTimeOffset? ts) => new()
    {
        Timestamp = ts ?? inner.Timestamp, Level = inner.Level, Message = inner.Message, Fields = inner.Fields, Format = format, Raw = line, Source = inner.Source,
    };

    private static readonly string[] PlainLevels = ["TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "FATAL", "CRITICAL", "CRIT", "PANIC", "EMERG", "ALERT"];

    /// <summary>
    /// A leading timestamp, then a leading level (<c>[ERROR]</c>, <c>ERROR:</c>…), then the message: what the
    /// LeadingTimestamp and LeadingLevel expressions say, read by hand because a scan reads many of these lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static LogRecord Plain(string line, string? source)
    {
        var at = 0;
        DateTimeOffset? ts = null;
        var end = TimestampEnd(line);
        if (end > 0 && end < line.Length && char.IsWhiteSpace(line[end]))
        {
            ts = Iso(line.AsSpan(0, end)) ?? Time(line[..end]);
            at = end;
            while (at < line.Length && char.IsWhiteSpace(line[at])) at++;
        }
        string? level = null;
        var i = at;
        if (i < line.Length && line[i] == '[') i++;
        var wordStart = i;
        while (i < line.Length && char.IsAsciiLetter(line[i])) i++;
        var word = line.AsSpan(wordStart, i - wordStart);
        var known = -1;
        for (var k = 0; k < PlainLevels.Length && known < 0; k++) if (word.Equals(PlainLevels[k], StringComparison.OrdinalIgnoreCase)) known = k;
        if (known >= 0)
        {
            if (i < line.Length && line[i] == ']') i++;
            if (i < line.Length && line[i] == ':') i++;
            if (i < line.Length && char.IsWhiteSpace(line[i]))
            {
                while (i < line.Length && char.IsWhiteSpace(line[i])) i++;
                level = PlainLevelNames[known];
                at = i;
            }
        }
        return new LogRecord { Timestamp = ts, Level = level, Message = at == 0 ? line : line[at..], Format = LogFormat.Plain, Raw = line, Source = source };
    }

    /// <summary>The end of a leading yyyy-MM-dd[T ]HH:mm:ss[.fff][Z|±hh[:]mm], or 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int TimestampEnd(string s)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
        static bool Digits(string s, int i, int n)
        {
            if (i + n > s.Length) return false;
            for (var k = i; k < i + n; k++) if (!char.IsAsciiDigit(s[k])) return false;
            return true;
        }
        if (s.Length < 19 || !Digits(s, 0, 4) || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' || !Digits(s, 8, 2) || (s[10] != 'T' && s[10] != ' ')
            || !Digits(s, 11, 2) || s[13] != ':' || !Digits(s, 14, 2) || s[16] != ':' || !Digits(s, 17, 2)) return 0;
        var i = 19;
        if (i + 1 < s.Length && (s[i] == '.' || s[i] == ',') && char.IsAsciiDigit(s[i + 1]))
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        }
        if (i < s.Length && s[i] == 'Z') return i + 1;
        if (i < s.Length && (s[i] == '+' || s[i] == '-') && Digits(s, i + 1, 2))
        {
            if (i + 3 < s.Length && s[i + 3] == ':' && Digits(s, i + 4, 2)) return i + 6;
            if (Digits(s, i + 3, 2)) return i + 5;
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DateTimeOffset? Time(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (Iso(text) is { } iso) return iso;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var epoch))
        {
            // Unix seconds (zap, logrus) or milliseconds (pino, bunyan's numbers)
            return epoch > 1e11 ? DateTimeOffset.FromUnixTimeMilliseconds((long)epoch) : DateTimeOffset.FromUnixTimeMilliseconds((long)(epoch * 1000));
        }
        var normal = text.Replace(',', '.');
        return DateTimeOffset.TryParse(normal, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    /// <summary>
    /// The common shape read without the general parser (the hot path of a scan): yyyy-MM-dd, 'T' or ' ', HH:mm:ss,
    /// an optional fraction after '.' or ',', then Z, ±hh:mm, ±hhmm or nothing (UTC). Anything else: null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static DateTimeOffset? Iso(ReadOnlySpan<char> s)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
        static int D(ReadOnlySpan<char> s, int i, int n)
        {
            var v = 0;
            for (var k = i; k < i + n; k++)
            {
                if (!char.IsAsciiDigit(s[k])) return -1;
                v = v * 10 + (s[k] - '0');
            }
            return v;
        }
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') return null;
        int year = D(s, 0, 4), month = D(s, 5, 2), day = D(s, 8, 2), hour = D(s, 11, 2), minute = D(s, 14, 2), second = D(s, 17, 2);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Max(1, year), month) || hour is < 0 or > 23 || minute is < 0 or > 59 || second is < 0 or > 59) return null;
        var i = 19;
        long ticks = 0;
        if (i < s.Length && (s[i] == '.' || s[i] == ','))
        {
            var scale = TimeSpan.TicksPerSecond;
            i++;
            var start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                scale /= 10;
                ticks += (s[i] - '0') * scale;
                i++;
            }
            if (i == start) return null;
        }
        var offset = TimeSpan.Zero;
        if (i < s.Length)
        {
            if (s[i] == 'Z' && i == s.Length - 1) { }
            else if ((s[i] == '+' || s[i] == '-') && (s.Length - i == 6 && s[i + 3] == ':' || s.Length - i == 5))
            {
                var oh = D(s, i + 1, 2);
                var om = D(s, s.Length - 2, 2);
                if (oh is < 0 or > 14 || om is < 0 or > 59) return null;
                offset = new TimeSpan(oh, om, 0) * (s[i] == '-' ? -1 : 1);
            }
            else return null;
        }
        return new DateTimeOffset(new DateTime(year, month, day, hour, minute, second).AddTicks(ticks), offset).ToUniversalTime();
    }

    /// <summary>Every spelling a level is read from (any case), with the level it means; <see cref="NormalLevel"/> reads by it, and a filter on levels finds candidate lines by it.</summary>
    public static readonly IReadOnlyDictionary<string, string> LevelSpellings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["WARNING"] = "WARN", ["WARN"] = "WARN", ["W"] = "WARN", ["40"] = "WARN",
        ["ERR"] = "ERROR", ["ERROR"] = "ERROR", ["E"] = "ERROR", ["50"] = "ERROR",
        ["FATAL"] = "FATAL", ["CRITICAL"] = "FATAL", ["CRIT"] = "FATAL", ["PANIC"] = "FATAL", ["EMERG"] = "FATAL", ["ALERT"] = "FATAL", ["60"] = "FATAL",
        ["INFORMATION"] = "INFO", ["INFO"] = "INFO", ["I"] = "INFO", ["NOTICE"] = "INFO", ["30"] = "INFO",
        ["DEBUG"] = "DEBUG", ["D"] = "DEBUG", ["20"] = "DEBUG",
        ["TRACE"] = "TRACE", ["10"] = "TRACE",
    };

    // After LevelSpellings: static fields are set in the order they are written.
    private static readonly string[] PlainLevelNames = PlainLevels.Select(l => LevelSpellings[l]).ToArray();

    /// <summary>A level in the module's words: TRACE, DEBUG, INFO, WARN, ERROR, FATAL (numbers as pino/bunyan write them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string? NormalLevel(string? level)
    {
        var t = level?.Trim();
        if (string.IsNullOrEmpty(t)) return null;
        return LevelSpellings.TryGetValue(t, out var normal) ? normal : t.ToUpperInvariant();
    }
}
