using OpsRunbook.Engine.Logs;

namespace OpsRunbook.Engine.Tests;

/// <summary>Each format against a published example of it (named in each test), and detection over mixed input.</summary>
public class LogLineParserTests
{
    [Fact]
    public void Reads_the_combined_log_format_example_of_the_apache_httpd_docs()
    {
        // httpd.apache.org/docs/current/logs.html, "Combined Log Format" (NGINX's "combined" is the same line).
        var r = LogLineParser.Parse("""127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)" """.TrimEnd());
        Assert.Equal(LogFormat.NginxCombined, r.Format);
        Assert.Equal(new DateTimeOffset(2000, 10, 10, 20, 55, 36, TimeSpan.Zero), r.Timestamp);
        Assert.Equal("INFO", r.Level);
        Assert.Equal("frank", r.Fields["remote_user"]);
        Assert.Equal("GET /apache_pb.gif HTTP/1.0", r.Fields["request"]);
        Assert.Equal("2326", r.Fields["body_bytes_sent"]);
        Assert.Equal("Mozilla/4.08 [en] (Win98; I ;Nav)", r.Fields["http_user_agent"]);
        Assert.Equal("ERROR", LogLineParser.Parse("""10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "POST /api HTTP/1.1" 503 0 "-" "curl/8.0" """.TrimEnd()).Level);
    }

    [Fact]
    public void Reads_the_logfmt_example_of_brandur_org()
    {
        // brandur.org/logfmt: a Heroku router line ("at" is its level).
        var r = LogLineParser.Parse("""at=info method=GET path=/ host=mutelight.org fwd="124.133.52.161" dyno=web.2 connect=4ms service=8ms status=200 bytes=1653""");
        Assert.Equal(LogFormat.Logfmt, r.Format);
        Assert.Equal("INFO", r.Level);
        Assert.Equal("124.133.52.161", r.Fields["fwd"]);
        Assert.Equal("8ms", r.Fields["service"]);
        Assert.Equal(10, r.Fields.Count);
        var go = LogLineParser.Parse("""time=2024-05-01T10:00:00Z level=error msg="db timeout after \"5s\"" duration=1.5s""");
        Assert.Equal("ERROR", go.Level);
        Assert.Equal("db timeout after \"5s\"", go.Message);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), go.Timestamp);
    }

    [Fact]
    public void Reads_the_pino_example_of_its_docs()
    {
        // getpino.io: numeric level 30 = info, time in epoch milliseconds.
        var r = LogLineParser.Parse("""{"level":30,"time":1531171074631,"msg":"hello world","pid":657,"hostname":"Davids-MBP-3.fritz.box"}""");
        Assert.Equal(LogFormat.Json, r.Format);
        Assert.Equal("INFO", r.Level);
        Assert.Equal("hello world", r.Message);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1531171074631), r.Timestamp);
        Assert.Equal("657", r.Fields["pid"]);
        var zap = LogLineParser.Parse("""{"level":"error","ts":1700000000.5,"msg":"request failed","status":503}""");
        Assert.Equal("ERROR", zap.Level);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000500), zap.Timestamp);
    }

    [Fact]
    public void Reads_compose_and_kubectl_prefixes_and_the_message_inside()
    {
        // `docker compose logs --timestamps --no-color`: "SERVICE-N  | TIMESTAMP message".
        var c = LogLineParser.Parse("""web-1  | 2024-03-12T10:15:30.123456789Z {"level":"error","msg":"boom"}""");
        Assert.Equal(LogFormat.Compose, c.Format);
        Assert.Equal("web", c.Service);
        Assert.Equal("web-1", c.Instance);
        Assert.Equal("ERROR", c.Level);
        Assert.Equal("boom", c.Message);
        Assert.InRange((c.Timestamp!.Value - new DateTimeOffset(2024, 3, 12, 10, 15, 30, 123, TimeSpan.Zero).AddTicks(4568)).Duration(), TimeSpan.Zero, TimeSpan.FromTicks(1)); // nanoseconds rounded to ticks
        // `kubectl logs --timestamps --prefix`: "[pod/NAME/CONTAINER] TIMESTAMP message".
        var k = LogLineParser.Parse("[pod/app-7d9f8c-x2k4p/app] 2024-03-12T10:15:30.123456789Z ERROR connection refused");
        Assert.Equal(LogFormat.Kubectl, k.Format);
        Assert.Equal("app-7d9f8c-x2k4p", k.Pod);
        Assert.Equal("app", k.Container);
        Assert.Equal("ERROR", k.Level);
        Assert.Equal("connection refused", k.Message);
        Assert.Equal(LogFormat.Kubectl, LogLineParser.Parse("2024-03-12T10:15:30.5Z INFO started").Format);
    }

    [Fact]
    public void Reads_plain_lines_with_a_leading_time_and_level_and_never_fails()
    {
        // Python logging's default "%(asctime)s %(levelname)s ..." with a comma before the milliseconds.
        var p = LogLineParser.Parse("2024-03-12 10:15:30,123 WARNING [worker] queue is full");
        Assert.Equal(LogFormat.Plain, p.Format);
        Assert.Equal("WARN", p.Level);
        Assert.Equal("[worker] queue is full", p.Message);
        Assert.Equal(new DateTimeOffset(2024, 3, 12, 10, 15, 30, 123, TimeSpan.Zero), p.Timestamp);
        var odd = LogLineParser.Parse("{not json at all");
        Assert.Equal(LogFormat.Plain, odd.Format);
        Assert.Equal("{not json at all", odd.Message);
        Assert.Null(LogLineParser.Parse("just words").Level);
    }

    [Fact]
    public void Detects_the_format_most_lines_are_in()
    {
        Assert.Equal(LogFormat.Json, LogLineParser.Detect(["""{"msg":"a"}""", """{"msg":"b"}""", "stray line", ""]));
        Assert.Equal(LogFormat.Compose, LogLineParser.Detect(["db-1  | 2024-03-12T10:15:30Z ready", "web-1  | 2024-03-12T10:15:31Z GET /"]));
        Assert.Equal(LogFormat.Plain, LogLineParser.Detect([]));
    }

    [Fact]
    public void A_line_the_detected_format_cannot_read_is_read_in_its_own()
    {
        var records = LogReader.Read(["""{"level":"error","msg":"a"}""", """{"level":"info","msg":"b"}""", "at=warn msg=c", "Traceback (most recent call last):"], LogFormat.Auto).ToList();
        Assert.Equal([LogFormat.Json, LogFormat.Json, LogFormat.Logfmt, LogFormat.Plain], records.Select(r => r.Format));
        Assert.Equal("WARN", records[2].Level);
    }

    [Theory]
    [InlineData("connect to postgres://app:hunter2@db:5432/app failed", "hunter2")]
    [InlineData("Host=db;Username=app;Password=hunter2;Database=app", "hunter2")]
    [InlineData("GET /api Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9")]
    [InlineData("""{"msg":"login","password":"hunter2","user":"dana"}""", "hunter2")]
    [InlineData("retry with api_key=sk_live_0123456789abcdef", "sk_live_0123456789abcdef")]
    public void Secrets_in_lines_are_masked_in_message_fields_and_raw(string line, string secret)
    {
        var r = LogReader.Read([line], LogFormat.Auto).Single();
        Assert.DoesNotContain(secret, r.Raw);
        Assert.DoesNotContain(secret, r.Message);
        Assert.All(r.Fields.Values, v => Assert.DoesNotContain(secret, v));
    }

    [Fact]
    public void A_gzip_file_is_read_as_text_whatever_its_name()
    {
        var path = Path.GetTempFileName();
        using (var gz = new System.IO.Compression.GZipStream(File.Create(path), System.IO.Compression.CompressionLevel.Fastest))
        using (var w = new StreamWriter(gz))
        {
            w.WriteLine("""{"level":"error","msg":"x"}""");
            w.WriteLine("""{"level":"info","msg":"y"}""");
        }
        using (var reader = LogReader.OpenFile(path))
        {
            Assert.Equal(["ERROR", "INFO"], LogReader.Read(LogReader.Lines(reader), LogFormat.Auto).Select(r => r.Level));
        }
        File.Delete(path);
    }
}

/// <summary>The hand-written plain-line reader against the expressions it replaced (kept here as the reference).</summary>
public partial class PlainLineParityTests
{
    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+(?<rest>.*)$")]
    private static partial System.Text.RegularExpressions.Regex LeadingTimestamp();

    [System.Text.RegularExpressions.GeneratedRegex(@"^\[?(?<level>TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|EMERG|ALERT)\]?:?\s+(?<rest>.*)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex LeadingLevel();

    [Fact]
    public void Reads_a_plain_line_exactly_as_the_expressions_do()
    {
        var random = new Random(11);
        string[] stamps = ["2024-05-01 10:00:00", "2024-05-01T10:00:00.123Z", "2024-05-01 10:00:00,5", "2024-05-01T10:00:00+02:00", "2024-05-01T10:00:00-0530", "2024-05-01T10:00:00+02", "2024-13-01 10:00:00", "2024-05-01 10:00", "24-05-01 10:00:00", "2024-05-01T10:00:00.Z", ""];
        string[] levels = ["ERROR", "error", "[WARN]", "WARNING:", "[Info]:", "ERRORS", "Err", "E", "alert", "notice", "panic]", "[DEBUG", "", "ERROR:x"];
        string[] gaps = [" ", "  ", "\t", ""];
        string[] rests = ["db timeout", "", " leading space", "ERROR twice", "[x] y"];
        for (var n = 0; n < 5000; n++)
        {
            var line = stamps[random.Next(stamps.Length)] + gaps[random.Next(gaps.Length)] + levels[random.Next(levels.Length)] + gaps[random.Next(gaps.Length)] + rests[random.Next(rests.Length)];
            if (line.Length == 0) continue;
            var rest = line;
            DateTimeOffset? ts = null;
            string? level = null;
            if (LeadingTimestamp().Match(rest) is { Success: true } t)
            {
                ts = LogLineParser.Parse(t.Groups["ts"].Value + " x", LogFormat.Plain).Timestamp;
                rest = t.Groups["rest"].Value;
            }
            if (LeadingLevel().Match(rest) is { Success: true } l)
            {
                level = LogLineParser.NormalLevel(l.Groups["level"].Value);
                rest = l.Groups["rest"].Value;
            }
            var r = LogLineParser.Parse(line, LogFormat.Plain);
            Assert.True((ts, level, rest) == (r.Timestamp, r.Level, r.Message), $"'{line}': expected ({ts}, {level}, '{rest}'), got ({r.Timestamp}, {r.Level}, '{r.Message}')");
        }
    }
}
