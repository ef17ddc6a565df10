using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Backup;

/// <summary>pg_dump's output format.</summary>
public enum BackupFormat
{
    /// <summary>Custom archive (compressed by pg_dump; restorable selectively and in parallel).</summary>
    Custom,
    /// <summary>Plain SQL.</summary>
    Plain,
}

/// <summary>Compression of a plain dump (custom archives compress themselves).</summary>
public enum BackupCompression
{
    /// <summary>pg_dump's own (custom) / none (plain).</summary>
    Default,
    /// <summary>gzip, in-process.</summary>
    Gzip,
    /// <summary>zstd, through the zstd program.</summary>
    Zstd,
    /// <summary>No compression.</summary>
    None,
}

/// <summary>What to back up and where.</summary>
public sealed class BackupRequest
{
    /// <summary>Test hook: runs on the snapshot connection before the row counts (a slow query holds them there).</summary>
    internal Func<NpgsqlConnection, CancellationToken, Task>? BeforeCountingRows { get; init; }

    /// <summary>The database connection (reference or URL).</summary>
    public required SecretValue Connection { get; init; }
    /// <summary>Where to store it (one or more: local and S3 at once).</summary>
    public required IReadOnlyList<BackupLocation> Destinations { get; init; }
    /// <summary>System name, for the object name.</summary>
    public string? System { get; init; }
    /// <summary>Custom (default) or Plain.</summary>
    public BackupFormat Format { get; init; } = BackupFormat.Custom;
    /// <summary>Compression.</summary>
    public BackupCompression Compression { get; init; } = BackupCompression.Default;
    /// <summary>Compression level (pg_dump -Z, gzip, zstd), or the tool's default.</summary>
    public int? CompressionLevel { get; init; }
    /// <summary>Count every table's rows in the dump's snapshot for the manifest (default true).</summary>
    public bool CountRows { get; init; } = true;
    /// <summary>The object key instead of {system}/{environment}/{database}/{UTC timestamp}.</summary>
    public string? Key { get; init; }
    /// <summary>PEM CA for the server certificate.</summary>
    public string? CaCertificatePath { get; init; }
    /// <summary>When the backup is taken (tests inject it).</summary>
    public DateTimeOffset? Now { get; init; }
}

/// <summary>
/// Backup-Database: runs the real pg_dump and streams its output through SHA-256 and a byte counter straight to every
/// destination — no temporary file, memory independent of database size. The manifest is written only after every
/// destination has the complete dump; on any failure (pg_dump exits non-zero or is killed, a store fails, the run is
/// cancelled) the partial file is removed, the multipart upload abandoned, and no manifest exists.
/// </summary>
public static class BackupRunner
{
    private const int ChunkSize = 1024 * 1024;

    /// <summary>pg_dump's stdout pipe buffer where the OS allows (Linux: up to pipe-max-size, 1 MiB by default).</summary>
    private const int PipeBytes = 1024 * 1024;

    /// <summary>The object key extension for a format and compression.</summary>
    public static string Extension(BackupFormat format, BackupCompression compression) => (format, compression) switch
    {
        (BackupFormat.Custom, _) => ".dump",
        (_, BackupCompression.Gzip) => ".sql.gz",
        (_, BackupCompression.Zstd) => ".sql.zst",
        _ => ".sql",
    };

    /// <summary>Takes the backup. Failures are a BackupInfo with Status Failed; only cancellation throws.</summary>
    /// <remarks>The context's environment names the series (system/environment/database) and labels the result; its
    /// AWS settings reach the s3:// destinations.</remarks>
    public static async Task<BackupInfo> RunAsync(BackupRequest request, OperationContext context)
    {
        var (secrets, redactor, progress, ct) = (context.Secrets, context.Redactor, context.Progress, context.Cancellation);
        if (request.Destinations.Count == 0) throw new ArgumentException("give at least one destination (runbook.json \"backup\".\"destination\" or -Destination)");
        if (request.Format == BackupFormat.Custom && request.Compression is BackupCompression.Gzip or BackupCompression.Zstd)
        {
            throw new ArgumentException("custom-format dumps are compressed by pg_dump; gzip and zstd apply to -Format Plain");
        }
        var value = await request.Connection.ResolveAsync(secrets, ct).ConfigureAwait(false);
        var builder = PostgresConnectionString.Parse(value);
        redactor.Add(builder.Password);
        if (request.CaCertificatePath is not null) builder.RootCertificate = request.CaCertificatePath;
        var database = builder.Database ?? builder.Username ?? throw new ArgumentException("the connection names no database");
        var started = request.Now ?? DateTimeOffset.UtcNow;
        // Unique even for two backups started in the same millisecond from two machines: S3 would overwrite silently.
        var key = request.Key ?? $"{Slug(request.System)}/{Slug(context.Environment)}/{Slug(database)}/{started.UtcDateTime:yyyyMMdd'T'HHmmss'.'fff'Z'}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant()}{Extension(request.Format, request.Compression)}";
        var clock = Stopwatch.StartNew();

        // A snapshot of our own, exported to pg_dump, so the manifest's row counts are the dump's.
        var snapshotBuilder = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, ApplicationName = "OpsRunbook backup snapshot", CommandTimeout = 0 };
        await using var snapshotConnection = new NpgsqlConnection(snapshotBuilder.ConnectionString);
        // A login or network failure here concerns the database, not the destination the caller names the backup by.
        await OpsRunbook.Engine.Common.FailureDescriber.AboutAsync($"{OpsRunbook.Engine.Common.HostPort.OfConnection(builder.ConnectionString) ?? builder.Host}/{database}",
            async () => { await snapshotConnection.OpenAsync(ct).ConfigureAwait(false); return true; }).ConfigureAwait(false);
        await using (var begin = new NpgsqlCommand("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", snapshotConnection)) await begin.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        string snapshot, serverVersion;
        int serverMajor;
        await using (var cmd = new NpgsqlCommand("SELECT pg_export_snapshot(), current_setting('server_version'), current_setting('server_version_num')::int / 10000", snapshotConnection))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            await r.ReadAsync(ct).ConfigureAwait(false);
            (snapshot, serverVersion, serverMajor) = (r.GetString(0), r.GetString(1), r.GetInt32(2));
        }
        var tables = new List<(string schema, string name, long estimate)>();
        await using (var cmd = new NpgsqlCommand(
            "SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
            "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY 1, 2",
            snapshotConnection))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) tables.Add((r.GetString(0), r.GetString(1), r.GetInt64(2)));
        }

        var where = $"{OpsRunbook.Engine.Common.HostPort.OfConnection(builder.ConnectionString) ?? builder.Host}/{database}";
        var estimatedRows = tables.Sum(t => t.estimate);
        progress?.Report(new OperationStatus("Snapshot", $"{where}: PostgreSQL {serverVersion}, snapshot {snapshot} exported"));
        progress?.Report(OperationStatus.Debug("Snapshot", $"{tables.Count} tables, about {estimatedRows:N0} rows by the planner's estimate; key {key}"));
        var pgDump = PgTools.Find("pg_dump", serverMajor);
        var stores = new List<IBackupStore>();
        var uploads = new List<IBackupUpload>();
        var completed = new List<int>();
        PgProcess? dump = null;
        Process? zstd = null;
        DumpTracker? tracker = null;
        using var stopProgress = new CancellationTokenSource();
        var rowProgress = Task.CompletedTask;
        // The row counts run on the snapshot connection beside pg_dump: on a failure they are stopped and waited for
        // before that connection is disposed (disposing it under a running query threw out of RunAsync).
        using var stopCounting = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task<Dictionary<(string, string), long>> counting = Task.FromResult<Dictionary<(string, string), long>>([]);
        try
        {
            foreach (var d in request.Destinations)
            {
                await StoreStep(d.UriOf(key), async () =>
                {
                    var store = await BackupStores.OpenAsync(d, context).ConfigureAwait(false);
                    stores.Add(store);
                    uploads.Add(await store.BeginUploadAsync(key, ct).ConfigureAwait(false));
                }).ConfigureAwait(false);
            }
            var args = new List<string> { "--format=" + (request.Format == BackupFormat.Custom ? "custom" : "plain"), "--snapshot=" + snapshot, "--no-password" };
            if (request.Format == BackupFormat.Custom && request.CompressionLevel is { } level) args.Add("--compress=" + level);
            if (request.Format == BackupFormat.Custom && request.Compression == BackupCompression.None) args.Add("--compress=0");
            // A name of this run's own, so the server's COPY progress of this pg_dump can be told from others'.
            var appName = $"OpsRunbook pg_dump {key.Split('/').Last()}";
            dump = PgProcess.Start(pgDump, args, builder, database, redirectStdout: true, applicationName: appName);
            progress?.Report(OperationStatus.Debug("Dump", $"{pgDump.Path} {string.Join(' ', args)} ({pgDump.VersionText})"));
            tracker = new DumpTracker(progress, estimatedRows, request.Destinations.Count);
            if (progress is not null)
            {
                var rowsBuilder = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = database };
                rowProgress = CopyProgress.RunAsync(rowsBuilder, appName, tracker.Rows, m => progress.Report(OperationStatus.Debug("Dump", m)), TimeSpan.FromSeconds(1), stopProgress.Token);
            }

            counting = request.CountRows ? CountRowsAsync(snapshotConnection, tables, request.BeforeCountingRows, stopCounting.Token) : Task.FromResult<Dictionary<(string, string), long>>([]);

            var sink = new SinkStream(uploads, request.Destinations.Select(d => d.UriOf(key)).ToList(), tracker, ct);
            Stream source = dump.Process.StandardOutput.BaseStream;
            Internal.PipeBuffer.TryEnlarge(source, PipeBytes);
            Task? pump = null;
            if (request.Compression == BackupCompression.Zstd)
            {
                var zstdPath = Internal.CliProcess.FindProgram("zstd") ?? throw new PgToolMissingException("zstd compression needs the zstd program on PATH (apt-get install zstd)");
                var zpsi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(zstdPath) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true });
                foreach (var a in new[] { "-q", "-c", "-T0", "-" + (request.CompressionLevel ?? 3) }) zpsi.ArgumentList.Add(a);
                zstd = Internal.ChildProcesses.Start(zpsi);
                var dumpOut = source;
                var zstdIn = zstd.StandardInput.BaseStream;
                Internal.PipeBuffer.TryEnlarge(zstdIn, PipeBytes);
                Internal.PipeBuffer.TryEnlarge(zstd.StandardOutput.BaseStream, PipeBytes);
                var (pgDumpProcess, zstdProcess) = (dump, zstd);
                pump = Internal.BlockingIo.RunAsync(() =>
                {
                    try
                    {
                        dumpOut.CopyTo(zstdIn, ChunkSize);
                    }
                    finally
                    {
                        // zstd's end of input either way, so the copy below ends; a failed pump fails the backup when awaited.
                        zstdIn.Dispose();
                    }
                }, () =>
                {
                    pgDumpProcess.Kill();
                    Internal.BlockingIo.Kill(zstdProcess);
                }, ct);
                source = zstd.StandardOutput.BaseStream;
            }
            if (request.Compression == BackupCompression.Gzip)
            {
                await using (var gzip = new GZipStream(sink, GzipLevel(request.CompressionLevel), leaveOpen: true))
                {
                    await DecoupledCopyAsync(source, gzip, ct).ConfigureAwait(false);
                }
            }
            else
            {
                await DecoupledCopyAsync(source, sink, ct).ConfigureAwait(false);
            }
            if (pump is not null) await pump.ConfigureAwait(false);
            if (await dump.WaitAsync(ct).ConfigureAwait(false) != 0)
            {
                throw new BackupFailedException($"pg_dump exited with code {dump.Process.ExitCode}: {redactor.Scrub(dump.StderrTail.Trim())}");
            }
            if (zstd is not null)
            {
                await zstd.WaitForExitAsync(ct).ConfigureAwait(false);
                if (zstd.ExitCode != 0) throw new BackupFailedException($"zstd exited with code {zstd.ExitCode}: {await zstd.StandardError.ReadToEndAsync(ct).ConfigureAwait(false)}");
            }
            await stopProgress.CancelAsync().ConfigureAwait(false);
            progress?.Report(new OperationStatus("Store", $"{sink.Bytes / 1048576.0:0.0} MiB dumped; completing {uploads.Count} destination(s)"));
            var counts = await counting.ConfigureAwait(false);
            // Remote stores first (they fail most), local last; if one fails, the ones already completed are removed.
            foreach (var i in Enumerable.Range(0, uploads.Count).OrderBy(i => request.Destinations[i].IsS3 ? 0 : 1))
            {
                await StoreStep(request.Destinations[i].UriOf(key), () => uploads[i].CompleteAsync(ct)).ConfigureAwait(false);
                completed.Add(i);
            }

            var completedAt = DateTimeOffset.UtcNow;
            var manifest = new BackupManifest
            {
                System = request.System,
                Environment = context.Environment,
                Database = database,
                ServerVersion = serverVersion,
                PgDumpVersion = pgDump.VersionText,
                Format = request.Format == BackupFormat.Custom ? "custom" : "plain",
                Compression = request.Compression switch
                {
                    BackupCompression.Gzip => "gzip",
                    BackupCompression.Zstd => "zstd",
                    BackupCompression.None => "none",
                    _ => request.Format == BackupFormat.Custom ? "pg_dump" : "none",
                },
                File = key.Split('/').Last(),
                SizeBytes = sink.Bytes,
                Sha256 = sink.Sha256(),
                StartedAt = started,
                CompletedAt = completedAt,
                DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
                Tables = tables.Select(t => new BackupTable(t.schema, t.name, t.estimate, counts.TryGetValue((t.schema, t.name), out var c) ? c : null)).ToList(),
            };
            // Only now, with every byte stored: the manifest that makes it a backup.
            progress?.Report(new OperationStatus("Manifest", $"SHA-256 {manifest.Sha256[..12]}…, {manifest.Tables.Count} tables: writing the manifest beside each copy"));
            foreach (var s in stores) await s.PutAsync(BackupManifest.KeyFor(key), manifest.ToJson(), ct).ConfigureAwait(false);
            return new BackupInfo
            {
                BackupUri = request.Destinations[0].UriOf(key),
                ManifestUri = request.Destinations[0].UriOf(BackupManifest.KeyFor(key)),
                Destinations = request.Destinations.Select(d => d.UriOf(key)).ToList(),
                Environment = context.Environment,
                Database = database,
                Status = BackupStatus.Succeeded,
                SizeBytes = manifest.SizeBytes,
                Sha256 = manifest.Sha256,
                StartedAt = started,
                Duration = clock.Elapsed,
                Manifest = manifest,
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The reason first: abandoning kills pg_dump, after which every failure would look like pg_dump's.
            var reason = ex switch
            {
                BackupFailedException => redactor.Scrub(ex.Message),
                IOException when dump is { Process.HasExited: true } d && d.Process.ExitCode != 0 => $"pg_dump exited with code {d.Process.ExitCode}: {redactor.Scrub(d.StderrTail.Trim())}",
                _ => redactor.Scrub(OpsRunbook.Engine.Common.FailureDescriber.Describe(ex, request.Destinations[0].Root)),
            };
            await AbandonAsync(dump, zstd, uploads).ConfigureAwait(false);
            await RemoveCompletedAsync(stores, completed, key).ConfigureAwait(false);
            return new BackupInfo
            {
                BackupUri = request.Destinations[0].UriOf(key),
                Destinations = request.Destinations.Select(d => d.UriOf(key)).ToList(),
                Environment = context.Environment,
                Database = database,
                Status = BackupStatus.Failed,
                Error = reason,
                StartedAt = started,
                Duration = clock.Elapsed,
            };
        }
        catch (OperationCanceledException)
        {
            await AbandonAsync(dump, zstd, uploads).ConfigureAwait(false);
            await RemoveCompletedAsync(stores, completed, key).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await stopProgress.CancelAsync().ConfigureAwait(false);
            await rowProgress.ConfigureAwait(false);
            if (!counting.IsCompleted)
            {
                await stopCounting.CancelAsync().ConfigureAwait(false);
                try
                {
                    await counting.ConfigureAwait(false);
                }
#pragma warning disable CA1031 // the backup's own outcome is already decided; the counting's end only frees the connection
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
            if (dump is not null) await dump.DisposeAsync().ConfigureAwait(false);
            zstd?.Dispose();
            foreach (var u in uploads) await u.DisposeAsync().ConfigureAwait(false);
            foreach (var s in stores) s.Dispose();
        }
    }

    private static async Task RemoveCompletedAsync(List<IBackupStore> stores, List<int> completed, string key)
    {
        // The manifest first (another store's failure can come after this one's manifest was written), then the dump;
        // each on its own, so one that cannot be removed does not keep the other.
        foreach (var i in completed)
        {
            foreach (var k in new[] { BackupManifest.KeyFor(key), key })
            {
                try
                {
                    await stores[i].DeleteAsync(k, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Best effort: without a manifest the object is not a backup anyway.
                }
            }
        }
    }

    private static async Task AbandonAsync(PgProcess? dump, Process? zstd, List<IBackupUpload> uploads)
    {
        dump?.Kill();
        if (zstd is not null) Internal.BlockingIo.Kill(zstd);
        foreach (var u in uploads)
        {
            try
            {
                await u.AbortAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // One store failing to clean up must not keep the others from it; an incomplete write is no backup.
            }
        }
    }

    private static async Task<Dictionary<(string, string), long>> CountRowsAsync(NpgsqlConnection c, List<(string schema, string name, long estimate)> tables,
        Func<NpgsqlConnection, CancellationToken, Task>? before, CancellationToken ct)
    {
        if (before is not null) await before(c, ct).ConfigureAwait(false);
        var counts = new Dictionary<(string, string), long>();
        foreach (var (schema, name, _) in tables)
        {
            await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {Identifier.Quote(schema)}.{Identifier.Quote(name)}", c);
            counts[(schema, name)] = (long)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }
        return counts;
    }

    private static CompressionLevel GzipLevel(int? level) => level switch
    {
        null => CompressionLevel.Optimal,
        <= 1 => CompressionLevel.Fastest,
        >= 9 => CompressionLevel.SmallestSize,
        _ => CompressionLevel.Optimal,
    };

    private static string Slug(string? s) => string.IsNullOrWhiteSpace(s) ? "default" : new string(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());

    /// <summary>
    /// Copies with the reading and the writing on separate threads joined by a bounded queue of pooled buffers (at most
    /// <see cref="QueuedChunks"/> × <see cref="ChunkSize"/> in memory): pg_dump's pipe is drained while the previous
    /// chunk is hashed and written, so pg_dump does not stall on a full pipe. The reader is a dedicated thread doing
    /// blocking reads (see <see cref="Internal.BlockingIo"/>): pg_dump writes 8 KiB at a time, and an async read per write
    /// cost 3.2 s of CPU per 100 MiB here, against 0.09 s blocking — CPU that pg_dump's compression needs.
    /// On failure or cancellation the copy returns without waiting for the reader: it ends when the caller kills the
    /// producer and the pipe closes.
    /// </summary>
    internal static async Task DecoupledCopyAsync(Stream source, Stream sink, CancellationToken ct)
    {
        var queue = System.Threading.Channels.Channel.CreateBounded<(byte[] buffer, int length)>(new System.Threading.Channels.BoundedChannelOptions(QueuedChunks)
        {
            SingleReader = true, SingleWriter = true,
        });
        // A failing writer stops the reader too (it may be waiting on a full queue).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = stop.Token;
        var reader = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ChunkSize);
                    var filled = 0;
                    int n;
                    // Fill most of the chunk before handing it on: fewer, larger writes; a short read at EOF ends it.
                    while (filled < ChunkSize / 2 && (n = source.Read(buffer, filled, ChunkSize - filled)) > 0) filled += n;
                    if (filled == 0)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        break;
                    }
                    while (!queue.Writer.TryWrite((buffer, filled)))
                    {
                        if (!queue.Writer.WaitToWriteAsync(token).AsTask().GetAwaiter().GetResult()) return;
                    }
                }
                queue.Writer.TryComplete();
            }
            catch (Exception e)
            {
                queue.Writer.TryComplete(e);
            }
        })
        { IsBackground = true, Name = "OpsRunbook backup pipe reader" };
        reader.Start();
        try
        {
            await foreach (var (buffer, length) in queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                try
                {
                    await sink.WriteAsync(buffer.AsMemory(0, length), ct).ConfigureAwait(false);
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch
        {
            await stop.CancelAsync().ConfigureAwait(false);
            queue.Writer.TryComplete();
            throw;
        }
    }

    /// <summary>Chunks queued between the pipe reader and the writer.</summary>
    private const int QueuedChunks = 4;

    /// <summary>Hashes, counts and fans every written byte out to the uploads.</summary>
    /// <summary>Runs a write to one destination; a failure says which destination, and why, in its own words.</summary>
    private static async Task StoreStep(string uri, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not BackupFailedException)
        {
            throw new BackupFailedException(ex is UnauthorizedAccessException || (ex is IOException and not System.Net.Http.HttpIOException && ex.InnerException is null)
                ? $"writing {uri} failed: {ex.Message}"
                : $"storing {uri} failed: {OpsRunbook.Engine.Common.FailureDescriber.Describe(ex, uri)}");
        }
    }

    /// <summary>
    /// The dump's progress: bytes written (from the sink) and rows copied (from the server's COPY progress) against the
    /// planner's row estimate, which gives the percentage; reported at most a few times a second.
    /// </summary>
    private sealed class DumpTracker(IProgress<OperationStatus>? progress, long estimatedRows, int destinations) : IProgress<long>
    {
        private long _bytes, _rows, _lastReport;

        public void Report(long bytes)
        {
            Interlocked.Exchange(ref _bytes, bytes);
            Send(force: false);
        }

        public void Rows(long rows)
        {
            Interlocked.Exchange(ref _rows, rows);
            Send(force: true);
        }

        private void Send(bool force)
        {
            if (progress is null) return;
            var now = Environment.TickCount64;
            var last = Interlocked.Read(ref _lastReport);
            if (!force && now - last < 250 && last != 0) return;
            Interlocked.Exchange(ref _lastReport, now);
            var rows = Interlocked.Read(ref _rows);
            var total = Math.Max(estimatedRows, rows);
            var of = estimatedRows > 0 ? $", {rows:N0} of about {total:N0} rows" : "";
            progress.Report(new OperationStatus("Dump", $"{Interlocked.Read(ref _bytes) / 1048576.0:0.0} MiB written to {destinations} destination(s){of}", OperationStatus.PercentOf(rows, total)));
        }
    }

    private sealed class SinkStream(IReadOnlyList<IBackupUpload> uploads, IReadOnlyList<string> uris, IProgress<long>? progress, CancellationToken ct) : Internal.SequentialStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long Bytes { get; private set; }

        public string Sha256() => Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();

        public override bool CanRead => false;
        public override bool CanWrite => true;
        public override long Length => Bytes;
        public override long Position { get => Bytes; set => throw new NotSupportedException(); }
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            Bytes += buffer.Length;
            for (var i = 0; i < uploads.Count; i++)
            {
                var upload = uploads[i];
                await StoreStep(uris[i], () => upload.WriteAsync(buffer, ct)).ConfigureAwait(false);
            }
            progress?.Report(Bytes);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

/// <summary>A backup step failed; the message says which and why.</summary>
public sealed class BackupFailedException(string message) : Exception(message);
