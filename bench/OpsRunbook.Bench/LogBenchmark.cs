using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using OpsRunbook.Engine.Logs;

/// <summary>
/// Issue 16: the runbooks' log questions ("errors by type", "failed logins by source") over a generated 1 GiB of logs
/// (512 MiB of plain text, 512 MiB of JSON lines) answered by (a) the runbooks' shell pipelines (grep | cut | sort |
/// uniq -c) and (b) the engine behind Get-LogPattern -Path, in the same run; both must give the same counts. Target:
/// the engine at least as fast, peak memory at most 200 MB (measured in a child process that does only the scan).
/// "engine" is steady state (best of the rounds after an untimed scan); "1st run" a fresh process's one scan.
/// </summary>
internal static class LogBenchmark
{
    private static readonly string[] ErrorTypes = ["DatabaseTimeout", "ConnectionRefused", "NullReference", "PaymentDeclined", "RateLimited"];

    private sealed record Question(string Name, string File, string Shell, LogPreset Preset, string? GroupBy, Func<string, string> KeyOfPattern);

    public static async Task<int> RunAsync(string[] args)
    {
        var sizeMb = args.SkipWhile(a => a != "--size-mb").Skip(1).Select(a => int.Parse(a, CultureInfo.InvariantCulture)).FirstOrDefault(1024);
        var rounds = args.Contains("--quick") ? 1 : 3;
        var dir = Path.Combine(Path.GetTempPath(), "opsrunbook-logbench");
        Directory.CreateDirectory(dir);
        var plain = Path.Combine(dir, "app.log");
        var json = Path.Combine(dir, "app.jsonl");
        var clock = Stopwatch.StartNew();
        Generate(plain, json, (long)sizeMb * 1024 * 1024 / 2);
        Console.WriteLine($"logs: {plain} ({new FileInfo(plain).Length / 1048576.0:N0} MiB), {json} ({new FileInfo(json).Length / 1048576.0:N0} MiB); ready in {clock.Elapsed.TotalSeconds:N1} s");

        var questions = new[]
        {
            new Question("plain: errors by type", plain, $"grep ERROR {plain} | cut -d' ' -f5 | sort | uniq -c", LogPreset.Error, null, p => p.Split(' ').First(t => t.EndsWith(':')).TrimEnd(':')),
            new Question("plain: failed logins by source", plain, $"grep \"login.*failed\" {plain} | cut -d' ' -f5 | sort | uniq -c | sort -nr", LogPreset.FailedLogin, null, p => p),
            new Question("json: errors by type", json, $"grep '\"level\":\"error\"' {json} | grep -o '\"error_type\":\"[^\"]*\"' | sort | uniq -c", LogPreset.Error, "Field:error_type", p => p),
            new Question("json: failed logins by source", json, $"grep 'login failed' {json} | grep -o '\"ip\":\"[^\"]*\"' | sort | uniq -c | sort -nr", LogPreset.FailedLogin, null, p => p),
        };
        var failures = 0;
        Console.WriteLine($"best of {rounds}; \"1st run\" and the peak memory from a fresh child process that only scans, once");
        Console.WriteLine($"  {"question",-32} {"shell",9} {"engine",9} {"ratio",7} {"1st run",9} {"ratio",7} {"peak MB",8}  same counts");
        foreach (var q in questions)
        {
            var shellCounts = new Dictionary<string, long>();
            var shell = Best(rounds, () => shellCounts = Shell(q.Shell));
            // Steady state: one scan first, untimed (the cold one is the child's "1st run"); otherwise the first question
            // alone would be timed while this process's code is still being compiled and tiered.
            var engineCounts = Engine(q);
            var engine = Best(rounds, () => engineCounts = Engine(q));
            var (first, peak) = await FreshProcessAsync(q);
            var same = shellCounts.Count > 0 && shellCounts.Count == engineCounts.Count && shellCounts.All(kv => engineCounts.GetValueOrDefault(kv.Key) == kv.Value);
            if (!same || peak > 200 || engine > shell) failures++;
            Console.WriteLine($"  {q.Name,-32} {shell.TotalMilliseconds,7:N0}ms {engine.TotalMilliseconds,7:N0}ms {engine / shell,7:N2} {first,7:N0}ms {first / shell.TotalMilliseconds,7:N2} {peak,8:N0}  {(same ? "yes" : "NO")} ({shellCounts.Values.Sum():N0} records in {shellCounts.Count} groups)");
            if (!same)
            {
                Console.WriteLine("    shell:  " + string.Join(", ", shellCounts.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));
                Console.WriteLine("    engine: " + string.Join(", ", engineCounts.OrderBy(k => k.Key).Select(k => $"{k.Key}={k.Value}")));
            }
        }
        Console.WriteLine($"  target: engine/shell <= 1.00, peak <= 200 MB, same counts -> {(failures == 0 ? "met" : $"NOT MET ({failures})")}");
        failures += await CmdletAsync(questions, plain, json, rounds);
        return 0;
    }

    /// <summary>
    /// The same questions through Get-LogPattern -Path in the real pwsh (the module built in out/OpsRunbook), each run
    /// five times in one session: the first is what a user who types the command once gets (the module's code is
    /// compiled as it first runs), the best is steady state. Baseline: the shell pipeline, timed again in this run.
    /// </summary>
    private static async Task<int> CmdletAsync(Question[] questions, string plain, string json, int rounds)
    {
        var root = Directory.GetCurrentDirectory();
        while (!File.Exists(Path.Combine(root, "OpsRunbook.psd1")) && Path.GetDirectoryName(root) is { } up) root = up;
        var module = Path.Combine(root, "out", "OpsRunbook", "OpsRunbook.psd1");
        var pwsh = new[] { Path.Combine(root, ".tools", "pwsh", "pwsh") }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "pwsh"))).FirstOrDefault(File.Exists);
        if (!File.Exists(module) || pwsh is null)
        {
            Console.WriteLine($"\nGet-LogPattern in pwsh: skipped ({(pwsh is null ? "no pwsh: run tests/pwsh.sh" : "no module: run ./build.ps1")})");
            return 1;
        }
        var release = Path.Combine(root, "src", "OpsRunbook.Engine", "bin", "Release", "net8.0", "OpsRunbook.Engine.dll");
        var built = Path.Combine(root, "out", "OpsRunbook", "Dependencies", "OpsRunbook.Engine.dll");
        if (!File.Exists(release) || !File.ReadAllBytes(release).AsSpan().SequenceEqual(File.ReadAllBytes(built)))
        {
            Console.WriteLine("\nGet-LogPattern in pwsh: out/OpsRunbook is not the Release build; run: dotnet build OpsRunbook.sln -c Release");
            return 1;
        }
        var psi = new ProcessStartInfo(pwsh) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in (string[])["-NoProfile", "-File", Path.Combine(root, "bench", "OpsRunbook.Bench", "logs.ps1"), module, plain, json]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var lines = new List<string>();
        while (await p.StandardOutput.ReadLineAsync() is { } line) if (line.StartsWith('{')) lines.Add(line);
        await p.WaitForExitAsync();
        Console.WriteLine();
        Console.WriteLine("Get-LogPattern -Path in pwsh (5 runs in one session; shell baseline re-timed now)");
        Console.WriteLine($"  {"question",-32} {"shell",9} {"1st run",9} {"best",9} {"1st/shell",9} {"best/shell",10}  same counts");
        var failures = 0;
        foreach (var (q, line) in questions.Zip(lines))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var times = doc.RootElement.GetProperty("Milliseconds").EnumerateArray().Select(t => t.GetDouble()).ToList();
            var counts = new Dictionary<string, long>();
            foreach (var c in doc.RootElement.GetProperty("Counts").EnumerateObject())
            {
                var key = q.KeyOfPattern(c.Name);
                counts[key] = counts.GetValueOrDefault(key) + c.Value.GetInt64();
            }
            var shellCounts = new Dictionary<string, long>();
            var shell = Best(rounds, () => shellCounts = Shell(q.Shell)).TotalMilliseconds;
            var same = shellCounts.Count > 0 && shellCounts.Count == counts.Count && shellCounts.All(kv => counts.GetValueOrDefault(kv.Key) == kv.Value);
            if (!same || times.Min() > shell) failures++;
            Console.WriteLine($"  {q.Name,-32} {shell,7:N0}ms {times[0],7:N0}ms {times.Min(),7:N0}ms {times[0] / shell,9:N2} {times.Min() / shell,10:N2}  {(same ? "yes" : "NO")}");
            if (line == lines[^1])
            {
                Console.WriteLine($"  pwsh process: {doc.RootElement.GetProperty("RssBeforeMB").GetDouble():N0} MB resident after Import-Module, peak {doc.RootElement.GetProperty("PeakMB").GetDouble():N0} MB over all runs");
            }
        }
        return failures;
    }

    /// <summary>The child: scans one question's file once (a fresh process: the code compiled as it first runs) and prints the time and its peak resident memory (VmHWM) in MB.</summary>
    public static int Child(string[] args)
    {
        var q = new Question("", args[1], "", Enum.Parse<LogPreset>(args[2]), args.Length > 3 ? args[3] : null, p => p);
        var clock = Stopwatch.StartNew();
        Engine(q);
        var ms = clock.Elapsed.TotalMilliseconds;
        if (Environment.GetEnvironmentVariable("OPSRUNBOOK_BENCH_AGAIN") is not null)
        {
            clock.Restart();
            Engine(q);
            Console.Error.WriteLine($"second scan in the same process: {clock.Elapsed.TotalMilliseconds:N0} ms");
        }
        var hwm = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ms} {long.Parse(Regex.Match(hwm, @"\d+").Value, CultureInfo.InvariantCulture) / 1024.0}"));
        return 0;
    }

    private static async Task<(double FirstMs, double PeakMb)> FreshProcessAsync(Question q)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(LogBenchmark).Assembly.Location);
        foreach (var a in (string[])["logs-child", q.File, q.Preset.ToString()]) psi.ArgumentList.Add(a);
        if (q.GroupBy is not null) psi.ArgumentList.Add(q.GroupBy);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        var parts = output.Trim().Split(' ');
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static Dictionary<string, long> Engine(Question q)
    {
        var query = new LogQuery { Preset = q.Preset, GroupBy = q.GroupBy is null ? null : LogGrouping.Parse(q.GroupBy) };
        var counter = LogScanner.Count(q.File, LogFormat.Auto, query);
        var counts = new Dictionary<string, long>();
        foreach (var p in counter.Result(0, s => s, q.File))
        {
            var key = q.KeyOfPattern(p.Pattern);
            counts[key] = counts.GetValueOrDefault(key) + p.Count;
        }
        return counts;
    }

    /// <summary>Runs a pipeline in bash; its lines are "count key" (uniq -c); keys lose the JSON quoting and a trailing colon.</summary>
    private static Dictionary<string, long> Shell(string pipeline)
    {
        var psi = new ProcessStartInfo("bash", ["-c", pipeline]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var counts = new Dictionary<string, long>();
        while (p.StandardOutput.ReadLine() is { } line)
        {
            var parts = line.Trim().Split(' ', 2);
            var key = Regex.Replace(parts[1], "^\"[a-z_]+\":\"|\"$|:$", "");
            counts[key] = long.Parse(parts[0], CultureInfo.InvariantCulture);
        }
        p.WaitForExit();
        return counts;
    }

    private static TimeSpan Best(int rounds, Action run)
    {
        var best = TimeSpan.MaxValue;
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            if (clock.Elapsed < best) best = clock.Elapsed;
        }
        return best;
    }

    /// <summary>
    /// Writes the two files once (kept between runs while their size fits). A realistic mix: 93% INFO requests (some
    /// mention "errors" in their path, a case-insensitive grep's trap), 1% DEBUG, 4% ERROR of five types, 2% failed
    /// logins from 40 addresses, and successful ones.
    /// </summary>
    private static void Generate(string plain, string json, long bytesEach)
    {
        if (File.Exists(plain) && File.Exists(json) && Math.Abs(new FileInfo(plain).Length - bytesEach) < 4096 && Math.Abs(new FileInfo(json).Length - bytesEach) < 4096) return;
        var random = new Random(16);
        using var p = new StreamWriter(plain, false, new UTF8Encoding(false), 1 << 20);
        using var j = new StreamWriter(json, false, new UTF8Encoding(false), 1 << 20);
        long writtenPlain = 0, writtenJson = 0;
        var time = new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc);
        var sb = new StringBuilder();
        while (writtenPlain < bytesEach || writtenJson < bytesEach)
        {
            time = time.AddMilliseconds(random.Next(1, 40));
            var r = random.NextDouble();
            var ip = $"203.0.113.{random.Next(1, 41)}";
            var user = $"user{random.Next(1, 500)}";
            var id = random.Next().ToString("x8", CultureInfo.InvariantCulture);
            string level, service, message;
            string? type = null;
            if (r < 0.04)
            {
                (level, service, type) = ("ERROR", "orders", ErrorTypes[random.Next(ErrorTypes.Length)]);
                message = type switch
                {
                    "DatabaseTimeout" => $"query on orders timed out after {random.Next(1000, 30000)} ms",
                    "ConnectionRefused" => $"connect to redis-{random.Next(1, 4)}:6379 refused attempt {random.Next(1, 6)}",
                    "NullReference" => $"Object reference not set to an instance of an object in OrderService.Get line {random.Next(10, 900)}",
                    "PaymentDeclined" => $"card declined for order {random.Next(100000, 999999)} code {random.Next(1, 60)}",
                    _ => $"too many requests from {ip} limit {random.Next(60, 120)} per minute",
                };
            }
            else if (r < 0.06)
            {
                (level, service, message) = ("WARN", "auth", $"login failed for {user} from {ip}");
            }
            else if (r < 0.07)
            {
                (level, service, message) = ("DEBUG", "orders", $"cache hit ratio {random.NextDouble():0.000} for key orders:{random.Next(1, 99999)}");
            }
            else if (r < 0.09)
            {
                (level, service, message) = ("INFO", "auth", $"login succeeded for {user} from {ip}");
            }
            else
            {
                var path = r < 0.10 ? $"/api/errors/{random.Next(1, 500)}" : $"/api/orders/{random.Next(1, 99999)}";
                (level, service, message) = ("INFO", "web", $"GET {path} 200 response_time={random.Next(1, 1500)}ms");
            }
            if (writtenPlain < bytesEach)
            {
                // "date time LEVEL service [Type:] message": the runbook's cut -d' ' -f5 is the type (or, for logins, the address).
                sb.Clear().Append(time.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)).Append(' ').Append(level).Append(' ').Append(service).Append(' ');
                if (type is not null) sb.Append(type).Append(": ").Append(message);
                else if (message.StartsWith("login failed", StringComparison.Ordinal)) sb.Append(ip).Append(" login failed for ").Append(user);
                else sb.Append(message);
                sb.Append(" request_id=").Append(id).Append('\n');
                p.Write(sb);
                writtenPlain += sb.Length;
            }
            if (writtenJson < bytesEach)
            {
                sb.Clear().Append("{\"time\":\"").Append(time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append("\",\"level\":\"").Append(level.ToLowerInvariant())
                    .Append("\",\"service\":\"").Append(service).Append('"');
                if (type is not null) sb.Append(",\"error_type\":\"").Append(type).Append('"');
                var login = message.StartsWith("login", StringComparison.Ordinal);
                sb.Append(",\"msg\":\"").Append(login ? message[..message.IndexOf(" for ", StringComparison.Ordinal)] : message).Append('"');
                if (login) sb.Append(",\"user\":\"").Append(user).Append("\",\"ip\":\"").Append(ip).Append('"');
                sb.Append(",\"request_id\":\"").Append(id).Append("\"}\n");
                j.Write(sb);
                writtenJson += sb.Length;
            }
        }
    }
}
