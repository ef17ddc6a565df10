using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Common;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Database;

/// <summary>What each client runs: pgbench's built-in scripts, or a file of the application's own statements.</summary>
public enum LoadTestScript
{
    /// <summary>pgbench -S: one primary-key SELECT on pgbench_accounts (runbook 003's weekly test; reads only).</summary>
    SelectOnly,
    /// <summary>pgbench's TPC-B-like transaction: three UPDATEs, a SELECT and an INSERT on pgbench's tables.</summary>
    TpcbLike,
    /// <summary>pgbench -N: the TPC-B-like transaction without the branch and teller updates.</summary>
    SimpleUpdate,
    /// <summary>pgbench -f: the statements of a file (the application's own queries).</summary>
    File,
}

/// <summary>How a load test runs.</summary>
public sealed record LoadTestOptions
{
    /// <summary>Concurrent sessions (pgbench -c; runbook 003: 20).</summary>
    public int Clients { get; init; } = 20;
    /// <summary>pgbench worker threads (-j; runbook 003: 4); never more than the clients.</summary>
    public int Threads { get; init; } = 4;
    /// <summary>How long (-T; runbook 003: 300 s).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(5);
    public LoadTestScript Script { get; init; } = LoadTestScript.SelectOnly;
    /// <summary>The statements for <see cref="LoadTestScript.File"/>.</summary>
    public string? ScriptFile { get; init; }
    /// <summary>Create pgbench's tables first (pgbench -i) at <see cref="Scale"/>.</summary>
    public bool Initialize { get; init; }
    /// <summary>pgbench -i -s: 100,000 accounts per unit.</summary>
    public int Scale { get; init; } = 1;
    /// <summary>Let -Initialize drop pgbench's tables when they exist already.</summary>
    public bool Replace { get; init; }
    /// <summary>The 95th-percentile latency to stay under (runbook 003: p95 under 100 ms).</summary>
    public TimeSpan LatencyTarget { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>The share of transactions whose latency is logged for percentiles (default: all up to a minute, a tenth beyond).</summary>
    public double? SamplingRate { get; init; }

    internal double Sampling => SamplingRate ?? (Duration <= TimeSpan.FromMinutes(1) ? 1.0 : 0.1);
    internal bool Writes => Script is LoadTestScript.TpcbLike or LoadTestScript.SimpleUpdate;
    internal bool NeedsTables => Script != LoadTestScript.File;
}

/// <summary>What a load test would do, or why it must not (read-only checks).</summary>
public sealed class LoadTestPlan
{
    /// <summary>host:port/database.</summary>
    public required string Database { get; init; }
    /// <summary>The pgbench that would run, and its version.</summary>
    public required string Pgbench { get; init; }
    /// <summary>pgbench's tables: the rows of pgbench_accounts, or null when they do not exist.</summary>
    public long? Accounts { get; init; }
    /// <summary>In words.</summary>
    public IReadOnlyList<string> Steps { get; init; } = [];
    /// <summary>Why it must not run (null: it may).</summary>
    public string? Refusal { get; init; }
    /// <summary>Whether the run changes anything (creates pgbench's tables, or writes to them).</summary>
    public bool Changes { get; init; }
    internal PgTool Tool { get; init; } = null!;
}

/// <summary>
/// A load test's account (runbook 003's weekly "pgbench -c 20 -j 4 -T 300 -S"): pgbench's own figures (transactions,
/// failures, tps, average and standard deviation of latency, initial connection time) and the percentiles of the
/// latencies it logged, against the target.
/// </summary>
public sealed class DatabaseLoadTestResult : DatabaseResult, IReportable, Metrics.IMetricSource
{
    /// <summary>For Test-MetricThreshold: the 95th-percentile latency as db_latency_ms (runbook 003's "p95 latency" target and alert).</summary>
    public IEnumerable<Metrics.MetricObservation> Observations()
    {
        if (LatencyP95Ms is { } p95) yield return new Metrics.MetricObservation(Metrics.WellKnownMetrics.DbLatencyMs, $"{Database} p95 under load", p95, Environment, StartedAt + Duration);
    }

    /// <summary>The database (host:port/database).</summary>
    public required string Database { get; init; }
    /// <summary>pgbench's name for the script ("select only", "TPC-B (sort of)", a file).</summary>
    public required string Script { get; init; }
    public int Clients { get; init; }
    public int Threads { get; init; }
    /// <summary>How long it ran, as pgbench counts (its -T).</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>Transactions completed.</summary>
    public long Transactions { get; init; }
    /// <summary>Transactions that failed (serialization or deadlock errors, PostgreSQL 15's pgbench on).</summary>
    public long FailedTransactions { get; init; }
    /// <summary>Clients that gave up on an error (the run goes on without them).</summary>
    public int AbortedClients { get; init; }
    /// <summary>Transactions per second, without the initial connection time.</summary>
    public double Tps { get; init; }
    public double? LatencyAverageMs { get; init; }
    public double? LatencyStdDevMs { get; init; }
    /// <summary>Percentiles of the logged latencies (null without enough samples).</summary>
    public double? LatencyP50Ms { get; init; }
    public double? LatencyP95Ms { get; init; }
    public double? LatencyP99Ms { get; init; }
    public double? LatencyMaxMs { get; init; }
    /// <summary>How many latencies the percentiles come from.</summary>
    public long Samples { get; init; }
    /// <summary>How long the clients took to connect.</summary>
    public double? InitialConnectionTimeMs { get; init; }
    /// <summary>The 95th-percentile latency to stay under.</summary>
    public TimeSpan LatencyTarget { get; init; }
    /// <summary>What went wrong, in pgbench's words (aborted clients, errors).</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
    /// <summary>pgbench --version.</summary>
    public string? Pgbench { get; init; }
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Unhealthy: nothing completed, clients aborted or transactions failed; Degraded: p95 over the target (or no percentile); Healthy otherwise.</summary>
    public HealthStatus Status => Transactions == 0 || AbortedClients > 0 || FailedTransactions > 0 ? HealthStatus.Unhealthy
        : LatencyP95Ms is not { } p95 || p95 > LatencyTarget.TotalMilliseconds ? HealthStatus.Degraded : HealthStatus.Healthy;

    /// <summary>Why, in words.</summary>
    public string Reason
    {
        get
        {
            if (Transactions == 0) return Errors.Count > 0 ? $"no transaction completed: {Errors[0]}" : "no transaction completed";
            var parts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"{Tps:0.#} tps") };
            parts.Add(LatencyP95Ms is { } p95
                ? string.Create(CultureInfo.InvariantCulture, $"p95 {p95:0.###} ms {(p95 <= LatencyTarget.TotalMilliseconds ? "within" : "over")} the {LatencyTarget.TotalMilliseconds:0.###} ms target")
                : $"too few latencies logged ({Samples}) for a 95th percentile");
            if (FailedTransactions > 0) parts.Add($"{FailedTransactions} transactions failed");
            if (AbortedClients > 0) parts.Add($"{AbortedClients} of {Clients} clients aborted: {Errors.FirstOrDefault()}");
            return string.Join("; ", parts);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"Load test on {Database}: {Status} ({Reason})";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        static string Ms(double? v) => v is { } x ? x.ToString("0.###", CultureInfo.InvariantCulture) : "-";
        var outcome = Status switch { HealthStatus.Unhealthy => ReportOutcome.Fail, HealthStatus.Degraded => ReportOutcome.Warn, _ => ReportOutcome.Pass };
        yield return new ReportRow("Load test", $"{Database} ({Script}, {Clients} clients)", outcome, Status.ToString(), Environment, Reason,
            new KeyValuePair<string, string>[]
            {
                new("Tps", Tps.ToString("0.#", CultureInfo.InvariantCulture)), new("P50Ms", Ms(LatencyP50Ms)), new("P95Ms", Ms(LatencyP95Ms)), new("P99Ms", Ms(LatencyP99Ms)),
                new("Transactions", Transactions.ToString(CultureInfo.InvariantCulture)), new("Failed", FailedTransactions.ToString(CultureInfo.InvariantCulture)),
            },
            StartedAt, Duration.TotalMilliseconds);
    }
}

/// <summary>
/// Runbook 003's weekly load test with the real pgbench (found as pg_dump is, newest first), connected through
/// PgProcess (libpq variables and a private password file: the password is never on a command line), with progress
/// every 5 s and a sampled per-transaction log (in a private folder, removed after) for the percentiles pgbench does not
/// print. Select-only runs with -n (no vacuum, no truncate of pgbench_history): nothing is written.
/// </summary>
public static partial class DatabaseLoadTest
{
    /// <summary>Reads the database and finds pgbench; says what the test would do, or why not.</summary>
    public static async Task<LoadTestPlan> PlanAsync(DatabaseSession session, LoadTestOptions options, CancellationToken ct)
    {
        var tool = PgTools.Find("pgbench", 10);
        var (accounts, canCreate) = await session.ReadAsync(async c =>
        {
            await using var cmd = new NpgsqlCommand("""
                SELECT CASE WHEN to_regclass('pgbench_accounts') IS NULL THEN NULL ELSE (SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass('pgbench_accounts')) END,
                       has_schema_privilege(current_schema(), 'CREATE')
                """, c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await r.ReadAsync(ct).ConfigureAwait(false);
            return (r.IsDBNull(0) ? (long?)null : Math.Max(0, r.GetInt64(0)), !r.IsDBNull(1) && r.GetBoolean(1));
        }, ct).ConfigureAwait(false);
        var threads = Math.Min(options.Threads, options.Clients);
        var refusal =
            options.Script == LoadTestScript.File && (options.ScriptFile is null || !File.Exists(options.ScriptFile)) ? $"the script file {options.ScriptFile ?? "(none)"} does not exist"
            : options.Initialize && accounts is not null && !options.Replace ? $"pgbench's tables exist in {session.Display} (about {accounts} accounts): initializing drops and recreates them; add -Force to allow it, or leave -Initialize out to use them"
            : options.Initialize && !canCreate ? $"the login may not create tables in {session.Display}'s schema: it cannot initialize pgbench's tables"
            : options.NeedsTables && accounts is null && !options.Initialize ? $"pgbench's tables are not in {session.Display}: add -Initialize (pgbench -i -s {options.Scale}: {options.Scale * 100_000} accounts) or use -ScriptFile with the application's own queries"
            : null;
        var steps = new List<string>();
        if (options.Initialize) steps.Add($"{(accounts is null ? "Create" : "Drop and recreate")} pgbench's tables in {session.Display} (pgbench -i -s {options.Scale}: {options.Scale * 100_000} accounts)");
        steps.Add(string.Create(CultureInfo.InvariantCulture,
            $"Run {ScriptName(options)} from {options.Clients} clients on {threads} threads for {options.Duration.TotalSeconds:0} s against {session.Display}{(options.Writes ? " (writes to pgbench's tables)" : "")}"));
        return new LoadTestPlan
        {
            Database = session.Display,
            Pgbench = $"{tool.VersionText} ({tool.Path})",
            Accounts = accounts,
            Refusal = refusal,
            Changes = options.Initialize || options.Writes,
            Steps = steps.ToArray(),
            Tool = tool,
        };
    }

    private static string ScriptName(LoadTestOptions o) => o.Script switch
    {
        LoadTestScript.SelectOnly => "select only",
        LoadTestScript.TpcbLike => "TPC-B (sort of)",
        LoadTestScript.SimpleUpdate => "simple update",
        _ => Path.GetFileName(o.ScriptFile ?? "script"),
    };

    /// <summary>Runs the test the plan describes (it must not be refused).</summary>
    public static async Task<DatabaseLoadTestResult> RunAsync(DatabaseSession session, LoadTestPlan plan, LoadTestOptions options, OperationContext context)
    {
        if (plan.Refusal is not null) throw new InvalidOperationException(plan.Refusal);
        var ct = context.Cancellation;
        var connection = session.Connection;
        if (options.Initialize)
        {
            context.Report("Initialize", $"pgbench -i -s {options.Scale}");
            await using var init = PgProcess.Start(plan.Tool, new[] { "-i", "-s", options.Scale.ToString(CultureInfo.InvariantCulture), "-q" }, connection, null, applicationName: session.ApplicationName);
            if (await init.WaitAsync(ct).ConfigureAwait(false) != 0) throw new InvalidOperationException($"pgbench -i failed: {LastLines(init.StderrTail)}");
        }

        var threads = Math.Min(options.Threads, options.Clients);
        var seconds = Math.Max(1, (int)Math.Round(options.Duration.TotalSeconds));
        var logs = Directory.CreateTempSubdirectory("opsrunbook-pgbench-");
        try
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(logs.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var args = new List<string>
            {
                "-c", options.Clients.ToString(CultureInfo.InvariantCulture), "-j", threads.ToString(CultureInfo.InvariantCulture),
                "-T", seconds.ToString(CultureInfo.InvariantCulture), "-P", "5",
                "--log", "--log-prefix=" + Path.Combine(logs.FullName, "tx"), "--sampling-rate=" + options.Sampling.ToString("0.####", CultureInfo.InvariantCulture),
            };
            switch (options.Script)
            {
                case LoadTestScript.SelectOnly: args.AddRange(new[] { "-S", "-n" }); break;   // reads only: no vacuum, no truncate
                case LoadTestScript.SimpleUpdate: args.Add("-N"); break;
                case LoadTestScript.File: args.AddRange(new[] { "-n", "-f", Path.GetFullPath(options.ScriptFile!) }); break;
            }
            var started = DateTimeOffset.UtcNow;
            context.Report("Load test", $"{ScriptName(options)}: {options.Clients} clients, {seconds} s", 0);
            await using var bench = PgProcess.Start(plan.Tool, args, connection, null, redirectStdout: true, applicationName: session.ApplicationName, workingDirectory: logs.FullName,
                stderrLine: line =>
                {
                    if (ProgressLine().Match(line) is { Success: true } m)
                    {
                        var at = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                        context.Report("Load test", $"{at:0} s of {seconds}: {m.Groups[2].Value} tps, {m.Groups[3].Value} ms average latency", (int)Math.Min(99, at * 100 / seconds));
                    }
                });
            var stdout = await bench.Process.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
            var exit = await bench.WaitAsync(ct).ConfigureAwait(false);
            var stderr = bench.StderrTail;
            if (exit == 1 || !stdout.Contains("number of transactions actually processed", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"pgbench failed (exit {exit}): {LastLines(stderr)}");
            }
            var latencies = ReadLatencies(logs.FullName);
            latencies.Sort();
            double? Percentile(double p) => latencies.Count < 20 ? null : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)] / 1000.0;
            var aborted = AbortedLine().Matches(stderr).Count;
            return new DatabaseLoadTestResult
            {
                Environment = session.Environment,
                Target = session.Target,
                Database = session.Display,
                Script = Field(stdout, "transaction type") is { } type ? type.Trim('<', '>').Replace("builtin: ", "", StringComparison.Ordinal) : ScriptName(options),
                Clients = options.Clients,
                Threads = threads,
                Duration = TimeSpan.FromSeconds(seconds),
                Transactions = long.Parse(Field(stdout, "number of transactions actually processed")!.Split('/')[0], CultureInfo.InvariantCulture),
                FailedTransactions = Field(stdout, "number of failed transactions") is { } failed ? long.Parse(failed.Split(' ')[0], CultureInfo.InvariantCulture) : 0,
                AbortedClients = aborted,
                Tps = Number(stdout, @"tps = ([\d.]+)") ?? 0,
                LatencyAverageMs = Number(stdout, @"latency average = ([\d.]+) ms"),
                LatencyStdDevMs = Number(stdout, @"latency stddev = ([\d.]+) ms"),
                InitialConnectionTimeMs = Number(stdout, @"initial connection time = ([\d.]+) ms"),
                LatencyP50Ms = Percentile(0.50),
                LatencyP95Ms = Percentile(0.95),
                LatencyP99Ms = Percentile(0.99),
                LatencyMaxMs = latencies.Count == 0 ? null : latencies[^1] / 1000.0,
                Samples = latencies.Count,
                LatencyTarget = options.LatencyTarget,
                Errors = Errors(stderr),
                Pgbench = plan.Pgbench,
                StartedAt = started,
            };
        }
        finally
        {
            try
            {
                logs.Delete(recursive: true);
            }
            catch (IOException)
            {
                // a temp folder; the machine's cleanup takes it
            }
        }
    }

    /// <summary>The latency column (µs, the third) of every per-transaction log line pgbench wrote, one file per thread.</summary>
    private static List<long> ReadLatencies(string folder)
    {
        var latencies = new List<long>();
        foreach (var file in Directory.EnumerateFiles(folder, "tx.*"))
        {
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(' ', 4);
                // A transaction skipped for --latency-limit or failed is logged with "skipped" or "failed" instead of its time.
                if (parts.Length >= 3 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var us)) latencies.Add(us);
            }
        }
        return latencies;
    }

    private static string? Field(string output, string name) =>
        output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal))?[(name.Length + 1)..].Trim();

    private static double? Number(string output, string pattern) =>
        Regex.Match(output, pattern) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    private static string LastLines(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));

    [GeneratedRegex(@"^progress: ([\d.]+) s, ([\d.]+) tps, lat ([\d.]+) ms")]
    private static partial Regex ProgressLine();

    /// <summary>The server's messages (after ERROR: or FATAL:), else pgbench's own, each once.</summary>
    private static string[] Errors(string stderr)
    {
        var server = ServerError().Matches(stderr).Select(m => m.Groups[1].Value.Trim()).Distinct().Take(5).ToArray();
        return server.Length > 0 ? server : PgbenchError().Matches(stderr).Select(m => m.Groups[1].Value.Trim()).Distinct().Take(5).ToArray();
    }

    // PostgreSQL 15: "client 2 script 0 aborted in command 1 query 0: ERROR: ..."; before: "client 2 aborted in command 1 (SQL) of script 0; ERROR: ...".
    [GeneratedRegex(@"client \d+ (?:script \d+ )?aborted", RegexOptions.Multiline)]
    private static partial Regex AbortedLine();

    [GeneratedRegex(@"(?:ERROR|FATAL):\s+([^\n]+)")]
    private static partial Regex ServerError();

    [GeneratedRegex(@"pgbench: error: ([^\n]+)")]
    private static partial Regex PgbenchError();
}
