using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Streams log records out of text: one line at a time (memory bounded by the longest line and the 20 lines that
/// decide the format), gzip files opened as such, and every secret a line may carry masked before it leaves: passwords
/// in connection URLs and Password= pairs, bearer tokens and Authorization headers, and any value the session resolved.
/// </summary>
public static partial class LogReader
{
    private const int DetectionLines = 20;

    [GeneratedRegex(@"(?i)\b(bearer|token|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*")]
    private static partial Regex BearerToken();

    [GeneratedRegex(@"(?i)\b(authorization|x-api-key|\w*(?:api[_-]?key|token|secret|passwd|password|pwd))(""?\s*[:=]\s*""?)[^\s"",;&]+")]
    private static partial Regex SecretPair();

    /// <summary>Words one of which every pattern below needs (a URL's "://", "pass", "bearer"…): a line with none is clean, and skips the expressions.</summary>
    private static readonly string[] SecretHints = ["://", "pass", "pwd", "bearer", "token", "basic", "author", "api", "secret"];

    /// <summary>The same words, for a caller that holds the line's UTF-8 bytes.</summary>
    internal static readonly ByteSieve SecretHintSieve = new(SecretHints.Select(h => new SieveWord(h)));

    /// <summary>A line with its secrets masked: connection-string passwords, bearer tokens, key/secret pairs, and what <paramref name="known"/> scrubs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Scrub(string line, Func<string, string>? known = null) => Scrub(line, known, MayHoldSecret(line));

    private static bool MayHoldSecret(string line)
    {
        foreach (var hint in SecretHints)
        {
            if (line.Contains(hint, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>As above, told whether the line holds one of the words every pattern needs (false: only <paramref name="known"/> applies).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static string Scrub(string line, Func<string, string>? known, bool mayHoldSecret)
    {
        var text = line;
        if (mayHoldSecret)
        {
            text = Secrets.SecretValue.Redact(text);
            text = BearerToken().Replace(text, m => m.Groups[1].Value + " ***");
            text = SecretPair().Replace(text, m => m.Groups[1].Value + m.Groups[2].Value + "***");
        }
        return known is null ? text : known(text);
    }

    /// <summary>Opens a log file as text; gzip (by its magic bytes, whatever its name) is decompressed as it is read.</summary>
    public static TextReader OpenFile(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
        var magic = new byte[2];
        var n = stream.Read(magic, 0, 2);
        stream.Position = 0;
        Stream body = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GZipStream(stream, CompressionMode.Decompress) : stream;
        return new StreamReader(body, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 64 * 1024);
    }

    /// <summary>The records of <paramref name="lines"/>, read in <paramref name="format"/> (Auto: detected from the first lines).</summary>
    public static IEnumerable<LogRecord> Read(IEnumerable<string> lines, LogFormat format, string? source = null, Func<string, string>? known = null)
    {
        var head = new List<string>(DetectionLines);
        using var e = lines.GetEnumerator();
        if (format == LogFormat.Auto)
        {
            while (head.Count < DetectionLines && e.MoveNext()) head.Add(e.Current);
            format = LogLineParser.Detect(head);
        }
        foreach (var line in head)
        {
            if (line.Length > 0) yield return Record(line, format, source, known);
        }
        while (e.MoveNext())
        {
            if (e.Current.Length > 0) yield return Record(e.Current, format, source, known);
        }
    }

    /// <summary>The lines of a reader, lazily.</summary>
    public static IEnumerable<string> Lines(TextReader reader)
    {
        while (reader.ReadLine() is { } line) yield return line;
    }

    /// <summary>One line, its secrets masked before it is parsed (a line in another format than most is read in its own).</summary>
    private static LogRecord Record(string line, LogFormat format, string? source, Func<string, string>? known) =>
        LogLineParser.Parse(Scrub(line, known), format, source);
}
