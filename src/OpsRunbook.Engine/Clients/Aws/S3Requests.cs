using Amazon.S3;
using Amazon.S3.Model;

namespace OpsRunbook.Engine.Clients.Aws;

/// <summary>
/// S3 requests with a limit each. An endpoint that accepts the connection and never answers (a stalled proxy, a hung
/// S3-compatible store) would otherwise hold a request for the SDK's timeout times its retries, times ours: a backup
/// hung for over 7 minutes. Each request here fails after <see cref="Timeout"/> (aws.requestTimeout in runbook.json,
/// default 60 s; a multipart part gets <see cref="PartScale"/> times that) with a message naming the endpoint, and a
/// response body that stops flowing fails the same way, read by read.
/// </summary>
internal sealed class S3Requests(AmazonS3Client client, AwsSettings settings) : IDisposable
{
    /// <summary>The limit without aws.requestTimeout.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How many limits an 8 MiB part upload may take (4 minutes by default: 35 KB/s at the least).</summary>
    public const int PartScale = 4;

    /// <summary>The client, for what the requests below do not cover.</summary>
    public AmazonS3Client Client { get; } = client;

    /// <summary>The limit of one request, or of one read of a response body.</summary>
    public TimeSpan Timeout { get; } = settings.RequestTimeout ?? DefaultTimeout;

    /// <summary>The endpoint, for messages: the configured URL, or the region's AWS endpoint.</summary>
    public string Endpoint { get; } = client.Config.ServiceURL?.TrimEnd('/')
        ?? $"s3.{client.Config.RegionEndpoint?.SystemName ?? "us-east-1"}.amazonaws.com";

    /// <summary>
    /// PUTs a small object (a manifest, a journal event). An S3-compatible store (s3rver, MinIO, R2) gets it without
    /// aws-chunked encoding, which some of them store verbatim, signature lines and all.
    /// </summary>
    public Task<PutObjectResponse> PutAsync(PutObjectRequest put, CancellationToken ct)
    {
        if (settings.UseS3Compatibility) put.UseChunkEncoding = false;
        return SendAsync($"PUT {put.Key}", (c, t) => c.PutObjectAsync(put, t), ct);
    }

    /// <summary>Sends one request; a request that outlives its limit is a <see cref="DescribedFailureException"/>.</summary>
    public Task<T> SendAsync<T>(string what, Func<AmazonS3Client, CancellationToken, Task<T>> request, CancellationToken ct, int scale = 1) =>
        LimitedAsync(what, t => request(Client, t), Timeout * scale, ct);

    /// <summary>Runs <paramref name="call"/> with <paramref name="limit"/>; outliving it (not a cancellation of the caller's) is a stall.</summary>
    private async Task<T> LimitedAsync<T>(string what, Func<CancellationToken, Task<T>> call, TimeSpan limit, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(limit);
        try
        {
            return await call(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!ct.IsCancellationRequested && cts.IsCancellationRequested)
        {
            throw Stalled(what, limit, ex);
        }
    }

    /// <summary>A response body whose reads each fail after the limit.</summary>
    public Stream Guard(Stream body, string what) => new GuardedStream(body, this, what);

    private DescribedFailureException Stalled(string what, TimeSpan limit, Exception inner) =>
        new($"S3 at {Endpoint} did not answer {what} within {OpsRunbook.Engine.Common.Duration.Format(limit)}: the endpoint is stalled or unreachable " +
            "(\"aws\".\"requestTimeout\" in runbook.json sets the limit)", FailureKind.Timeout, inner);

    /// <inheritdoc />
    public void Dispose() => Client.Dispose();

    private sealed class GuardedStream(Stream inner, S3Requests requests, string what) : Internal.SequentialStream
    {
        public override bool CanRead => true;
        public override bool CanWrite => false;

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new(requests.LimitedAsync(what, t => inner.ReadAsync(buffer, t).AsTask(), requests.Timeout, cancellationToken));

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
