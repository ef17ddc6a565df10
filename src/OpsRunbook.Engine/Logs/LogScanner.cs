using System.Buffers;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text;

namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Answers a <see cref="LogQuery"/> over a log file without one object per line: the file is cut into parts at line
/// boundaries, read by all cores at once, and in each part only the lines that contain one of the query's words
/// (<see cref="LogQuery.Candidates"/>) are parsed, as grep finds them (<see cref="ByteSieve"/>, over the undecoded bytes); the
/// parts' counters merge in file order. Gzip files are read in one pass, UTF-16 ones line by line. Memory: a 1 MiB
/// buffer per core and the counters.
/// </summary>
public static class LogScanner
{
    /// <summary>The size of the parts a file is cut into; fixed, so the answer does not depend on the core count.</summary>
    public const int PartSize = 32 << 20;

    private const int BufferSize = 1 << 20;

    /// <summary>Counts the records of <paramref name="path"/> that <paramref name="query"/> selects.</summary>
    /// <param name="path">The file (plain or gzip).</param>
    /// <param name="format">The lines' format; Auto detects it from the first 20 lines.</param>
    /// <param name="query">What counts and how it is grouped.</param>
    /// <param name="known">Masks the values the session resolved (applied to every line that is parsed).</param>
    /// <param name="maxParallelism">Parts read at once (default: the cores).</param>
    /// <param name="cancellation">Stops the scan.</param>
    public static LogPatternCounter Count(string path, LogFormat format, LogQuery query, Func<string, string>? known = null, int maxParallelism = 0, CancellationToken cancellation = default) =>
        Count(path, format, query, known, maxParallelism, PartSize, cancellation);

    /// <summary>As above, with parts of <paramref name="partSize"/> bytes (tests cut small files into many parts).</summary>
    internal static LogPatternCounter Count(string path, LogFormat format, LogQuery query, Func<string, string>? known, int maxParallelism, int partSize, CancellationToken cancellation)
    {
        if (format == LogFormat.Auto)
        {
            using var head = LogReader.OpenFile(path);
            format = LogLineParser.Detect(LogReader.Lines(head).Take(20));
        }
        var sieve = query.Candidates(format);
        var kind = Kind(path, out var length);
        if (kind == FileKind.Utf16)
        {
            // Rare enough to read line by line, every line parsed.
            using var reader = LogReader.OpenFile(path);
            var counter = new LogPatternCounter(query);
            foreach (var line in LogReader.Lines(reader))
            {
                cancellation.ThrowIfCancellationRequested();
                counter.Lines++;
                Line(line, format, path, counter, known);
            }
            return counter;
        }
        if (kind == FileKind.Gzip)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            var counter = new LogPatternCounter(query);
            Blocks(gzip, 0, long.MaxValue, format, sieve, path, counter, known, cancellation);
            return counter;
        }
        var parts = (int)Math.Max(1, (length + partSize - 1) / partSize);
        var counters = new LogPatternCounter[parts];
        var options = new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = maxParallelism > 0 ? maxParallelism : Environment.ProcessorCount };
        try
        {
            Parallel.For(0, parts, options, Scan);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // A part that could not be read fails the scan with its own error (an IOException), not a wrapper.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        for (var i = 1; i < parts; i++) counters[0].Merge(counters[i]);
        return counters[0];

        void Scan(int i)
        {
            var counter = new LogPatternCounter(query);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
            var start = (long)i * partSize;
            file.Position = start == 0 ? SkipBom(file) : LineStartAfter(file, start - 1);
            Blocks(file, file.Position, Math.Min(length, start + partSize), format, sieve, path, counter, known, cancellation);
            counters[i] = counter;
        }
    }

    private enum FileKind { Utf8, Gzip, Utf16 }

    private static FileKind Kind(string path, out long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        length = stream.Length;
        Span<byte> magic = stackalloc byte[2];
        var n = stream.Read(magic);
        if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return FileKind.Gzip;
        return n == 2 && ((magic[0] == 0xff && magic[1] == 0xfe) || (magic[0] == 0xfe && magic[1] == 0xff)) ? FileKind.Utf16 : FileKind.Utf8;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Line(string line, LogFormat format, string source, LogPatternCounter counter, Func<string, string>? known)
    {
        if (line.Length == 0) return;
        counter.Add(LogLineParser.Parse(LogReader.Scrub(line, known), format, source));
    }

    /// <summary>Reads <paramref name="stream"/> (positioned at <paramref name="offset"/>, a line's start) in blocks of whole lines, for the lines that start before <paramref name="end"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocks(Stream stream, long offset, long end, LogFormat format, ByteSieve? sieve, string source, LogPatternCounter counter, Func<string, string>? known, CancellationToken cancellation)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var filled = 0;
            while (offset < end)
            {
                cancellation.ThrowIfCancellationRequested();
                var read = stream.Read(bytes, filled, bytes.Length - filled);
                filled += read;
                var eof = read == 0;
                if (eof && filled == 0) break;
                var usable = eof ? filled : bytes.AsSpan(0, filled).LastIndexOf((byte)'\n') + 1;
                if (usable == 0)
                {
                    if (filled < bytes.Length) continue;
                    // A line longer than the buffer: grow it.
                    var bigger = ArrayPool<byte>.Shared.Rent(bytes.Length * 2);
                    bytes.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(bytes);
                    bytes = bigger;
                    continue;
                }
                // Only the lines that start before the end are this part's.
                var last = false;
                if (offset + usable > end)
                {
                    var from = (int)(end - offset - 1);
                    var endOfLine = bytes.AsSpan(from, usable - from).IndexOf((byte)'\n');
                    if (endOfLine >= 0) usable = from + endOfLine + 1;
                    last = true;
                }
                Block(bytes.AsSpan(0, usable), format, sieve, source, counter, known);
                if (last || eof) break;
                bytes.AsSpan(usable, filled - usable).CopyTo(bytes);
                filled -= usable;
                offset += usable;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The lines of a block of whole lines: every line, or only those around a hit of the sieve (the rest are never decoded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(ReadOnlySpan<byte> text, LogFormat format, ByteSieve? sieve, string source, LogPatternCounter counter, Func<string, string>? known)
    {
        counter.Lines += text.Count((byte)'\n') + (text.Length > 0 && text[^1] != (byte)'\n' ? 1 : 0);
        var at = 0;
        while (at < text.Length)
        {
            var rest = text[at..];
            int lineStart, lineEnd;
            if (sieve is null)
            {
                lineStart = at;
                var nl = rest.IndexOf((byte)'\n');
                lineEnd = nl < 0 ? text.Length : at + nl;
            }
            else
            {
                var hit = sieve.Find(rest);
                if (hit < 0) return;
                hit += at;
                lineStart = text[..hit].LastIndexOf((byte)'\n') + 1;
                var nl = text[hit..].IndexOf((byte)'\n');
                lineEnd = nl < 0 ? text.Length : hit + nl;
                if (sieve.PlainLevelOnly && ByteSieve.PlainLevelPosition(text[lineStart..lineEnd]) is var level and >= 0 && lineStart + level != hit)
                {
                    at = lineEnd + 1;
                    continue;
                }
            }
            var line = text[lineStart..lineEnd];
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            if (line.Length > 0)
            {
                var decoded = Encoding.UTF8.GetString(line);
                counter.Add(LogLineParser.Parse(LogReader.Scrub(decoded, known, LogReader.SecretHintSieve.Find(line) >= 0), format, source));
            }
            at = lineEnd + 1;
        }
    }

    private static long SkipBom(FileStream file)
    {
        Span<byte> bom = stackalloc byte[3];
        file.Position = 0;
        var bomLength = file.Read(bom) == 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF ? 3 : 0;
        return bomLength;
    }

    /// <summary>The offset of the first line that starts after <paramref name="from"/> (the byte before a part).</summary>
    private static long LineStartAfter(FileStream file, long from)
    {
        Span<byte> buffer = stackalloc byte[4096];
        file.Position = from;
        var offset = from;
        while (true)
        {
            var read = file.Read(buffer);
            if (read == 0) return offset;
            var nl = buffer[..read].IndexOf((byte)'\n');
            if (nl >= 0) return offset + nl + 1;
            offset += read;
        }
    }
}
