using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Backup;
/// <summary>
/// Test-DatabaseBackup: proves a backup by reading it again (size and SHA-256 against its manifest, the archive's table of
/// contents) and, with a restore check, by restoring it into a scratch database, running pg_amcheck and comparing tables
/// and rows with the manifest. Records the latest verification beside the backup.
/// </summary>
public static class BackupVerifier
{
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
        var manifest = await BackupCatalog.ReadManifestAsync(store, dumpKey, ct).ConfigureAwait(false);
        if (!await store.ExistsAsync(dumpKey, ct).ConfigureAwait(false))
        {
            return new BackupVerification
            {
                BackupUri = uri, Environment = environment, Database = manifest?.Database ?? "?", Status = VerificationStatus.Missing, ManifestFound = manifest is not null,
                Problems = new string[] { manifest is null ? $"there is no backup at {uri}" : $"the dump {uri} is gone, though its manifest is there: the backup is lost" },
            };
        }
        if (manifest is null)
        {
            return new BackupVerification { BackupUri = uri, Environment = environment, Database = "?", Status = VerificationStatus.Failed, ManifestFound = false, Problems = new string[] { "no manifest: the backup never completed, or was not made by OpsRunbook" } };
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
                var restore = await RestoreTarget.RestoreIntoAsync(store, dumpKey, manifest, builder, scratch, create: true, jobs: 1, localFile: null, ct, skippedExtensions, progress: progress).ConfigureAwait(false);
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
                if (!options.KeepDatabase) await RestoreTarget.DropDatabaseAsync(builder, scratch, CancellationToken.None).ConfigureAwait(false);
            }
        }
        var verification = new BackupVerification
        {
            BackupUri = uri,
            Environment = environment ?? manifest.Environment,
            Database = manifest.Database,
            Status = problems.Count == 0 ? VerificationStatus.Verified : VerificationStatus.Failed,
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
        if (verification.Status == VerificationStatus.Verified && options.RestoreCheck)
        {
            // The proof retention relies on: never delete the newest backup that was restored successfully.
            var marker = JsonSerializer.SerializeToUtf8Bytes(new { verifiedAt = DateTimeOffset.UtcNow, restoreSeconds = restoreDuration?.TotalSeconds, tablesMatched = matched });
            await store.PutAsync(dumpKey + ".verified.json", marker, ct).ConfigureAwait(false);
        }
        else if (verification.Status != VerificationStatus.Verified)
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
            var pgRestore = PgTools.Find("pg_restore", RestoreTarget.MajorOf(manifest.PgDumpVersion));
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
        var zstd = CliProcess.FindProgram("zstd") ?? throw new PgToolMissingException("reading a zstd backup needs the zstd program on PATH");
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
        await using var pg = PgProcess.Start(tool, new string[] { "--install-missing", "--heapallindexed", "--no-dependent-toast", "--database=" + database }, builder, database);
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
