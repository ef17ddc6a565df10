using System.IO.Compression;
using System.Text;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// The presets, the groupings, the sieve that lets a scan skip lines (it must never skip one the rules count) and the
/// parallel scan (same answer whatever the parts).
/// </summary>
public sealed class LogPatternTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opsrunbook-logs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Lines with every level spelling the parser reads, in every format, plus lines that only look like errors.</summary>
    private static IEnumerable<string> Corpus()
    {
        var n = 0;
        foreach (var (spelling, _) in LogLineParser.LevelSpellings)
        {
            n++;
            yield return $$"""{"time":"2024-05-01T10:00:{{n % 60:00}}Z","level":"{{spelling.ToLowerInvariant()}}","msg":"job {{n}} finished"}""";
            yield return $$"""{"level":{{(int.TryParse(spelling, out var num) ? num.ToString() : "\"" + spelling + "\"")}},"time":1714557600000,"msg":"worker {{n}} stopped"}""";
            yield return $"time=2024-05-01T10:00:00Z level={spelling} msg=\"queue {n} drained\"";
            yield return $"2024-05-01 10:00:{n % 60:00},123 {spelling.ToUpperInvariant()} cache {n} evicted";
            yield return $"web-1  | 2024-05-01T10:00:00.000000000Z {{\"level\":\"{spelling}\",\"msg\":\"compose {n}\"}}";
            yield return $"[pod/api-7d9/app] 2024-05-01T10:00:00.000000000Z level={spelling} msg=\"pod {n}\"";
        }
        yield return """10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 503 0 "-" "curl/8.0" """.TrimEnd();
        yield return """10.0.0.2 - - [10/Oct/2000:13:55:37 -0700] "GET /b HTTP/1.1" 404 0 "-" "curl/8.0" """.TrimEnd();
        yield return """nginx-1  | 10.0.0.3 - - [10/Oct/2000:13:55:38 -0700] "POST /login HTTP/1.1" 500 12 "-" "curl/8.0" """.TrimEnd();
        yield return "2024-05-01 10:00:00 INFO GET /api/errors/12 200";
        // Plain lines whose level stands where only the decoded text can tell, or is framed, or has no time before it.
        yield return "2024-05-01 10:00:00\u00a0ERROR a no-break space before the level";
        yield return "2024-05-01T10:00:00+0200  [FATAL]: framed after two blanks";
        yield return "ERROR at the start, no time";
        yield return "2024-05-01 10:00:00 WARN then an error in the message";
        // Numeric levels end where the value ends: '}' and the line's end count, a clock's ":50:" does not.
        yield return """{"level":50}""";
        yield return "at=info level=50";
        yield return """{"time":"2024-05-01T10:50:00Z","level":"info","msg":"at 10:50 and =e-mail"}""";
        yield return "Dec 10 09:12:32 LabSZ sshd[24490]: Failed password for invalid user ftpuser from 203.0.113.9 port 62891 ssh2";
        yield return """{"level":"warn","msg":"login failed","user":"bob","ip":"203.0.113.7"}""";
        yield return "2024-05-01 10:00:00 WARN auth 203.0.113.7 login failed for alice";
        yield return """{"level":"info","msg":"GET /orders","status":401}""";
        yield return "at=info method=GET path=/api/orders/42 status=200 response_time=1834ms";
        yield return """{"level":"info","msg":"request done","path":"/api/orders/43","duration_ms":2400}""";
        yield return "2024-05-01 10:00:00 INFO GET /api/orders/44 200 took 1.5s";
        yield return """10.0.0.9 - - [10/Oct/2000:13:55:39 -0700] "GET /c HTTP/1.1" 200 5 "-" "curl/8.0" """.TrimEnd();
    }

    private string Write(IEnumerable<string> lines, string name = "app.log", bool gzip = false)
    {
        var path = Path.Combine(_dir, name);
        var text = string.Join("\n", lines) + "\n";
        if (gzip)
        {
            using var file = File.Create(path);
            using var z = new GZipStream(file, CompressionLevel.Fastest);
            z.Write(Encoding.UTF8.GetBytes(text));
        }
        else
        {
            File.WriteAllText(path, text);
        }
        return path;
    }

    /// <summary>The answer without the sieve and without parts: every line read and judged.</summary>
    private static Dictionary<string, long> EveryLine(IEnumerable<string> lines, LogFormat format, LogQuery query)
    {
        var counter = new LogPatternCounter(query);
        foreach (var r in LogReader.Read(lines, format)) counter.Add(r);
        return counter.Result(0, s => s, null).ToDictionary(p => p.Pattern, p => p.Count);
    }

    private static Dictionary<string, long> Scanned(string path, LogFormat format, LogQuery query, int partSize = LogScanner.PartSize) =>
        LogScanner.Count(path, format, query, null, 0, partSize, TestContext.Current.CancellationToken).Result(0, s => s, path).ToDictionary(p => p.Pattern, p => p.Count);

    public static TheoryData<string> Questions() => new() { "Error", "FailedLogin", "Auth", "SlowRequest", "Level:WARN", "Level:INFO", "Level:DEBUG,TRACE", "None" };

    private static LogQuery QueryOf(string question) => question.StartsWith("Level:", StringComparison.Ordinal)
        ? new LogQuery { Levels = question[6..].Split(','), GroupBy = new LogGrouping(LogGroupKind.Level) }
        : new LogQuery { Preset = Enum.Parse<LogPreset>(question), GroupBy = new LogGrouping(LogGroupKind.Level) };

    [Theory]
    [MemberData(nameof(Questions))]
    public void The_sieve_never_drops_a_line_the_rules_count_in_any_format(string question)
    {
        // Each format alone (the sieve is chosen by the file's format) and all mixed.
        var corpus = Corpus().ToList();
        var byFormat = corpus.GroupBy(l => LogLineParser.Parse(l).Format).Select(g => g.ToList()).Append(corpus);
        var query = QueryOf(question);
        var i = 0;
        foreach (var lines in byFormat)
        {
            var path = Write(lines, $"f{i++}.log");
            foreach (var format in new[] { LogFormat.Auto, LogLineParser.Detect(lines) })
            {
                Assert.Equal(EveryLine(lines, format, query), Scanned(path, format, query));
            }
        }
    }

    [Fact]
    public void The_presets_count_what_their_runbook_pipelines_look_for()
    {
        var lines = Corpus().ToList();
        var path = Write(lines);
        var errors = LogScanner.Count(path, LogFormat.Auto, new LogQuery { Preset = LogPreset.Error, GroupBy = new LogGrouping(LogGroupKind.Level) }, cancellation: TestContext.Current.CancellationToken);
        var levels = errors.Result(0, s => s, path).ToDictionary(p => p.Pattern, p => p.Count);
        // Every spelling of ERROR and FATAL in six formats (in plain text "E", "50" and "60" at a line's start are words,
        // not levels), the two 5xx access lines, the three plain lines with a level in an unusual place, the two bare
        // numeric levels; not the INFO line about /api/errors nor the WARN line that mentions an error.
        var spellings = LogLineParser.LevelSpellings.Count(s => s.Value is "ERROR" or "FATAL");
        Assert.Equal(6 * spellings - 3 + 2 + 3 + 2, errors.Matched);
        Assert.Equal(new[] { "ERROR", "FATAL" }, levels.Keys.Order());

        var logins = LogScanner.Count(path, LogFormat.Auto, new LogQuery { Preset = LogPreset.FailedLogin }, cancellation: TestContext.Current.CancellationToken).Result(0, s => s, path);
        Assert.Equal(new Dictionary<string, long> { ["203.0.113.7"] = 2, ["203.0.113.9"] = 1 }, logins.ToDictionary(p => p.Pattern, p => p.Count));
        Assert.All(logins, p => Assert.Equal("Client", p.GroupBy));

        var slow = LogScanner.Count(path, LogFormat.Auto, new LogQuery { Preset = LogPreset.SlowRequest }, cancellation: TestContext.Current.CancellationToken).Result(0, s => s, path);
        Assert.Equal(["/api/orders/<NUM>"], slow.Select(p => p.Pattern));
        Assert.Equal(3, slow[0].Count);
        var slower = LogScanner.Count(path, LogFormat.Auto, new LogQuery { Preset = LogPreset.SlowRequest, SlowerThan = TimeSpan.FromSeconds(2) }, cancellation: TestContext.Current.CancellationToken).Result(0, s => s, path);
        Assert.Equal(1, slower.Single().Count);

        var auth = LogScanner.Count(path, LogFormat.Auto, new LogQuery { Preset = LogPreset.Auth, GroupBy = new LogGrouping(LogGroupKind.Field, "status") }, cancellation: TestContext.Current.CancellationToken).Result(0, s => s, path);
        Assert.Equal(1, auth.Single(p => p.Pattern == "401").Count);
        Assert.DoesNotContain(auth, p => p.Pattern == "404");
    }

    [Fact]
    public void A_parallel_scan_gives_the_answer_of_one_pass_whatever_the_parts()
    {
        var random = new Random(7);
        var types = new[] { "DatabaseTimeout", "ConnectionRefused", "PaymentDeclined" };
        var lines = Enumerable.Range(0, 5000).Select(i => random.Next(10) switch
        {
            0 => $"2024-05-01 10:00:{i % 60:00}.{i % 1000:000} ERROR orders {types[i % 3]}: failed after {random.Next(1, 9000)} ms for order {random.Next()}",
            1 => $"2024-05-01 10:00:{i % 60:00}.{i % 1000:000} WARN auth 198.51.100.{random.Next(1, 20)} login failed for user{random.Next(50)}",
            2 => $"2024-05-01 10:00:{i % 60:00}.{i % 1000:000} INFO héllo wörld ünïcode line {i} — with a long tail {new string('x', random.Next(0, 3000))}",
            _ => $"2024-05-01 10:00:{i % 60:00}.{i % 1000:000} INFO GET /api/orders/{random.Next(1000)} 200 response_time={random.Next(1, 3000)}ms",
        }).ToList();
        var path = Write(lines);
        foreach (var question in new[] { "Error", "FailedLogin", "SlowRequest", "None" })
        {
            var query = QueryOf(question);
            var whole = EveryLine(lines, LogFormat.Plain, query);
            foreach (var partSize in new[] { 1 << 20, 4096, 1000, 97 })
            {
                Assert.Equal(whole, Scanned(path, LogFormat.Auto, query, partSize));
            }
        }
        var counter = LogScanner.Count(path, LogFormat.Auto, new LogQuery(), null, 0, 4096, TestContext.Current.CancellationToken);
        Assert.Equal(lines.Count, counter.Lines);
        Assert.Equal(lines.Count, counter.Matched);
    }

    [Fact]
    public void Templates_from_parts_merge_into_the_templates_of_one_pass()
    {
        var lines = Enumerable.Range(0, 400).Select(i => $"2024-05-01 10:00:00 ERROR user{i} payment {i * 7} declined by bank {(i % 2 == 0 ? "visa" : "amex")}").ToList();
        var path = Write(lines);
        var query = new LogQuery { Preset = LogPreset.Error };
        var parts = LogScanner.Count(path, LogFormat.Auto, query, null, 0, 997, TestContext.Current.CancellationToken).Result(0, s => s, path);
        Assert.Equal("<*> payment <NUM> declined by bank <*>", Assert.Single(parts).Pattern);
        Assert.Equal(400, parts[0].Count);
        Assert.Equal(lines[0], parts[0].Example);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), parts[0].FirstSeen);
        Assert.Equal("ERROR 400", parts[0].LevelSummary);
    }

    [Fact]
    public void Gzip_and_a_bom_and_crlf_are_read_as_plain_text()
    {
        var lines = new[] { "2024-05-01 10:00:00 ERROR boom 1", "2024-05-01 10:00:01 ERROR boom 2", "2024-05-01 10:00:02 INFO fine" };
        var gz = Write(lines, "app.log.gz", gzip: true);
        var crlf = Path.Combine(_dir, "crlf.log");
        File.WriteAllText(crlf, string.Join("\r\n", lines) + "\r\n", new UTF8Encoding(true));
        var utf16 = Path.Combine(_dir, "utf16.log");
        File.WriteAllText(utf16, string.Join("\n", lines), Encoding.Unicode);
        foreach (var path in new[] { gz, crlf, utf16 })
        {
            var p = Assert.Single(LogScanner.Count(path, LogFormat.Auto, new LogQuery { Preset = LogPreset.Error }, cancellation: TestContext.Current.CancellationToken).Result(0, s => s, path));
            Assert.Equal("boom <NUM>", p.Pattern);
            Assert.Equal(2, p.Count);
            Assert.Equal("2024-05-01 10:00:00 ERROR boom 1", p.Example);
        }
    }

    [Fact]
    public void Secrets_in_lines_never_reach_templates_examples_or_keys()
    {
        var lines = new[]
        {
            "2024-05-01 10:00:00 ERROR connect to postgres://app:hunter2@db:5432/app failed",
            "2024-05-01 10:00:01 ERROR connect to postgres://app:hunter2@db:5432/app failed",
            "2024-05-01 10:00:02 ERROR call with Authorization: Bearer abcdefghijklmnop failed token=s3cr3t-value-2024",
            "2024-05-01 10:00:03 ERROR resolved secret Zq-9-known-9 leaked",
        };
        var path = Write(lines);
        string Known(string s) => s.Replace("Zq-9-known-9", "***", StringComparison.Ordinal);
        foreach (var grouping in new[] { new LogGrouping(LogGroupKind.Template), new LogGrouping(LogGroupKind.Field, "token") })
        {
            var result = LogScanner.Count(path, LogFormat.Auto, new LogQuery { Preset = LogPreset.Error, GroupBy = grouping }, Known, cancellation: TestContext.Current.CancellationToken).Result(0, Known, path);
            var text = string.Join("\n", result.Select(p => p.Pattern + " " + p.Example));
            foreach (var secret in new[] { "hunter2", "abcdefghijklmnop", "s3cr3t", "Zq-9", "known-9" }) Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{secret} in {text}");
        }
    }

    [Fact]
    public void Top_keeps_the_most_frequent_and_percent_is_of_what_matched()
    {
        var lines = Enumerable.Range(0, 10).Select(i => $"2024-05-01 10:00:00 ERROR {(i < 6 ? "disk full on /data" : i < 9 ? "queue stalled" : "cert expired")}").ToList();
        var counter = new LogPatternCounter(new LogQuery { Preset = LogPreset.Error });
        foreach (var r in LogReader.Read(lines, LogFormat.Auto)) counter.Add(r);
        var top = counter.Result(2, s => s, null);
        Assert.Equal(["disk full on /data", "queue stalled"], top.Select(p => p.Pattern));
        Assert.Equal([60.0, 30.0], top.Select(p => p.Percent));
    }

    [Theory]
    [InlineData("template", LogGroupKind.Template, null)]
    [InlineData("Field:error_type", LogGroupKind.Field, "error_type")]
    [InlineData("field: ip ", LogGroupKind.Field, "ip")]
    [InlineData("CLIENT", LogGroupKind.Client, null)]
    public void Reads_a_grouping(string text, LogGroupKind kind, string? field) => Assert.Equal(new LogGrouping(kind, field), LogGrouping.Parse(text));

    [Theory]
    [InlineData("Field:")]
    [InlineData("Tempalte")]
    [InlineData("1")]
    [InlineData("Field")]
    public void A_wrong_grouping_says_what_to_write(string text)
    {
        var e = Assert.Throws<FormatException>(() => LogGrouping.Parse(text));
        Assert.Contains("Field:", e.Message);
    }

    public static TheoryData<string[]> SieveWordSets => new()
    {
        // Levels as a JSON question looks for them: short words, whole values.
        { ["err", "Fatal", "\"e\"", ":50!", "=e!"] },
        // More words than Teddy's 8 buckets (words share a bucket), a one-letter word, and words of one bucket each.
        { ["://", "pass", "pwd", "bearer", "token", "basic", "author", "api", "secret", "t", "fa!"] },
        { ["ERR", "FATAL", "CRIT", "PANIC", "EMERG", "ALERT"] },
    };

    [Theory]
    [MemberData(nameof(SieveWordSets))]
    public void The_byte_sieve_finds_what_a_plain_search_finds(string[] spelled)
    {
        var random = new Random(3);
        // A trailing '!' marks a whole value.
        var words = spelled.Select(w => w.EndsWith('!') ? new SieveWord(w[..^1], WholeEnd: true) : new SieveWord(w)).ToArray();
        var sieve = new ByteSieve(words);
        var alphabet = "abcdeErRfFtTlL:=\"50 \n\u00e9.,}-" + new string(spelled.SelectMany(w => w).Distinct().ToArray());
        for (var round = 0; round < 3000; round++)
        {
            var text = new string(Enumerable.Range(0, random.Next(0, round % 10 == 0 ? 400 : 120)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            var bytes = Encoding.UTF8.GetBytes(text);
            var expected = -1;
            for (var i = 0; i < bytes.Length && expected < 0; i++)
            {
                foreach (var w in words)
                {
                    var t = Encoding.UTF8.GetBytes(w.Text);
                    if (i + t.Length > bytes.Length) continue;
                    if (!Encoding.UTF8.GetString(bytes, i, t.Length).Equals(w.Text, StringComparison.OrdinalIgnoreCase)) continue;
                    var end = i + t.Length;
                    if (w.WholeEnd && end < bytes.Length && (char.IsAsciiLetterOrDigit((char)bytes[end]) || bytes[end] >= 0x80 || ".:-_/".Contains((char)bytes[end]))) continue;
                    expected = i;
                    break;
                }
            }
            Assert.Equal(expected, sieve.Find(bytes));
        }
    }
}

public class ScrubKnownTests
{
    [Fact]
    public void Masks_only_registered_values_longest_first_and_nothing_when_none_are()
    {
        var redactor = new Secrets.SecretRedactor();
        const string line = "postgres://app:hunter2@db token=abc";
        Assert.Same(line, redactor.ScrubKnown(line));
        redactor.Add("hunter2");
        redactor.Add("hunter2-long");
        Assert.Equal("postgres://app:***@db and *** token=abc", redactor.ScrubKnown("postgres://app:hunter2@db and hunter2-long token=abc"));
    }

    [Fact]
    public void Values_added_from_many_threads_at_once_are_all_masked()
    {
        var redactor = new Secrets.SecretRedactor();
        var values = Enumerable.Range(0, 400).Select(i => $"secret-value-{i:0000}").ToArray();
        Parallel.ForEach(values, new ParallelOptions { MaxDegreeOfParallelism = 8 }, v => redactor.Add(v));
        var text = string.Join(" ", values);
        Assert.DoesNotContain("secret-value", redactor.ScrubKnown(text));
        Assert.DoesNotContain("secret-value", redactor.Scrub(text));
    }
}
