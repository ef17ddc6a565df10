using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.Engine.Secrets;

using OpsRunbook.Engine.Internal;

namespace OpsRunbook.Engine.Backup;

/// <summary>What Test-DatabaseBackup found for one backup.</summary>
public sealed class BackupVerification : IReportable
{
    /// <summary>The backup.</summary>
    public required string BackupUri { get; init; }
    /// <summary>The environment.</summary>
    public string? Environment { get; init; }
    /// <summary>The database it is a backup of.</summary>
    public required string Database { get; init; }
    /// <summary>Verified (every check passed), Failed, or Missing (no dump at that address).</summary>
    public required string Status { get; init; }
    /// <summary>Whether the backup's manifest was found (a dump without one never completed).</summary>
    public bool ManifestFound { get; init; } = true;
    /// <summary>Stored size equals the manifest's.</summary>
    public bool SizeMatches { get; init; }
    /// <summary>SHA-256 of the stored bytes equals the manifest's.</summary>
    public bool ChecksumMatches { get; init; }
    /// <summary>The archive reads to its end (pg_restore --list, or the plain dump's completion line).</summary>
    public bool ArchiveReadable { get; init; }
    /// <summary>Table-data entries in the archive's table of contents.</summary>
    public int? ArchiveEntries { get; init; }
    /// <summary>Whether a restore into a scratch database was made.</summary>
    public bool Restored { get; init; }
    /// <summary>The scratch database (dropped unless kept).</summary>
    public string? ScratchDatabase { get; init; }
    /// <summary>pg_amcheck: Passed, Failed, or Skipped with why.</summary>
    public string? AmCheck { get; init; }
    /// <summary>Tables whose restored rows equal the manifest's.</summary>
    public int TablesMatched { get; init; }
    /// <summary>Tables missing or with other row counts.</summary>
    public IReadOnlyList<string> TableMismatches { get; init; } = [];
    /// <summary>The restore's duration: the measured RTO.</summary>
    public TimeSpan? RestoreDuration { get; init; }
    /// <summary>The runbook's RTO target, when known.</summary>
    public TimeSpan? RtoTarget { get; init; }
    /// <summary>Whether the measured RTO is within the target.</summary>
    public bool? RtoMet => RestoreDuration is { } d && RtoTarget is { } t ? d <= t : null;
    /// <summary>What failed, in words.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
    /// <summary>Extensions left out of the restore check: the restoring role may not create them (not a superuser, not trusted).</summary>
    public IReadOnlyList<string> SkippedExtensions { get; init; } = [];

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var rto = RestoreDuration is { } d ? $"restore {d.TotalSeconds:0.#} s" + (RtoTarget is { } t ? $" (RTO target {t.TotalMinutes:0} min: {(RtoMet == true ? "met" : "missed")})" : "") : "no restore check";
        yield return new ReportRow("Backup verification", BackupUri, Status == "Verified" ? RtoMet == false ? ReportOutcome.Warn : ReportOutcome.Pass : ReportOutcome.Fail,
            Status, Environment, Problems.Count > 0 ? string.Join("; ", Problems) : $"checksum ok, {TablesMatched} tables matched, {rto}",
            [new("Database", Database), new("AmCheck", AmCheck ?? "")], DateTimeOffset.UtcNow, RestoreDuration?.TotalMilliseconds);
    }
}

/// <summary>What Restore-Database did.</summary>
public sealed class RestoreResult : IReportable
{
    /// <summary>The backup restored.</summary>
    public required string BackupUri { get; init; }
    /// <summary>The environment.</summary>
    public string? Environment { get; init; }
    /// <summary>The database restored into.</summary>
    public required string Database { get; init; }
    /// <summary>Succeeded or Failed.</summary>
    public required string Status { get; init; }
    /// <summary>Whether an existing database was replaced (-Force).</summary>
    public bool Replaced { get; init; }
    /// <summary>How long the restore took.</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>Why it failed.</summary>
    public string? Error { get; init; }

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Restores", $"{BackupUri} -> {Database}", Status == "Succeeded" ? ReportOutcome.Pass : ReportOutcome.Fail, Status, Environment,
            Error ?? $"restored in {Duration.TotalSeconds:0.#} s", [], DateTimeOffset.UtcNow, Duration.TotalMilliseconds);
    }
}

/// <summary>Listing, verifying, restoring and deleting backups in a store.</summary>
public static class BackupCatalog
{
    /// <summary>Every backup with a manifest in the store, newest first.</summary>
    public static async Task<IReadOnlyList<BackupInfo>> ListAsync(IBackupStore store, string? database, DateTimeOffset? since, DateTimeOffset? until, CancellationToken ct)
    {
        var list = new List<BackupInfo>();
        // One listing: manifests, verification markers, and the dumps themselves (a manifest alone is no backup).
        var keys = (await store.ListAsync("", ct).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        foreach (var key in keys.Where(k => k.EndsWith(".manifest.json", StringComparison.Ordinal)))
        {
            var dumpKey = key[..^".manifest.json".Length];
            BackupManifest manifest;
            await using (var s = await store.OpenReadAsync(key, ct).ConfigureAwait(false))
            {
                using var ms = new MemoryStream();
                await s.CopyToAsync(ms, ct).ConfigureAwait(false);
                manifest = BackupManifest.Parse(ms.ToArray(), store.Location.UriOf(key));
            }
            if (database is not null && !string.Equals(manifest.Database, database, StringComparison.Ordinal)) continue;
            if (since is not null && manifest.StartedAt < since) continue;
            if (until is not null && manifest.StartedAt > until) continue;
            var latest = keys.Contains(dumpKey + ".verified.json") ? await ReadLatestVerificationAsync(store, dumpKey, ct).ConfigureAwait(false) : null;
            list.Add(BackupInfo.FromManifest(manifest, store.Location, dumpKey, latest, dumpPresent: keys.Contains(dumpKey)));
        }
        return list.OrderByDescending(b => b.StartedAt).ToList();
    }

    /// <summary>What is at a dump key, for removing it by name: whether anything is (dump or manifest), the backup it is
    /// (null for a file without a manifest), and whether it is its series' last whole backup.</summary>
    public sealed record NamedBackup(bool Exists, BackupInfo? Backup, bool IsLastWhole);

    /// <summary>Looks up the backup at <paramref name="dumpKey"/> among its store's listing.</summary>
    public static async Task<NamedBackup> FindAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        var exists = await store.ExistsAsync(dumpKey, ct).ConfigureAwait(false) || await store.ExistsAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false);
        var all = await ListAsync(store, null, null, null, ct).ConfigureAwait(false);
        var backup = all.FirstOrDefault(b => string.Equals(b.BackupUri, store.Location.UriOf(dumpKey), StringComparison.Ordinal));
        return new NamedBackup(exists, backup, backup is not null && Retention.IsLastWhole(backup, all));
    }

    /// <summary>The latest verification recorded beside a backup (its .verified.json marker): a success or a failure.</summary>
    public sealed record LatestVerification(DateTimeOffset? VerifiedAt, DateTimeOffset? FailedAt, IReadOnlyList<string> Problems);

    /// <summary>Reads the backup's latest recorded verification, or null when it was never verified.</summary>
    public static async Task<LatestVerification?> ReadLatestVerificationAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        if (!await store.ExistsAsync(dumpKey + ".verified.json", ct).ConfigureAwait(false)) return null;
        await using var s = await store.OpenReadAsync(dumpKey + ".verified.json", ct).ConfigureAwait(false);
        using var doc = await JsonDocument.ParseAsync(s, cancellationToken: ct).ConfigureAwait(false);
        var root = doc.RootElement;
        return root.TryGetProperty("failedAt", out var failedAt)
            ? new LatestVerification(null, failedAt.GetDateTimeOffset(),
                root.TryGetProperty("problems", out var p) ? p.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [])
            : new LatestVerification(root.GetProperty("verifiedAt").GetDateTimeOffset(), null, []);
    }

    /// <summary>Deletes a backup: the manifest first (so a half-deleted backup never looks complete), then its marker and the dump.</summary>
    public static async Task DeleteAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        await store.DeleteAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false);
        await store.DeleteAsync(dumpKey + ".verified.json", ct).ConfigureAwait(false);
        await store.DeleteAsync(dumpKey, ct).ConfigureAwait(false);
    }

    /// <summary>The manifest of a backup URI, or null when there is none (a failed or foreign backup).</summary>
    public static async Task<BackupManifest?> ReadManifestAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        if (!await store.ExistsAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false)) return null;
        await using var s = await store.OpenReadAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false);
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms, ct).ConfigureAwait(false);
        return BackupManifest.Parse(ms.ToArray(), store.Location.UriOf(BackupManifest.KeyFor(dumpKey)));
    }

    /// <summary>Options of a verification.</summary>
    public sealed record VerifyOptions(bool RestoreCheck, bool KeepDatabase, TimeSpan? RtoTarget, SecretValue? RestoreConnection);

    /// <summary>
    /// Re-reads the dump (size and SHA-256 against the manifest) while pg_restore --list reads its table of contents;
    /// with a restore check, restores into a scratch database, runs pg_amcheck, compares tables and rows, and drops it.
    /// </summary>
    public static async Task<BackupVerification> VerifyAsync(IBackupStore store, string dumpKey, VerifyOptions options, OperationContext context)
    {
        var (secrets, redactor, environment, progress, ct) = (context.Secrets, context.Redactor, context.Environment, context.Progress, context.Cancellation);
        var uri = store.Location.UriOf(dumpKey);
        var manifest = await ReadManifestAsync(store, dumpKey, ct).ConfigureAwait(false);
        if (!await store.ExistsAsync(dumpKey, ct).ConfigureAwait(false))
        {
            return new BackupVerification
            {
                BackupUri = uri, Environment = environment, Database = manifest?.Database ?? "?", Status = "Missing", ManifestFound = manifest is not null,
                Problems = [manifest is null ? $"there is no backup at {uri}" : $"the dump {uri} is gone, though its manifest is there: the backup is lost"],
            };
        }
        if (manifest is null)
        {
            return new BackupVerification { BackupUri = uri, Environment = environment, Database = "?", Status = "Failed", ManifestFound = false, Problems = ["no manifest: the backup never completed, or was not made by OpsRunbook"] };
        }
        var problems = new List<string>();
        // Pass 1: checksum and size, and the archive's readability, in one read.
        progress?.Report(new OperationStatus("Checksum", $"reading {uri} ({manifest.SizeBytes / 1048576.0:0.0} MiB): SHA-256 and the archive's table of contents"));
        var bytes = new ByteProgress(progress, "Checksum", "read", manifest.SizeBytes);
        var (size, sha, readable, entries, tocProblem) = await ReadAndInspectAsync(store, dumpKey, manifest, bytes, ct).ConfigureAwait(false);
        progress?.Report(OperationStatus.Debug("Checksum", $"size {size}, SHA-256 {sha[..12]}…, {entries?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} archive entries"));
        var sizeOk = size == manifest.SizeBytes;
        var shaOk = string.Equals(sha, manifest.Sha256, StringComparison.OrdinalIgnoreCase);
        if (!sizeOk) problems.Add($"size {size} differs from the manifest's {manifest.SizeBytes}");
        if (!shaOk) problems.Add($"SHA-256 {sha[..12]}… differs from the manifest's {manifest.Sha256[..Math.Min(12, manifest.Sha256.Length)]}…: the backup is corrupt");
        if (!readable) problems.Add(tocProblem ?? "the archive cannot be read to its end");

        string? scratch = null;
        string? amcheck = null;
        var skippedExtensions = new List<string>();
        TimeSpan? restoreDuration = null;
        var matched = 0;
        var mismatches = new List<string>();
        if (options.RestoreCheck && problems.Count == 0)
        {
            var connection = options.RestoreConnection ?? throw new ArgumentException("a restore check needs a connection to restore into (the environment's database, or -RestoreConnection)");
            var builder = PostgresConnectionString.Parse(await connection.ResolveAsync(secrets, ct).ConfigureAwait(false));
            redactor.Add(builder.Password);
            scratch = $"opsrunbook_verify_{Guid.NewGuid().ToString("N")[..12]}";
            try
            {
                var sw = Stopwatch.StartNew();
                var restore = await RestoreIntoAsync(store, dumpKey, manifest, builder, scratch, create: true, jobs: 1, localFile: null, ct, skippedExtensions, progress: progress).ConfigureAwait(false);
                restoreDuration = sw.Elapsed;
                if (restore is not null) problems.Add(redactor.Scrub(restore));
                else
                {
                    progress?.Report(new OperationStatus("AmCheck", $"pg_amcheck on {scratch}: every table and index"));
                    amcheck = await AmCheckAsync(builder, scratch, redactor, ct).ConfigureAwait(false);
                    progress?.Report(new OperationStatus("Compare", $"{manifest.Tables.Count} tables' rows against the manifest"));
                    if (amcheck.StartsWith("Failed", StringComparison.Ordinal)) problems.Add("pg_amcheck: " + amcheck);
                    (matched, mismatches) = await CompareTablesAsync(builder, scratch, manifest, ct).ConfigureAwait(false);
                    problems.AddRange(mismatches.Select(m => "table " + m));
                }
            }
            finally
            {
                if (!options.KeepDatabase) await DropDatabaseAsync(builder, scratch, CancellationToken.None).ConfigureAwait(false);
            }
        }
        var verification = new BackupVerification
        {
            BackupUri = uri,
            Environment = environment ?? manifest.Environment,
            Database = manifest.Database,
            Status = problems.Count == 0 ? "Verified" : "Failed",
            SizeMatches = sizeOk,
            ChecksumMatches = shaOk,
            ArchiveReadable = readable,
            ArchiveEntries = entries,
            Restored = restoreDuration is not null && problems.Count == 0,
            ScratchDatabase = scratch,
            AmCheck = amcheck,
            TablesMatched = matched,
            TableMismatches = mismatches,
            RestoreDuration = restoreDuration,
            RtoTarget = options.RtoTarget,
            Problems = problems,
            SkippedExtensions = skippedExtensions.Distinct().ToList(),
        };
        if (verification.Status == "Verified" && options.RestoreCheck)
        {
            // The proof retention relies on: never delete the newest backup that was restored successfully.
            var marker = JsonSerializer.SerializeToUtf8Bytes(new { verifiedAt = DateTimeOffset.UtcNow, restoreSeconds = restoreDuration?.TotalSeconds, tablesMatched = matched });
            await store.PutAsync(dumpKey + ".verified.json", marker, ct).ConfigureAwait(false);
        }
        else if (verification.Status != "Verified")
        {
            // A verification is a fact with a time: a later failure revokes an earlier success, so neither listing nor
            // retention ever counts this backup as verified again until a restore check proves it once more.
            var marker = JsonSerializer.SerializeToUtf8Bytes(new { failedAt = DateTimeOffset.UtcNow, problems });
            await store.PutAsync(dumpKey + ".verified.json", marker, ct).ConfigureAwait(false);
        }
        return verification;
    }

    private static async Task<(long size, string sha, bool readable, int? entries, string? problem)> ReadAndInspectAsync(IBackupStore store, string dumpKey, BackupManifest manifest,
        ByteProgress bytes, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long size = 0;
        await using var input = await store.OpenReadAsync(dumpKey, ct).ConfigureAwait(false);
        var hashing = new HashingReadStream(input, hash, n =>
        {
            size += n;
            bytes.Add(n);
        });
        bool readable;
        int? entries = null;
        string? problem = null;
        if (manifest.Format == "custom")
        {
            var pgRestore = PgTools.Find("pg_restore", MajorOf(manifest.PgDumpVersion));
            var psi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(pgRestore.Path) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true });
            psi.ArgumentList.Add("--list");
            using var p = Internal.ChildProcesses.Start(psi);
            var listing = p.StandardOutput.ReadToEndAsync(ct);
            var errors = p.StandardError.ReadToEndAsync(ct);
            try
            {
                await BlockingIo.CopyAsync(hashing, p.StandardInput.BaseStream, () => BlockingIo.Kill(p), ct).ConfigureAwait(false);
                p.StandardInput.Close();
            }
            catch (IOException)
            {
                // pg_restore stopped reading (a damaged archive); the hash still needs the rest.
                await hashing.CopyToAsync(Stream.Null, 1 << 20, ct).ConfigureAwait(false);
            }
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
            var toc = await listing.ConfigureAwait(false);
            readable = p.ExitCode == 0;
            entries = toc.Split('\n').Count(l => l.Contains(" TABLE DATA ", StringComparison.Ordinal));
            if (!readable) problem = "pg_restore cannot read the archive: " + (await errors.ConfigureAwait(false)).Trim();
        }
        else
        {
            Stream text = manifest.Compression switch
            {
                "gzip" => new GZipStream(hashing, CompressionMode.Decompress),
                _ => hashing,
            };
            if (manifest.Compression == "zstd")
            {
                var (ok, tail) = await ZstdTailAsync(hashing, ct).ConfigureAwait(false);
                readable = ok && tail.Contains("PostgreSQL database dump complete", StringComparison.Ordinal);
            }
            else
            {
                var tail = await TailAsync(text, ct).ConfigureAwait(false);
                readable = tail.Contains("PostgreSQL database dump complete", StringComparison.Ordinal);
            }
            if (!readable) problem = "the plain dump does not end with pg_dump's completion line: it is truncated";
            // Whatever the decompressor left unread still counts for the checksum.
            await hashing.CopyToAsync(Stream.Null, 1 << 20, ct).ConfigureAwait(false);
        }
        return (size, Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant(), readable, entries, problem);
    }

    private static async Task<string> TailAsync(Stream s, CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        var tail = new byte[4096];
        var tailLength = 0;
        int n;
        try
        {
            while ((n = await s.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                var keep = Math.Min(tail.Length, tailLength + n);
                var fromOld = keep - Math.Min(n, keep);
                Buffer.BlockCopy(tail, tailLength - fromOld, tail, 0, fromOld);
                Buffer.BlockCopy(buffer, n - (keep - fromOld), tail, fromOld, keep - fromOld);
                tailLength = keep;
            }
        }
        catch (InvalidDataException)
        {
            return "";
        }
        return System.Text.Encoding.UTF8.GetString(tail, 0, tailLength);
    }

    private static async Task<(bool ok, string tail)> ZstdTailAsync(Stream compressed, CancellationToken ct)
    {
        var zstd = BackupRunner.FindProgram("zstd") ?? throw new PgToolMissingException("reading a zstd backup needs the zstd program on PATH");
        var psi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(zstd) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true });
        foreach (var a in new[] { "-d", "-c", "-q" }) psi.ArgumentList.Add(a);
        using var p = Internal.ChildProcesses.Start(psi);
        var tail = TailAsync(p.StandardOutput.BaseStream, ct);
        await BlockingIo.CopyAsync(compressed, p.StandardInput.BaseStream, () => BlockingIo.Kill(p), ct).ConfigureAwait(false);
        p.StandardInput.Close();
        var text = await tail.ConfigureAwait(false);
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        return (p.ExitCode == 0, text);
    }

    /// <summary>
    /// Restores a backup into <paramref name="database"/> (created first when asked): pg_restore for custom archives
    /// (parallel with a local file), psql for plain dumps. Returns null on success, else what went wrong.
    /// </summary>
    internal static async Task<string?> RestoreIntoAsync(IBackupStore store, string dumpKey, BackupManifest manifest, NpgsqlConnectionStringBuilder builder,
        string database, bool create, int jobs, string? localFile, CancellationToken ct, List<string>? skippedExtensions = null, Task<string>? tableOfContents = null,
        IProgress<OperationStatus>? progress = null, string phase = "Restore")
    {
        if (create) await CreateDatabaseAsync(builder, database, ct).ConfigureAwait(false);
        // The rows the backup holds (counted when it was made, else the planner's estimate): the restore's 100%.
        var totalRows = manifest.Tables.Sum(t => t.Rows ?? t.RowEstimate);
        var appName = $"OpsRunbook restore {database}";
        progress?.Report(new OperationStatus(phase, $"restoring into {database} ({manifest.Format}, {(localFile is not null && jobs > 1 ? $"{jobs} jobs" : "1 job")}, {manifest.Tables.Count} tables, {totalRows:N0} rows)"));
        using var stopProgress = new CancellationTokenSource();
        var rowProgress = progress is null ? Task.CompletedTask : CopyProgress.RunAsync(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = database }, appName,
            rows => progress.Report(new OperationStatus(phase, $"{rows:N0} of {totalRows:N0} rows restored into {database}", OperationStatus.PercentOf(rows, totalRows))),
            m => progress.Report(OperationStatus.Debug(phase, m)), TimeSpan.FromSeconds(1), stopProgress.Token);
        try
        {
            return await RestoreRowsAsync(store, dumpKey, manifest, builder, database, jobs, localFile, appName, progress, phase, skippedExtensions, tableOfContents, ct).ConfigureAwait(false);
        }
        finally
        {
            await stopProgress.CancelAsync().ConfigureAwait(false);
            await rowProgress.ConfigureAwait(false);
        }
    }

    private static async Task<string?> RestoreRowsAsync(IBackupStore store, string dumpKey, BackupManifest manifest, NpgsqlConnectionStringBuilder builder, string database,
        int jobs, string? localFile, string appName, IProgress<OperationStatus>? progress, string phase, List<string>? skippedExtensions, Task<string>? tableOfContents, CancellationToken ct)
    {
        var major = MajorOf(manifest.PgDumpVersion);
        var creatable = await CreatableExtensionsAsync(builder, ct).ConfigureAwait(false);
        if (manifest.Format == "custom")
        {
            var tool = PgTools.Find("pg_restore", major);
            var args = new List<string> { "--no-owner", "--no-privileges", "--exit-on-error", "--dbname=" + database };
            // A role that is not a superuser cannot create untrusted extensions (pg_stat_statements...): leave those
            // entries out of the restore, say so, and restore and check everything else.
            var toc = await (tableOfContents ?? TableOfContentsAsync(tool, store, dumpKey, localFile, ct)).ConfigureAwait(false);
            var kept = new List<string>();
            foreach (var line in toc.Split('\n'))
            {
                var m = System.Text.RegularExpressions.Regex.Match(line, @"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)");
                if (m.Success && creatable is not null && !creatable.Contains(m.Groups[1].Value))
                {
                    skippedExtensions?.Add(m.Groups[1].Value);
                    continue;
                }
                kept.Add(line);
            }
            using var listFile = Internal.PrivateFile.Create("opsrunbook-list", System.Text.Encoding.UTF8.GetBytes(string.Join('\n', kept) + "\n"));
            args.Add("--use-list=" + listFile.Path);
            if (localFile is not null)
            {
                if (jobs > 1) args.Add("--jobs=" + jobs);
                args.Add(localFile);
            }
            progress?.Report(OperationStatus.Debug(phase, $"{tool.Path} {string.Join(' ', args)}"));
            await using var pg = PgProcess.Start(tool, args, builder, database, redirectStdin: localFile is null, applicationName: appName);
            if (localFile is null)
            {
                await using (var input = await store.OpenReadAsync(dumpKey, ct).ConfigureAwait(false))
                {
                    await BlockingIo.CopyAsync(input, pg.Process.StandardInput.BaseStream, pg.Kill, ct).ConfigureAwait(false);
                }
                pg.Process.StandardInput.Close();
            }
            var code = await pg.WaitAsync(ct).ConfigureAwait(false);
            return code == 0 ? null : $"pg_restore exited with code {pg.Process.ExitCode}: {pg.StderrTail.Trim()}";
        }
        var psql = PgTools.Find("psql", major);
        await using (var pg = PgProcess.Start(psql, ["--quiet", "--no-psqlrc", "--set=ON_ERROR_STOP=1", "--single-transaction", "--file=-", "--output=/dev/null"], builder, database, redirectStdin: true,
            applicationName: appName))
        {
            await using (var input = localFile is null ? await store.OpenReadAsync(dumpKey, ct).ConfigureAwait(false) : File.OpenRead(localFile))
            {
                if (manifest.Compression == "zstd")
                {
                    var zstd = BackupRunner.FindProgram("zstd") ?? throw new PgToolMissingException("restoring a zstd backup needs the zstd program on PATH");
                    var psi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(zstd) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true });
                    foreach (var a in new[] { "-d", "-c", "-q" }) psi.ArgumentList.Add(a);
                    using var z = Internal.ChildProcesses.Start(psi);
                    void Stop()
                    {
                        BlockingIo.Kill(z);
                        pg.Kill();
                    }
                    var pump = BlockingIo.RunAsync(() => CopySql(z.StandardOutput.BaseStream, pg.Process.StandardInput.BaseStream, creatable, skippedExtensions), Stop, ct);
                    await BlockingIo.CopyAsync(input, z.StandardInput.BaseStream, Stop, ct).ConfigureAwait(false);
                    z.StandardInput.Close();
                    await pump.ConfigureAwait(false);
                }
                else
                {
                    Stream sql = manifest.Compression == "gzip" ? new GZipStream(input, CompressionMode.Decompress) : input;
                    await BlockingIo.RunAsync(() => CopySql(sql, pg.Process.StandardInput.BaseStream, creatable, skippedExtensions), pg.Kill, ct).ConfigureAwait(false);
                }
            }
            pg.Process.StandardInput.Close();
            return await pg.WaitAsync(ct).ConfigureAwait(false) == 0 ? null : $"psql exited with code {pg.Process.ExitCode}: {pg.StderrTail.Trim()}";
        }
    }

    /// <summary>Extensions the role may create: null for a superuser (all), else the trusted ones (PostgreSQL 13+).</summary>
    private static async Task<HashSet<string>?> CreatableExtensionsAsync(NpgsqlConnectionStringBuilder builder, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using (var su = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", c))
        {
            if ((bool)(await su.ExecuteScalarAsync(ct).ConfigureAwait(false))!) return null;
        }
        var trusted = new HashSet<string>(StringComparer.Ordinal) { "plpgsql" };
        await using var cmd = new NpgsqlCommand("SELECT DISTINCT name FROM pg_available_extension_versions WHERE trusted", c);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) trusted.Add(r.GetString(0));
        return trusted;
    }

    /// <summary>Starts <c>pg_restore --list</c> of a local custom archive (read-only), or null for a plain dump.</summary>
    internal static Task<string>? StartTableOfContents(IBackupStore store, string dumpKey, BackupManifest manifest, string localFile, CancellationToken ct) =>
        manifest.Format == "custom" ? TableOfContentsAsync(PgTools.Find("pg_restore", MajorOf(manifest.PgDumpVersion)), store, dumpKey, localFile, ct) : null;

    private static async Task<string> TableOfContentsAsync(PgTool pgRestore, IBackupStore store, string dumpKey, string? localFile, CancellationToken ct)
    {
        var psi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(pgRestore.Path) { UseShellExecute = false, RedirectStandardInput = localFile is null, RedirectStandardOutput = true, RedirectStandardError = true });
        psi.ArgumentList.Add("--list");
        if (localFile is not null) psi.ArgumentList.Add(localFile);
        using var p = Internal.ChildProcesses.Start(psi);
        var output = p.StandardOutput.ReadToEndAsync(ct);
        var errors = p.StandardError.ReadToEndAsync(ct);
        if (localFile is null)
        {
            try
            {
                await using (var input = await store.OpenReadAsync(dumpKey, ct).ConfigureAwait(false))
                {
                    await BlockingIo.CopyAsync(input, p.StandardInput.BaseStream, () => BlockingIo.Kill(p), ct).ConfigureAwait(false);
                }
                p.StandardInput.Close();
            }
            catch (IOException)
            {
                // pg_restore --list stops reading once it has the table of contents: a closed pipe is expected.
            }
        }
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        return p.ExitCode == 0 ? await output.ConfigureAwait(false) : throw new BackupFailedException("pg_restore --list failed: " + (await errors.ConfigureAwait(false)).Trim());
    }

    /// <summary>Copies a plain dump to psql, leaving out CREATE/COMMENT ON EXTENSION for extensions the role cannot create.</summary>
    private static void CopySql(Stream sql, Stream psql, HashSet<string>? creatable, List<string>? skipped)
    {
        if (creatable is null)
        {
            sql.CopyTo(psql, 1 << 20);
            return;
        }
        using var reader = new StreamReader(sql, System.Text.Encoding.UTF8, false, 1 << 16);
        using var writer = new StreamWriter(psql, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^(?:CREATE EXTENSION IF NOT EXISTS|COMMENT ON EXTENSION) (\S+)");
            if (m.Success && !creatable.Contains(m.Groups[1].Value))
            {
                skipped?.Add(m.Groups[1].Value);
                continue;
            }
            writer.WriteLine(line);
        }
    }

    private static async Task<string> AmCheckAsync(NpgsqlConnectionStringBuilder builder, string database, SecretRedactor redactor, CancellationToken ct)
    {
        PgTool tool;
        try
        {
            tool = PgTools.Find("pg_amcheck", 14);
        }
        catch (PgToolMissingException)
        {
            return "Skipped: pg_amcheck (PostgreSQL 14+) is not installed";
        }
        await using var pg = PgProcess.Start(tool, ["--install-missing", "--heapallindexed", "--no-dependent-toast", "--database=" + database], builder, database);
        if (await pg.WaitAsync(ct).ConfigureAwait(false) == 0) return "Passed";
        var err = redactor.Scrub(pg.StderrTail.Trim());
        return err.Contains("permission denied", StringComparison.OrdinalIgnoreCase) || err.Contains("must be", StringComparison.OrdinalIgnoreCase)
            ? "Skipped: the role may not install or run amcheck (it needs superuser, or EXECUTE on amcheck's functions)"
            : $"Failed: {err}";
    }

    private static async Task<(int matched, List<string> mismatches)> CompareTablesAsync(NpgsqlConnectionStringBuilder builder, string database, BackupManifest manifest, CancellationToken ct)
    {
        var b = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = database, Pooling = false, ApplicationName = "OpsRunbook verify" };
        await using var c = new NpgsqlConnection(b.ConnectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        var matched = 0;
        var mismatches = new List<string>();
        foreach (var t in manifest.Tables)
        {
            await using var exists = new NpgsqlCommand("SELECT to_regclass(@name) IS NOT NULL", c);
            exists.Parameters.AddWithValue("name", $"{Identifier.Quote(t.Schema)}.{Identifier.Quote(t.Name)}");
            if (!(bool)(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                mismatches.Add($"{t.Schema}.{t.Name} is missing after the restore");
                continue;
            }
            if (t.Rows is { } expected)
            {
                await using var count = new NpgsqlCommand($"SELECT count(*) FROM {Identifier.Quote(t.Schema)}.{Identifier.Quote(t.Name)}", c);
                var actual = (long)(await count.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
                if (actual != expected)
                {
                    mismatches.Add($"{t.Schema}.{t.Name} has {actual} rows, the backup {expected}");
                    continue;
                }
            }
            matched++;
        }
        return (matched, mismatches);
    }

    internal static async Task<bool> DatabaseExistsAsync(NpgsqlConnectionStringBuilder builder, string database, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @n)", c);
        cmd.Parameters.AddWithValue("n", database);
        return (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    internal static async Task CreateDatabaseAsync(NpgsqlConnectionStringBuilder builder, string database, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {Identifier.Quote(database)}", c);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    internal static async Task DropDatabaseAsync(NpgsqlConnectionStringBuilder builder, string database, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Identifier.Quote(database)} WITH (FORCE)", c);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts <paramref name="restored"/> in <paramref name="target"/>'s place: the target's sessions are ended, it is renamed
    /// aside, the restored database takes its name, and only then is the old one dropped. Both renames run in one
    /// maintenance session, seconds apart; until the first, the old database is whole.
    /// </summary>
    internal static async Task SwapDatabaseAsync(NpgsqlConnectionStringBuilder builder, string restored, string target, string aside, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        async Task Exec(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.AddWithValue("target", target);
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @target AND pid <> pg_backend_pid()");
        await Exec($"ALTER DATABASE {Identifier.Quote(target)} RENAME TO {Identifier.Quote(aside)}");
        await Exec($"ALTER DATABASE {Identifier.Quote(restored)} RENAME TO {Identifier.Quote(target)}");
        await Exec($"DROP DATABASE {Identifier.Quote(aside)} WITH (FORCE)");
    }

    /// <summary>A connection for CREATE/DROP DATABASE: to the connection's own database (CREATE DATABASE cannot target the one it runs in, which is fine).</summary>
    private static async Task<NpgsqlConnection> MaintenanceConnectionAsync(NpgsqlConnectionStringBuilder builder, CancellationToken ct)
    {
        var b = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, ApplicationName = "OpsRunbook restore" };
        var c = new NpgsqlConnection(b.ConnectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        return c;
    }

    internal static int MajorOf(string pgDumpVersion) =>
        System.Text.RegularExpressions.Regex.Match(pgDumpVersion, @"\(PostgreSQL\)\s+(\d+)") is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>A read stream that hashes and counts what passes through it.</summary>
    private sealed class HashingReadStream(Stream inner, IncrementalHash hash, Action<int> count) : SequentialStream
    {
        public override bool CanRead => true;
        public override bool CanWrite => false;
        public override int Read(byte[] buffer, int offset, int n)
        {
            var read = inner.Read(buffer, offset, n);
            Count(buffer.AsSpan(offset, read));
            return read;
        }

        private void Count(ReadOnlySpan<byte> data)
        {
            if (data.Length == 0) return;
            hash.AppendData(data);
            count(data.Length);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Count(buffer.Span[..n]);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int n, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, n), cancellationToken).AsTask();
    }
}
