using System.Diagnostics;
using Npgsql;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Secrets;

/// <summary>
/// Issue 5: a database of about 1 GB (OPSRUNBOOK_BENCH_BACKUP_MB, default 1024). Backup-Database's engine to a local
/// directory and to s3rver against `pg_dump -Fc -f file` in the same run: throughput ≥ 0.9× the baseline; peak memory
/// of this process ≤ 200 MB. Restore-Database's engine against a direct `pg_restore` of the same archive: ≥ 0.9×.
/// Run it in its own process (`-- backup`) so nothing else inflates the memory figure. `--keep-database` reuses the
/// database of an earlier run with the same size and leaves it for the next (saves the ~2 minutes of loading it).
/// </summary>
internal static class BackupBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var megabytes = int.TryParse(Environment.GetEnvironmentVariable("OPSRUNBOOK_BENCH_BACKUP_MB"), out var mb) ? mb : 1024;
        var (settings, stop) = await MixedBenchmark.TestServersAsync();
        var work = Directory.CreateTempSubdirectory("opsrunbook-bench").FullName;
        try
        {
            string S(string k) => settings[k];
            var password = S("OPSRUNBOOK_PG_PASSWORD");
            var admin = $"Host=127.0.0.1;Port={S("OPSRUNBOOK_PG_PORT")};Username=opsrunbook;Password={password};Database=opsrunbook;Pooling=false;Command Timeout=0";
            const string db = "bench_backup";
            var sw = Stopwatch.StartNew();
            var dbConn = admin.Replace("Database=opsrunbook", $"Database={db}", StringComparison.Ordinal);
            // Rows of ~290 bytes: half md5 (compressible like real text), half random (not).
            var rows = (long)megabytes * 1024 * 1024 / 330;
            // --keep-database: reuse the database of an earlier run (same size) and leave it for the next one.
            var keep = args.Contains("--keep-database");
            var reuse = keep && await ExistingRowsAsync(admin, db) == rows;
            if (!reuse)
            {
                await using var c = new NpgsqlConnection(admin);
                await c.OpenAsync();
                await new NpgsqlCommand($"DROP DATABASE IF EXISTS {db} WITH (FORCE)", c).ExecuteNonQueryAsync();
                await new NpgsqlCommand($"CREATE DATABASE {db}", c).ExecuteNonQueryAsync();
            }
            else
            {
                Console.WriteLine($"database {db}: reused ({rows:N0} rows)");
            }
            if (!reuse)
            await using (var c = new NpgsqlConnection(dbConn))
            {
                await c.OpenAsync();
                await new NpgsqlCommand("CREATE TABLE events (id bigint PRIMARY KEY, kind int, payload text)", c).ExecuteNonQueryAsync();
                const long batch = 500_000;
                for (long from = 1; from <= rows; from += batch)
                {
                    var to = Math.Min(rows, from + batch - 1);
                    await new NpgsqlCommand($"INSERT INTO events SELECT g, g % 17, repeat(md5(g::text), 4) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series({from}, {to}) g", c).ExecuteNonQueryAsync();
                }
                await new NpgsqlCommand("ANALYZE events", c).ExecuteNonQueryAsync();
                var size = (long)(await new NpgsqlCommand("SELECT pg_database_size(current_database())", c).ExecuteScalarAsync())!;
                Console.WriteLine($"database {db}: {rows:N0} rows, {size / 1048576.0:N0} MiB (made in {sw.Elapsed.TotalSeconds:N0} s)");
            }

            var env = new Dictionary<string, string>(settings) { ["BENCH_DB_URL"] = $"postgres://opsrunbook:{Uri.EscapeDataString(password)}@127.0.0.1:{S("OPSRUNBOOK_PG_PORT")}/{db}" };
            var resolver = new SecretResolver(environment: n => env.TryGetValue(n, out var v) ? v : Environment.GetEnvironmentVariable(n));
            var aws = new AwsSettings
            {
                Region = "us-east-1", AccessKeyId = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"), SecretAccessKey = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"),
                S3Endpoint = S("OPSRUNBOOK_S3_ENDPOINT"),
            };
            var pgDump = PgTools.Find("pg_dump", 15);
            var pgRestore = PgTools.Find("pg_restore", 15);

            // Baseline: pg_dump -Fc -f file.
            var baselineFile = Path.Combine(work, "baseline.dump");
            var t0 = await TimeAsync(pgDump.Path, ["-Fc", "-f", baselineFile, "-h", "127.0.0.1", "-p", S("OPSRUNBOOK_PG_PORT"), "-U", "opsrunbook", db], password);
            var baselineBytes = new FileInfo(baselineFile).Length;

            // Reported as Backup-Database reports (the row-progress poll and the dump tracker run), and counted, not shown.
            var statuses = new CountingProgress();
            async Task<(TimeSpan t, BackupInfo info)> Backup(BackupLocation destination, bool countRows)
            {
                var w = Stopwatch.StartNew();
                var info = await BackupRunner.RunAsync(new BackupRequest
                {
                    Connection = SecretValue.Parse("env:BENCH_DB_URL"), Destinations = [destination], System = "bench", CountRows = countRows,
                }, new OperationContext(resolver, resolver.Redactor) { Aws = aws, Environment = "bench", Progress = statuses });
                if (info.Status != BackupStatus.Succeeded) throw new InvalidOperationException(info.Error);
                return (w.Elapsed, info);
            }

            var local = await Backup(new BackupLocation(Path.Combine(work, "local")), countRows: true);
            var localNoCount = await Backup(new BackupLocation(Path.Combine(work, "local-nocount")), countRows: false);
            var peakLocal = Process.GetCurrentProcess().PeakWorkingSet64;
            var s3First = await Backup(new BackupLocation($"s3://{S("OPSRUNBOOK_S3_BUCKET")}/bench/{Guid.NewGuid():N}/"), countRows: true);
            var peak = Process.GetCurrentProcess().PeakWorkingSet64;
            // Alternating, best of two each (as the restore comparison does): one run of each is at the machine's mercy.
            File.Delete(baselineFile);
            var t0Again = await TimeAsync(pgDump.Path, ["-Fc", "-f", baselineFile, "-h", "127.0.0.1", "-p", S("OPSRUNBOOK_PG_PORT"), "-U", "opsrunbook", db], password);
            var s3Second = await Backup(new BackupLocation($"s3://{S("OPSRUNBOOK_S3_BUCKET")}/bench/{Guid.NewGuid():N}/"), countRows: true);
            Console.WriteLine($"  (pg_dump runs {t0.TotalSeconds:N1} s and {t0Again.TotalSeconds:N1} s; s3rver runs {s3First.t.TotalSeconds:N1} s and {s3Second.t.TotalSeconds:N1} s)");
            if (t0Again < t0) t0 = t0Again;
            var s3 = s3Second.t < s3First.t ? s3Second : s3First;

            double Ratio(TimeSpan baseline, TimeSpan t, long baseBytes, long bytes) => (bytes / t.TotalSeconds) / (baseBytes / baseline.TotalSeconds);
            Console.WriteLine();
            Console.WriteLine($"backup of a {baselineBytes / 1048576.0:N0} MiB custom-format dump");
            Console.WriteLine($"  pg_dump -Fc -f file (baseline, best of two) {t0.TotalSeconds,7:N1} s   {baselineBytes / 1048576.0 / t0.TotalSeconds,7:N1} MiB/s");
            Console.WriteLine($"  Backup-Database -> local                    {local.t.TotalSeconds,7:N1} s   throughput ratio {Ratio(t0, local.t, baselineBytes, local.info.SizeBytes):0.000}  (with exact row counts)");
            Console.WriteLine($"  Backup-Database -> local, -NoRowCount       {localNoCount.t.TotalSeconds,7:N1} s   throughput ratio {Ratio(t0, localNoCount.t, baselineBytes, localNoCount.info.SizeBytes):0.000}");
            Console.WriteLine($"  Backup-Database -> s3rver (best of two)     {s3.t.TotalSeconds,7:N1} s   throughput ratio {Ratio(t0, s3.t, baselineBytes, s3.info.SizeBytes):0.000}");
            Console.WriteLine($"  peak working set of this process            {peak / 1048576.0,7:N0} MiB  (target <= 200; {peakLocal / 1048576.0:N0} MiB before the S3 run)");

            // Restore: pg_restore of the baseline archive vs Restore-Database's engine of our local backup.
            async Task Drop(string name)
            {
                await using var c = new NpgsqlConnection(admin);
                await c.OpenAsync();
                await new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", c).ExecuteNonQueryAsync();
            }
            // Alternating, best of two each: the first restore after a 1 GB load competes with autovacuum and checkpoints.
            async Task<TimeSpan> Baseline()
            {
                await Drop("bench_restore_a");
                // The manual procedure is createdb + pg_restore (Restore-Database creates its target too): both are timed.
                var create = Stopwatch.StartNew();
                await using (var c = new NpgsqlConnection(admin))
                {
                    await c.OpenAsync();
                    await new NpgsqlCommand("CREATE DATABASE bench_restore_a", c).ExecuteNonQueryAsync();
                }
                var t = create.Elapsed + await TimeAsync(pgRestore.Path, ["--no-owner", "--no-privileges", "-h", "127.0.0.1", "-p", S("OPSRUNBOOK_PG_PORT"), "-U", "opsrunbook", "-d", "bench_restore_a", baselineFile], password);
                await CheckRows("bench_restore_a");
                await Drop("bench_restore_a");
                return t;
            }
            async Task<TimeSpan> Ours()
            {
                await Drop("bench_restore_b");
                var w2 = Stopwatch.StartNew();
                var plan = await RestoreRunner.PlanAsync(local.info.BackupUri, "bench_restore_b", SecretValue.Parse("env:BENCH_DB_URL"), new OperationContext(resolver, resolver.Redactor) { Aws = aws });
                var restored = await RestoreRunner.RunAsync(plan, false, 1, SecretValue.Parse("env:BENCH_DB_URL"), new OperationContext(resolver, resolver.Redactor) { Aws = aws, Environment = "bench", Progress = statuses });
                var t = w2.Elapsed;
                if (restored.Status != RestoreStatus.Succeeded) throw new InvalidOperationException(restored.Error);
                await CheckRows("bench_restore_b");
                await Drop("bench_restore_b");
                return t;
            }
            async Task CheckRows(string name)
            {
                await using var c = new NpgsqlConnection(admin.Replace("Database=opsrunbook", $"Database={name}", StringComparison.Ordinal));
                await c.OpenAsync();
                var n = (long)(await new NpgsqlCommand("SELECT count(*) FROM events", c).ExecuteScalarAsync())!;
                if (n != rows) throw new InvalidOperationException($"{name} has {n} rows, expected {rows}");
            }
            await using (var c = new NpgsqlConnection(dbConn))
            {
                await c.OpenAsync();
                await new NpgsqlCommand("CHECKPOINT", c).ExecuteNonQueryAsync().ContinueWith(_ => { });
            }
            // Best of three, alternating: a 7 s restore moves by more than a second from one run to the next here.
            var baselines = new List<TimeSpan>();
            var ours = new List<TimeSpan>();
            for (var i = 0; i < 3; i++)
            {
                baselines.Add(await Baseline());
                ours.Add(await Ours());
            }
            var r0 = baselines.Min();
            var r1 = ours.Min();
            string All(List<TimeSpan> times) => string.Join(", ", times.Select(t => t.TotalSeconds.ToString("N1", System.Globalization.CultureInfo.InvariantCulture)));
            Console.WriteLine();
            Console.WriteLine("restore of the same size (best of three, alternating; row counts checked)");
            Console.WriteLine($"  createdb + pg_restore -d db file (baseline) {r0.TotalSeconds,7:N1} s   ({All(baselines)})");
            Console.WriteLine($"  Restore-Database (checksum first)           {r1.TotalSeconds,7:N1} s   ({All(ours)})   speed ratio {r0 / r1:0.000}");
            if (!keep) await Drop(db);
        }
        finally
        {
            Directory.Delete(work, true);
            stop();
        }
    }

    private static async Task<long> ExistingRowsAsync(string admin, string db)
    {
        await using var c = new NpgsqlConnection(admin);
        await c.OpenAsync();
        if (await new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{db}'", c).ExecuteScalarAsync() is null) return -1;
        await using var d = new NpgsqlConnection(admin.Replace("Database=opsrunbook", $"Database={db}", StringComparison.Ordinal));
        await d.OpenAsync();
        try
        {
            return (long)(await new NpgsqlCommand("SELECT count(*) FROM events", d).ExecuteScalarAsync())!;
        }
        catch (PostgresException)
        {
            return -1;
        }
    }

    private static async Task<TimeSpan> TimeAsync(string file, string[] args, string password)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PGPASSWORD"] = password; // the baseline tool's own way; OpsRunbook uses a password file
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} failed: {await err}");
        return sw.Elapsed;
    }
}

/// <summary>What the cmdlet's status queue does, without a host: takes every report.</summary>
internal sealed class CountingProgress : IProgress<OpsRunbook.Engine.Common.OperationStatus>
{
    private long _count;
    public long Count => Interlocked.Read(ref _count);
    public void Report(OpsRunbook.Engine.Common.OperationStatus value) => Interlocked.Increment(ref _count);
}
