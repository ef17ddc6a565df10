using Amazon.S3;
using Amazon.S3.Model;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Backup;

/// <summary>What Backup-StorageBucket did.</summary>
public sealed class BucketSyncResult : IReportable
{
    /// <summary>s3://source/prefix/.</summary>
    public required string Source { get; init; }
    /// <summary>s3://destination/prefix/.</summary>
    public required string Destination { get; init; }
    /// <summary>The environment.</summary>
    public string? Environment { get; init; }
    /// <summary>Objects copied.</summary>
    public int Copied { get; init; }
    /// <summary>Of the copies, those streamed through this machine because the store refused a server-side copy.</summary>
    public int StreamedCopies { get; init; }
    /// <summary>Objects already there, same size and ETag.</summary>
    public int Skipped { get; init; }
    /// <summary>Objects that failed to copy.</summary>
    public int Failed { get; init; }
    /// <summary>Bytes copied.</summary>
    public long BytesCopied { get; init; }
    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>The failures, in words.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Storage backups", $"{Source} -> {Destination}", Failed > 0 ? ReportOutcome.Fail : ReportOutcome.Pass, Failed > 0 ? "Failed" : "Succeeded", Environment,
            $"{Copied} copied ({BytesCopied} bytes), {Skipped} unchanged, {Failed} failed", [], DateTimeOffset.UtcNow, Duration.TotalMilliseconds);
    }
}

/// <summary>
/// Runbook 001's `aws s3 sync s3://app s3://backup/files/YYYYMMDD/`: server-side copies (no bytes through this
/// machine), in parallel, skipping objects whose size and ETag already match.
/// </summary>
public static class StorageSync
{
    /// <summary>Copies every object under <paramref name="source"/> to <paramref name="destination"/>.</summary>
    public static async Task<BucketSyncResult> SyncAsync(BackupLocation source, BackupLocation destination, int parallel, OperationContext context)
    {
        var (aws, secrets, redactor, environment, progress, ct) = (context.Aws, context.Secrets, context.Redactor, context.Environment, context.Progress, context.Cancellation);
        if (!source.IsS3 || !destination.IsS3) throw new ArgumentException("Backup-StorageBucket copies between s3:// locations");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var settings = aws ?? AwsSettings.Default;
        using var s3 = await S3ClientFactory.CreateRequestsAsync(settings, secrets, redactor, ct).ConfigureAwait(false);
        var sourceObjects = await ListAsync(s3, source, ct).ConfigureAwait(false);
        var existing = (await ListAsync(s3, destination, ct).ConfigureAwait(false)).ToDictionary(o => o.Key[destination.Prefix.Length..], StringComparer.Ordinal);
        var totalBytes = sourceObjects.Sum(o => o.Size ?? 0);
        progress?.Report(new OperationStatus("Copy", $"{sourceObjects.Count} objects ({totalBytes / 1048576.0:0.0} MiB) in {source.Root}, {existing.Count} already in {destination.Root}"));
        int copied = 0, skipped = 0, failed = 0, done = 0, streamed = 0;
        var serverSide = true;
        long bytes = 0;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await Parallel.ForEachAsync(sourceObjects, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel), CancellationToken = ct }, async (o, token) =>
        {
            var relative = o.Key[source.Prefix.Length..];
            if (existing.TryGetValue(relative, out var there) && there.Size == o.Size && there.ETag == o.ETag)
            {
                Interlocked.Increment(ref skipped);
            }
            else
            {
                try
                {
                    var copiedServerSide = false;
                    if (Volatile.Read(ref serverSide))
                    {
                        try
                        {
                            var copy = new CopyObjectRequest
                            {
                                SourceBucket = source.Bucket, SourceKey = o.Key, DestinationBucket = destination.Bucket, DestinationKey = destination.Prefix + relative,
                            };
                            // A server-side copy of a large object takes the server time: a part's limit.
                            await S3BackupStore.Retry.ExecuteAsync(async t => await s3.SendAsync($"the copy of {o.Key}", (c, t2) => c.CopyObjectAsync(copy, t2), t, S3Requests.PartScale)
                                .ConfigureAwait(false), token).ConfigureAwait(false);
                            copiedServerSide = true;
                        }
                        catch (AmazonS3Exception ex) when (settings.UseS3Compatibility && ex.ErrorCode is "NoSuchBucket" or "NoSuchKey" or "NotImplemented")
                        {
                            // Some S3-compatible stores misread the SDK's URL-encoded x-amz-copy-source (s3rver decodes
                            // it with decodeURI, which keeps %2F): copy through this machine instead, from now on.
                            Volatile.Write(ref serverSide, false);
                        }
                    }
                    if (!copiedServerSide)
                    {
                        await S3BackupStore.Retry.ExecuteAsync(async t =>
                        {
                            // A seekable body: with a non-seekable one the SDK frames the upload as aws-chunked even when
                            // told not to, and such stores keep the framing as the object's content.
                            // A private file: nothing of the bucket's content is left in /tmp if the session is killed.
                            using var temp = Internal.PrivateFile.Create("opsrunbook-copy");
                            var body = temp.Stream;
                            using (var got = await s3.SendAsync($"GET {o.Key}", (c, t2) => c.GetObjectAsync(source.Bucket, o.Key, t2), t).ConfigureAwait(false))
                            await using (var guarded = s3.Guard(got.ResponseStream, $"GET {o.Key}"))
                            {
                                await guarded.CopyToAsync(body, t).ConfigureAwait(false);
                            }
                            body.Position = 0;
                            var put = new PutObjectRequest
                            {
                                BucketName = destination.Bucket, Key = destination.Prefix + relative, InputStream = body, AutoCloseStream = false,
                                UseChunkEncoding = !settings.UseS3Compatibility,
                            };
                            await s3.SendAsync($"PUT {put.Key}", (c, t2) => c.PutObjectAsync(put, t2), t, S3Requests.PartScale).ConfigureAwait(false);
                        }, token).ConfigureAwait(false);
                        Interlocked.Increment(ref streamed);
                    }
                    Interlocked.Increment(ref copied);
                    Interlocked.Add(ref bytes, o.Size ?? 0);
                }
                catch (AmazonS3Exception ex)
                {
                    Interlocked.Increment(ref failed);
                    errors.Enqueue($"{o.Key}: {ex.ErrorCode}: {ex.Message}");
                }
                catch (OpsRunbook.Engine.Common.DescribedFailureException ex)
                {
                    Interlocked.Increment(ref failed);
                    errors.Enqueue($"{o.Key}: {ex.Message}");
                }
            }
            var finished = Interlocked.Increment(ref done);
            progress?.Report(new OperationStatus("Copy", $"{finished} of {sourceObjects.Count} objects ({Volatile.Read(ref copied)} copied, {Volatile.Read(ref skipped)} unchanged, {Volatile.Read(ref failed)} failed)",
                OperationStatus.PercentOf(finished, sourceObjects.Count)));
        }).ConfigureAwait(false);
        return new BucketSyncResult
        {
            Source = source.Root, Destination = destination.Root, Environment = environment, Copied = copied, StreamedCopies = streamed, Skipped = skipped, Failed = failed,
            BytesCopied = bytes, Duration = sw.Elapsed, Errors = errors.ToList(),
        };
    }

    private static async Task<List<S3Object>> ListAsync(S3Requests s3, BackupLocation location, CancellationToken ct)
    {
        var all = new List<S3Object>();
        var request = new ListObjectsV2Request { BucketName = location.Bucket, Prefix = location.Prefix };
        ListObjectsV2Response page;
        do
        {
            page = await s3.SendAsync($"a listing of {location.Root}", (c, t) => c.ListObjectsV2Async(request, t), ct).ConfigureAwait(false);
            all.AddRange(page.S3Objects ?? []);
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return all;
    }
}
