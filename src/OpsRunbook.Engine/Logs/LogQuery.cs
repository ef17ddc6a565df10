using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Which log records count and what they are grouped by: a preset (the runbooks' questions), levels, a pattern, a time
/// window. It also gives the words one of which every counted line must contain (<see cref="Candidates"/>), so a scan
/// reads only the lines that hold one — as grep does — and parses nothing else; the words are derived from the same
/// rules <see cref="Matches"/> applies, so the shortcut never drops a line the rules would count.
/// </summary>
public sealed partial class LogQuery
{
    /// <summary>The preset.</summary>
    public LogPreset Preset { get; init; }
    /// <summary>The grouping (default: the preset's).</summary>
    public LogGrouping? GroupBy { get; init; }
    /// <summary>Only these levels (normalized: ERROR, WARN…); empty for any.</summary>
    public IReadOnlyCollection<string> Levels { get; init; } = [];
    /// <summary>Only lines this pattern matches (case-insensitive, on the whole line).</summary>
    public Regex? Filter { get; init; }
    /// <summary>Only records at or after this time (records without a time are left out when set).</summary>
    public DateTimeOffset? Since { get; init; }
    /// <summary>Only records before this time.</summary>
    public DateTimeOffset? Until { get; init; }
    /// <summary>The SlowRequest threshold.</summary>
    public TimeSpan SlowerThan { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The grouping in force: the one asked for, else the preset's.</summary>
    public LogGrouping Grouping => GroupBy ?? Preset switch
    {
        LogPreset.FailedLogin => new LogGrouping(LogGroupKind.Client),
        LogPreset.SlowRequest => new LogGrouping(LogGroupKind.Route),
        _ => new LogGrouping(LogGroupKind.Template),
    };

    [GeneratedRegex(@"\b(?:log(?:-| )?in|sign(?:-| )?in|password|passwd|authenticat\w*|auth|credentials?)\b.*?\b(?:fail\w*|invalid|denied|rejected|incorrect)\b|\b(?:fail\w*|invalid|denied|rejected|incorrect)\b.*?\b(?:log(?:-| )?in|sign(?:-| )?in|password|passwd|authenticat\w*|auth|credentials?)\b", RegexOptions.IgnoreCase)]
    private static partial Regex FailedLoginLine();
    private static readonly string[] FailedLoginWords = ["fail", "invalid", "denied", "rejected", "incorrect"];

    [GeneratedRegex(@"\b(?:unauthori[sz]ed|forbidden|denied|blocked|fail\w*)\b|\b(?:401|403)\b", RegexOptions.IgnoreCase)]
    private static partial Regex AuthLine();
    private static readonly string[] AuthWords = ["unauthori", "forbidden", "denied", "blocked", "fail", "401", "403"];

    private static readonly string[] DurationKeys = ["response_time_ms", "response_time", "responsetime", "responsetimems", "request_time", "upstream_response_time", "duration_ms", "duration", "elapsed_ms", "elapsed", "latency_ms", "latency", "took_ms", "took", "time_ms", "totalduration"];
    private static readonly string[] DurationWords = ["time", "duration", "elapsed", "latency", "took"];

    [GeneratedRegex(@"\b(?<key>response_time(?:_ms)?|responseTime|request_time|duration(?:_ms)?|elapsed(?:_ms)?|latency(?:_ms)?|took(?:_ms)?|time_ms)\b[""']?\s*[=:]?\s*[""']?(?<value>\d+(?:\.\d+)?)(?<unit>ns|us|µs|ms|s|m|h)?\b", RegexOptions.IgnoreCase)]
    private static partial Regex DurationInText();

    private static readonly string[] ClientKeys = ["client_ip", "clientIp", "client.ip", "ip", "remote_addr", "remote_ip", "remoteAddress", "src_ip", "source_ip", "source.ip", "ip_address", "x_forwarded_for", "fwd", "addr"];
    private static readonly string[] RouteKeys = ["route", "path", "url", "uri", "endpoint", "req.url", "http.route", "url.path", "request_uri"];

    [GeneratedRegex(@"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])|(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")]
    private static partial Regex IpInText();

    [GeneratedRegex(@"(?<![\w])/[A-Za-z0-9._~%!$&'()*+,;=:@/\-]*")]
    private static partial Regex PathInText();

    /// <summary>
    /// The words (any case) one of which every line this query can count contains, or null when no such words exist
    /// (no filter beyond time and pattern). Derived from the level spellings, the presets' patterns and the duration
    /// keys. In a file read as <see cref="LogFormat.Plain"/> a level is a word at the line's start, so only the words
    /// are looked for; elsewhere also a one-letter or numeric level standing alone ("e", :50) and an access log's
    /// status (the digit after the request's closing quote).
    /// </summary>
    public ByteSieve? Candidates(LogFormat format)
    {
        var sets = new List<SieveWord[]>();
        var levels = Levels.Count > 0 ? Levels : Preset == LogPreset.Error ? new string[] { "ERROR", "FATAL" } : [];
        if (levels.Count > 0) sets.Add(LevelWords(levels, format));
        switch (Preset)
        {
            case LogPreset.FailedLogin: sets.Add(Words(FailedLoginWords)); break;
            case LogPreset.Auth: sets.Add(Words(AuthWords)); break;
            case LogPreset.SlowRequest: sets.Add(Words(DurationWords)); break;
        }
        // Any one set's words are necessary; the smallest set is the sharpest sieve.
        var words = sets.OrderBy(s => s.Length).FirstOrDefault();
        if (words is null) return null;
        // In plain text a level stands only at the level's place: a line whose first level word is elsewhere has none.
        var levelsOnly = format == LogFormat.Plain && levels.Count > 0 && ReferenceEquals(words, sets[0]);
        return new ByteSieve(words) { PlainLevelOnly = levelsOnly };
    }

    private static SieveWord[] Words(IEnumerable<string> words) => words.Select(w => new SieveWord(w)).ToArray();

    private static SieveWord[] LevelWords(IEnumerable<string> levels, LogFormat format)
    {
        var wanted = new HashSet<string>(levels, StringComparer.OrdinalIgnoreCase);
        var words = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var whole = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (spelling, level) in LogLineParser.LevelSpellings)
        {
            if (!wanted.Contains(level)) continue;
            if (spelling.Length >= 3 && spelling.All(char.IsAsciiLetter))
            {
                words.Add(spelling);
            }
            else if (format != LogFormat.Plain)
            {
                // One letter or a number stands alone as a value: "e", =e, :50, : 50, =50.
                words.Add("\"" + spelling + "\"");
                foreach (var form in (string[])[":" + spelling, ": " + spelling, "=" + spelling]) whole.Add(form);
            }
        }
        if (format != LogFormat.Plain)
        {
            // An access log's level is its status: the digit after the request's closing quote.
            foreach (var level in wanted)
            {
                foreach (var digit in level.ToUpperInvariant() switch { "ERROR" => "5", "WARN" => "4", "INFO" => "123", _ => "" }) words.Add("\" " + digit);
            }
        }
        // A word that contains another is redundant ("error" holds "err").
        var all = words.Concat(whole).ToList();
        return words.Where(w => !all.Any(o => o.Length < w.Length && !whole.Contains(o) && w.Contains(o, StringComparison.OrdinalIgnoreCase)))
            .Select(w => new SieveWord(w)).Concat(whole.Select(w => new SieveWord(w, WholeEnd: true))).ToArray();
    }

    /// <summary>True when the record counts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Matches(LogRecord record)
    {
        if (Since is { } since && (record.Timestamp is not { } t1 || t1 < since)) return false;
        if (Until is { } until && (record.Timestamp is not { } t2 || t2 >= until)) return false;
        if (Levels.Count > 0 && (record.Level is null || !Levels.Contains(record.Level, StringComparer.OrdinalIgnoreCase))) return false;
        if (Filter is not null && !Filter.IsMatch(record.Raw)) return false;
        return Preset switch
        {
            LogPreset.Error => record.Level is "ERROR" or "FATAL",
            LogPreset.FailedLogin => FailedLoginLine().IsMatch(record.Raw),
            LogPreset.Auth => AuthLine().IsMatch(record.Raw) || Status(record) is 401 or 403,
            LogPreset.SlowRequest => DurationOf(record) is { } d && d >= SlowerThan,
            _ => true,
        };
    }

    private static int? Status(LogRecord record)
    {
        foreach (var key in (string[])["status", "status_code", "statusCode", "http.status_code", "res.statusCode"])
        {
            if (record.Fields.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var s)) return s;
        }
        return null;
    }

    /// <summary>
    /// The request's duration: a duration field (a unit in the value wins; a key ending in _ms, responseTime and
    /// response_time are milliseconds; request_time and upstream_response_time are NGINX's seconds; a bare number
    /// elsewhere is milliseconds: Railway's totalDuration too), else a duration written in the message ("response_time=1234", "took 1.5s").
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static TimeSpan? DurationOf(LogRecord record)
    {
        foreach (var (key, value) in record.Fields)
        {
            var k = key.Replace("-", "_", StringComparison.Ordinal);
            if (!DurationKeys.Contains(k, StringComparer.OrdinalIgnoreCase)) continue;
            if (Duration(k, value, null) is { } d) return d;
        }
        var m = DurationInText().Match(record.Message.Length > 0 ? record.Message : record.Raw);
        return m.Success ? Duration(m.Groups["key"].Value, m.Groups["value"].Value, m.Groups["unit"].Success ? m.Groups["unit"].Value : null) : null;
    }

    private static TimeSpan? Duration(string key, string value, string? unit)
    {
        var text = value.Trim().Trim('"');
        var digits = text.TakeWhile(c => char.IsAsciiDigit(c) || c == '.').Count();
        if (digits == 0 || !double.TryParse(text.AsSpan(0, digits), NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return null;
        unit ??= text[digits..].Trim();
        if (unit.Length > 0) return Unit(n, unit);
        var seconds = key.Equals("request_time", StringComparison.OrdinalIgnoreCase) || key.Equals("upstream_response_time", StringComparison.OrdinalIgnoreCase);
        return seconds ? TimeSpan.FromSeconds(n) : TimeSpan.FromMilliseconds(n);
    }

    private static TimeSpan? Unit(double n, string unit) => unit.ToLowerInvariant() switch
    {
        "ns" => TimeSpan.FromTicks((long)(n / 100)),
        "us" or "µs" => TimeSpan.FromTicks((long)(n * 10)),
        "ms" => TimeSpan.FromMilliseconds(n),
        "s" or "sec" or "secs" or "seconds" => TimeSpan.FromSeconds(n),
        "m" or "min" or "mins" => TimeSpan.FromMinutes(n),
        "h" => TimeSpan.FromHours(n),
        _ => null,
    };

    /// <summary>The record's key under the grouping (Template is the caller's: it mines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string Key(LogRecord record, LogGrouping grouping) => grouping.Kind switch
    {
        LogGroupKind.Level => record.Level ?? "-",
        LogGroupKind.Service => record.Service ?? "-",
        LogGroupKind.Instance => record.Instance ?? record.Pod ?? "-",
        LogGroupKind.Field => FieldValue(record, grouping.Field!) ?? "-",
        LogGroupKind.Client => Client(record) ?? "-",
        LogGroupKind.Route => Route(record) ?? "-",
        _ => record.Message,
    };

    /// <summary>A field's value: the record's own field, else name=value or name: value written in the message.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string? FieldValue(LogRecord record, string name)
    {
        if (record.Fields.TryGetValue(name, out var v)) return v;
        var at = 0;
        var text = record.Message;
        while ((at = text.IndexOf(name, at, StringComparison.Ordinal)) >= 0)
        {
            var before = at == 0 || !char.IsAsciiLetterOrDigit(text[at - 1]) && text[at - 1] != '_';
            var end = at + name.Length;
            at = end;
            if (!before || end >= text.Length || text[end] is not ('=' or ':')) continue;
            var start = end + 1;
            while (start < text.Length && text[start] == ' ') start++;
            var quoted = start < text.Length && text[start] == '"';
            if (quoted) start++;
            var stop = start;
            while (stop < text.Length && (quoted ? text[stop] != '"' : text[stop] is not (' ' or ',' or ';'))) stop++;
            if (stop > start) return text[start..stop];
        }
        return null;
    }

    private static string? Client(LogRecord record)
    {
        foreach (var key in ClientKeys)
        {
            if (record.Fields.TryGetValue(key, out var v) && v.Length > 0 && v != "-") return v.Split(',')[0].Trim();
        }
        // An IPv6 address has "::" or seven colons; a clock (09:12:32) has neither.
        return IpInText().Matches(record.Message).Select(m => m.Value)
            .FirstOrDefault(v => v.Contains('.', StringComparison.Ordinal) || v.Contains("::", StringComparison.Ordinal) || v.Count(c => c == ':') == 7);
    }

    private static string? Route(LogRecord record)
    {
        string? path = null;
        foreach (var key in RouteKeys)
        {
            if (record.Fields.TryGetValue(key, out var v) && v.Length > 0) { path = v; break; }
        }
        if (path is null && record.Fields.TryGetValue("request", out var request))
        {
            // "GET /orders/12?x=1 HTTP/1.1"
            var parts = request.Split(' ');
            path = parts.Length >= 2 ? parts[0] + " " + parts[1] : request;
        }
        if (path is null && PathInText().Match(record.Message) is { Success: true } m) path = m.Value;
        if (path is null) return null;
        var q = path.IndexOf('?', StringComparison.Ordinal);
        return LogMasker.Mask(q >= 0 ? path[..q] : path);
    }
}
