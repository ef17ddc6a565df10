using System.Net;
using System.Text.Json.Nodes;
using Amazon.S3;
using Amazon.S3.Model;
using OpsRunbook.Engine.Clients.Aws;

namespace OpsRunbook.Engine.Notify;

/// <summary>
/// -OnChange state in S3, for scheduled jobs on machines that share no disk: the state object <c>key</c> and a lease
/// <c>key.lock</c> taken with a conditional write (PutObject If-None-Match: *, which S3 has answered since 2024, and R2
/// and MinIO too). A second run finds the lease taken (412) and waits for it; a lease left by a run that died is taken
/// over once it has expired (deleted with If-Match on its ETag, so two runs cannot both take it over). The state is
/// read after the lease is held and written before it is released.
/// </summary>
public sealed class S3ChangeGate : ChangeState
{
    private readonly S3Requests _s3;
    private readonly string _bucket, _key;
    private readonly bool _readOnly;

    private S3ChangeGate(S3Requests s3, string bucket, string key, bool readOnly, JsonObject subjects) : base(subjects)
    {
        _s3 = s3;
        (_bucket, _key, _readOnly) = (bucket, key, readOnly);
    }

    /// <inheritdoc />
    public override string Location => $"s3://{_bucket}/{_key}";

    /// <summary>
    /// Takes the lease on s3://bucket/key (waiting up to <paramref name="lockTimeout"/>) and reads the state.
    /// <paramref name="readOnly"/> (-WhatIf) only reads it: no lease, no write.
    /// </summary>
    public static async Task<S3ChangeGate> OpenAsync(string url, OperationContext context, TimeSpan lockTimeout, bool readOnly = false)
    {
        var ct = context.Cancellation;
        if (!url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) || url.EndsWith('/') || url.IndexOf('/', 5) < 0)
        {
            throw new ArgumentException($"'{url}' is not an S3 object: write -StatePath s3://bucket/path/state.json");
        }
        var bucket = url[5..url.IndexOf('/', 5)];
        var key = url[(url.IndexOf('/', 5) + 1)..];
        var s3 = await S3ClientFactory.CreateRequestsAsync(context.Aws ?? new AwsSettings(), context.Secrets, context.Redactor, ct).ConfigureAwait(false);
        var lease = lockTimeout;
        var deadline = DateTimeOffset.UtcNow + lockTimeout;
        var lockKey = key + ".lock";
        while (!readOnly)
        {
            var put = new PutObjectRequest
            {
                BucketName = bucket, Key = lockKey, IfNoneMatch = "*", ContentType = "application/json",
                ContentBody = new JsonObject { ["expires"] = DateTimeOffset.UtcNow + lease, ["host"] = Environment.MachineName }.ToJsonString(),
            };
            try
            {
                await s3.PutAsync(put, ct).ConfigureAwait(false);
                break;
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
            {
                if (await TakeOverStaleAsync(s3, bucket, lockKey, ct).ConfigureAwait(false)) continue;
                if (DateTimeOffset.UtcNow >= deadline)
                {
                    throw new NotifyStateException($"the -OnChange state s3://{bucket}/{key} stayed leased by another run for {lockTimeout.TotalSeconds:0} s", busy: true);
                }
                await Task.Delay(Random.Shared.Next(150, 350), ct).ConfigureAwait(false);
            }
        }
        string? text = null;
        try
        {
            using var response = await s3.SendAsync($"GET {key}", (c, t) => c.GetObjectAsync(bucket, key, t), ct).ConfigureAwait(false);
            using var reader = new StreamReader(response.ResponseStream);
            text = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            // the first run: no state yet
        }
        return new S3ChangeGate(s3, bucket, key, readOnly, Parse(text, $"s3://{bucket}/{key}"));
    }

    /// <summary>Deletes a lease whose time is up (If-Match its ETag: only one run takes it over); true when it did.</summary>
    private static async Task<bool> TakeOverStaleAsync(S3Requests s3, string bucket, string lockKey, CancellationToken ct)
    {
        try
        {
            using var response = await s3.SendAsync($"GET {lockKey}", (c, t) => c.GetObjectAsync(bucket, lockKey, t), ct).ConfigureAwait(false);
            using var reader = new StreamReader(response.ResponseStream);
            var expires = JsonNode.Parse(await reader.ReadToEndAsync(ct).ConfigureAwait(false))?["expires"]?.GetValue<DateTimeOffset>();
            if (expires is { } e && e > DateTimeOffset.UtcNow) return false;
            var delete = new DeleteObjectRequest { BucketName = bucket, Key = lockKey, IfMatch = response.ETag };
            await s3.SendAsync($"DELETE {lockKey}", (c, t) => c.DeleteObjectAsync(delete, t), ct).ConfigureAwait(false);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.PreconditionFailed)
        {
            return true; // released or taken over meanwhile: try again
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_readOnly)
        {
            _s3.Dispose();
            return;
        }
        try
        {
            var put = new PutObjectRequest { BucketName = _bucket, Key = _key, ContentType = "application/json", ContentBody = Serialize() };
            await _s3.PutAsync(put, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await _s3.SendAsync($"DELETE {_key}.lock", (c, t) => c.DeleteObjectAsync(_bucket, _key + ".lock", t), CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _s3.Dispose();
            }
        }
    }
}
