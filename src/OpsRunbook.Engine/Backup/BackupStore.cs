using Amazon.S3;
using Amazon.S3.Model;
using OpsRunbook.Engine.Clients.Aws;
using Polly;

namespace OpsRunbook.Engine.Backup;

/// <summary>A streaming write to a store: complete makes it visible; abort leaves nothing that looks like a backup.</summary>
public interface IBackupUpload : IAsyncDisposable
{
    /// <summary>Appends bytes.</summary>
    Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct);
    /// <summary>Makes the object visible under its final name.</summary>
    Task CompleteAsync(CancellationToken ct);
    /// <summary>Removes every trace of the write.</summary>
    Task AbortAsync();
}

/// <summary>Backups in a local directory or an S3 prefix.</summary>
public interface IBackupStore : IDisposable
{
    /// <summary>Where the store is.</summary>
    BackupLocation Location { get; }
    /// <summary>Starts a streaming write of <paramref name="key"/>.</summary>
    Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken ct);
    /// <summary>Writes a small object at once (manifests), atomically.</summary>
    Task PutAsync(string key, byte[] content, CancellationToken ct);
    /// <summary>Reads an object.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken ct);
    /// <summary>Every key under the store ending with <paramref name="suffix"/>.</summary>
    Task<IReadOnlyList<string>> ListAsync(string suffix, CancellationToken ct);
    /// <summary>Whether a key exists.</summary>
    Task<bool> ExistsAsync(string key, CancellationToken ct);
    /// <summary>Deletes a key (no error when it is gone).</summary>
    Task DeleteAsync(string key, CancellationToken ct);
}

/// <summary>Opens the store for a location.</summary>
public static class BackupStores
{
    /// <summary>A local directory store, or an S3 store with the environment's AWS settings.</summary>
    public static async Task<IBackupStore> OpenAsync(BackupLocation location, OperationContext context)
    {
        if (!location.IsS3) return new LocalBackupStore(location);
        var settings = context.Aws ?? AwsSettings.Default;
        var requests = await S3ClientFactory.CreateRequestsAsync(settings, context.Secrets, context.Redactor, context.Cancellation).ConfigureAwait(false);
        return new S3BackupStore(location, requests, settings.UseS3Compatibility);
    }
}

/// <summary>A local directory. Writes go to NAME.partial and are renamed after an fsync.</summary>
public sealed class LocalBackupStore(BackupLocation location) : IBackupStore
{
    /// <inheritdoc />
    public BackupLocation Location { get; } = location;

    private string PathOf(string key) => Location.UriOf(key);

    /// <inheritdoc />
    public Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        var folder = System.IO.Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        RemoveAbandonedPartials(folder);
        return Task.FromResult<IBackupUpload>(new Upload(path));
    }

    /// <summary>
    /// Removes the .partial files a killed backup left in <paramref name="folder"/>. A backup writing its .partial holds
    /// it locked (FileShare.None: flock on Unix) until it is renamed, so a .partial that can be locked has no writer.
    /// </summary>
    internal static void RemoveAbandonedPartials(string folder)
    {
        foreach (var partial in Directory.EnumerateFiles(folder, "*.partial"))
        {
            // Only plain files, as a backup writes them: a link is somebody's arrangement, not a leftover.
            if (new FileInfo(partial).LinkTarget is not null) continue;
            try
            {
                using (new FileStream(partial, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                File.Delete(partial);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Still being written by another backup (or not ours to remove).
            }
        }
    }

    /// <inheritdoc />
    public async Task PutAsync(string key, byte[] content, CancellationToken ct)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var temp = path + ".partial";
        // Locked while written, as a dump's .partial is, so RemoveAbandonedPartials leaves it alone.
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await file.WriteAsync(content, ct).ConfigureAwait(false);
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(string key, CancellationToken ct) =>
        Task.FromResult<Stream>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan));

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync(string suffix, CancellationToken ct)
    {
        if (!Directory.Exists(Location.Root)) return Task.FromResult<IReadOnlyList<string>>([]);
        return Task.FromResult<IReadOnlyList<string>>(Directory.EnumerateFiles(Location.Root, "*" + suffix, SearchOption.AllDirectories)
            .Select(f => System.IO.Path.GetRelativePath(Location.Root, f).Replace(System.IO.Path.DirectorySeparatorChar, '/')).ToList());
    }

    /// <inheritdoc />
    public Task<bool> ExistsAsync(string key, CancellationToken ct) => Task.FromResult(File.Exists(PathOf(key)));

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken ct)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Upload(string path) : IBackupUpload
    {
        private readonly FileStream _file = new(path + ".partial", FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
        private bool _done;

        public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct) => _file.WriteAsync(data, ct).AsTask();

        public async Task CompleteAsync(CancellationToken ct)
        {
            await _file.FlushAsync(ct).ConfigureAwait(false);
            _file.Flush(flushToDisk: true);
            await _file.DisposeAsync().ConfigureAwait(false);
            File.Move(path + ".partial", path, overwrite: false);
            _done = true;
        }

        public async Task AbortAsync()
        {
            _done = true;
            try
            {
                // Closing flushes what is buffered, which fails again on a full disk; the file goes either way.
                await _file.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
            }
            File.Delete(path + ".partial");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_done) await AbortAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// An S3 prefix. Streaming writes are multipart uploads with bounded buffers (part size × parts in flight); a write that
/// never reaches CompleteMultipartUpload leaves no object. Parts are retried with backoff (Polly) on top of the SDK's own retries.
/// </summary>
public sealed class S3BackupStore : IBackupStore
{
    /// <summary>Bytes per part (S3's minimum is 5 MiB for all but the last).</summary>
    public const int PartSize = 8 * 1024 * 1024;

    /// <summary>Parts uploading at once; memory stays within (this + 1) × PartSize.</summary>
    public const int PartsInFlight = 2;

    private readonly S3Requests _s3;
    private readonly bool _compatible;

    internal S3BackupStore(BackupLocation location, S3Requests s3, bool compatible)
    {
        Location = location;
        _s3 = s3;
        _compatible = compatible;
    }

    /// <inheritdoc />
    public BackupLocation Location { get; }

    private string KeyOf(string key) => Location.Prefix + key;

    internal static readonly ResiliencePipeline Retry = Retries.OnExceptions(3, e =>
        e is HttpRequestException or IOException || (e is AmazonS3Exception s3 && ((int)s3.StatusCode >= 500 || s3.ErrorCode is "SlowDown" or "RequestTimeout" or "InternalError")));

    /// <inheritdoc />
    public Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken ct) => Task.FromResult<IBackupUpload>(new Upload(this, KeyOf(key)));

    /// <inheritdoc />
    public async Task PutAsync(string key, byte[] content, CancellationToken ct)
    {
        await Retry.ExecuteAsync(async token =>
        {
            var put = new PutObjectRequest { BucketName = Location.Bucket, Key = KeyOf(key), InputStream = new MemoryStream(content), AutoCloseStream = true };
            await _s3.PutAsync(put, token).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(string key, CancellationToken ct)
    {
        var response = await _s3.SendAsync($"GET {KeyOf(key)}", (c, t) => c.GetObjectAsync(Location.Bucket, KeyOf(key), t), ct).ConfigureAwait(false);
        return new OwningStream(_s3.Guard(response.ResponseStream, $"GET {KeyOf(key)}"), response);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListAsync(string suffix, CancellationToken ct)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Location.Bucket, Prefix = Location.Prefix };
        ListObjectsV2Response page;
        do
        {
            page = await _s3.SendAsync($"a listing of s3://{Location.Bucket}/{Location.Prefix}", (c, t) => c.ListObjectsV2Async(request, t), ct).ConfigureAwait(false);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key).Where(k => k.EndsWith(suffix, StringComparison.Ordinal)).Select(k => k[Location.Prefix.Length..]));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return keys;
    }

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string key, CancellationToken ct)
    {
        try
        {
            await _s3.SendAsync($"HEAD {KeyOf(key)}", (c, t) => c.GetObjectMetadataAsync(Location.Bucket, KeyOf(key), t), ct).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public Task DeleteAsync(string key, CancellationToken ct) => _s3.SendAsync($"DELETE {KeyOf(key)}", (c, t) => c.DeleteObjectAsync(Location.Bucket, KeyOf(key), t), ct);

    /// <inheritdoc />
    public void Dispose() => _s3.Dispose();

    private sealed class Upload(S3BackupStore store, string key) : IBackupUpload
    {
        private readonly List<PartETag> _parts = [];
        private readonly List<Task> _inFlight = [];
        // Part buffers come from a pool and go back after their upload: no 8 MiB allocations per part.
        private byte[] _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(PartSize);
        private int _length;
        private string? _uploadId;
        private int _partNumber;
        private bool _done;

        public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
        {
            while (data.Length > 0)
            {
                var n = Math.Min(data.Length, PartSize - _length);
                data.Span[..n].CopyTo(_buffer.AsSpan(_length));
                _length += n;
                data = data[n..];
                if (_length == PartSize) await FlushPartAsync(ct).ConfigureAwait(false);
            }
        }

        private async Task FlushPartAsync(CancellationToken ct)
        {
            _uploadId ??= (await store._s3.SendAsync($"a multipart upload of {key}",
                (c, t) => c.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store.Location.Bucket, Key = key }, t), ct).ConfigureAwait(false)).UploadId;
            var number = ++_partNumber;
            var (bytes, length) = (_buffer, _length);
            // Bounded memory: wait for a slot before starting another part.
            while (_inFlight.Count >= PartsInFlight)
            {
                var finished = await Task.WhenAny(_inFlight).ConfigureAwait(false);
                _inFlight.Remove(finished);
                await finished.ConfigureAwait(false);
            }
            _buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(PartSize);
            _length = 0;
            _inFlight.Add(UploadPartAsync(number, bytes, length, ct));
        }

        private async Task UploadPartAsync(int number, byte[] bytes, int length, CancellationToken ct)
        {
            try
            {
                await Retry.ExecuteAsync(async token =>
                {
                    var request = new UploadPartRequest
                    {
                        BucketName = store.Location.Bucket, Key = key, UploadId = _uploadId, PartNumber = number,
                        InputStream = new MemoryStream(bytes, 0, length, writable: false), PartSize = length,
                    };
                    if (store._compatible) request.UseChunkEncoding = false;
                    var response = await store._s3.SendAsync($"part {number} of {key}", (c, t) => c.UploadPartAsync(request, t), token, S3Requests.PartScale).ConfigureAwait(false);
                    lock (_parts) _parts.Add(new PartETag(number, response.ETag));
                }, ct).ConfigureAwait(false);
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
            }
        }

        public async Task CompleteAsync(CancellationToken ct)
        {
            if (_uploadId is null)
            {
                // Everything fit in one part: a single PUT.
                await store.PutAsync(key[store.Location.Prefix.Length..], _buffer.AsSpan(0, _length).ToArray(), ct).ConfigureAwait(false);
                ReturnBuffer();
                _done = true;
                return;
            }
            if (_length > 0) await FlushPartAsync(ct).ConfigureAwait(false);
            await Task.WhenAll(_inFlight).ConfigureAwait(false);
            ReturnBuffer();
            var complete = new CompleteMultipartUploadRequest
            {
                BucketName = store.Location.Bucket, Key = key, UploadId = _uploadId, PartETags = _parts.OrderBy(p => p.PartNumber).ToList(),
            };
            await store._s3.SendAsync($"the completion of {key}", (c, t) => c.CompleteMultipartUploadAsync(complete, t), ct).ConfigureAwait(false);
            _done = true;
        }

        private void ReturnBuffer()
        {
            if (_buffer.Length == 0) return;
            System.Buffers.ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        public async Task AbortAsync()
        {
            _done = true;
            try
            {
                await Task.WhenAll(_inFlight).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The parts failed anyway; the upload is being abandoned.
            }
            ReturnBuffer();
            if (_uploadId is null) return;
            try
            {
                await store._s3.SendAsync($"the abort of {key}", (c, t) => c.AbortMultipartUploadAsync(store.Location.Bucket, key, _uploadId, t), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AmazonS3Exception or DescribedFailureException)
            {
                // A stalled endpoint does not hold the failure it caused: the abort gives up after the request limit.
                // Some S3-compatible stores lack AbortMultipartUpload (s3rver answers 405). The upload was never
                // completed, so no object exists under the key; the store's lifecycle rules clean the parts.
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_done) await AbortAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A response stream that disposes its response with it.</summary>
    private sealed class OwningStream(Stream inner, IDisposable owner) : Internal.SequentialStream
    {
        public override bool CanRead => true;
        public override bool CanWrite => false;
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                owner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
