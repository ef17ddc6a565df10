using System.Diagnostics;
using System.Text;
using Amazon.S3.Model;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Health.Conditions;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>
/// S3: <c>s3://bucket/prefix/</c> is reachable when one key can be listed under the prefix; with WriteProbe a small
/// object is written, read back, compared and deleted (backups must be writable, not just visible).
/// </summary>
internal sealed class S3Check : ITargetCheck
{
    public async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (bucket, prefix) = Parse(target.Address);
        var settings = target.Aws ?? AwsSettings.Default;
        using var s3 = await S3ClientFactory.CreateAsync(settings, services.Secrets, services.Redactor, timeout, cancellationToken).ConfigureAwait(false);
        var sw = Stopwatch.StartNew();
        var list = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, MaxKeys = 1 }, cancellationToken).ConfigureAwait(false);
        var listMs = sw.Elapsed.TotalMilliseconds;
        var data = new Dictionary<string, object?>
        {
            ["Bucket"] = bucket,
            ["Prefix"] = prefix,
            ["HasObjects"] = (list.KeyCount ?? list.S3Objects?.Count ?? 0) > 0,
            ["ListMs"] = Math.Round(listMs, 1),
        };
        var reason = $"s3://{bucket}/{prefix} listed in {listMs:0} ms";
        if (target.WriteProbe)
        {
            var key = $"{prefix}.opsrunbook-probe/{Guid.NewGuid():N}";
            var body = $"OpsRunbook write probe {DateTimeOffset.UtcNow:O}";
            var put = new PutObjectRequest { BucketName = bucket, Key = key, ContentBody = body, ContentType = "text/plain" };
            if (settings.UseS3Compatibility) put.UseChunkEncoding = false;
            await s3.PutObjectAsync(put, cancellationToken).ConfigureAwait(false);
            try
            {
                using var got = await s3.GetObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
                using var reader = new StreamReader(got.ResponseStream, Encoding.UTF8);
                var read = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                if (read != body)
                {
                    return CheckOutcome.Failed($"s3://{bucket}/{key}: the object read back differs from what was written (an S3-compatible store may need \"s3Compatible\": true)", sw.Elapsed.TotalMilliseconds, data);
                }
            }
            finally
            {
                await s3.DeleteObjectAsync(bucket, key, cancellationToken).ConfigureAwait(false);
            }
            data["ProbeMs"] = Math.Round(sw.Elapsed.TotalMilliseconds - listMs, 1);
            reason += $", write/read/delete probe in {sw.Elapsed.TotalMilliseconds - listMs:0} ms";
        }
        var latency = sw.Elapsed.TotalMilliseconds;
        return Verdict.Decide(target, HealthStatus.Healthy, reason, latency, data, new ConditionContext(responseTimeMs: latency, connected: true));
    }

    internal static (string bucket, string prefix) Parse(string address)
    {
        if (!address.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) || address.Length <= 5)
        {
            throw new ArgumentException($"'{address}' is not an S3 location; write s3://bucket/prefix/");
        }
        var rest = address[5..];
        var slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        if (bucket.Length is < 3 or > 63) throw new ArgumentException($"'{bucket}' is not a bucket name (3 to 63 characters)");
        return (bucket, slash < 0 ? "" : rest[(slash + 1)..]);
    }
}

/// <summary>Secrets Manager: <c>secretsmanager://SECRET_ID</c> can be described — reachable and permitted, no value fetched.</summary>
internal sealed class SecretsManagerCheck : ITargetCheck
{
    public async Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = Parse(target.Address);
        using var client = new SecretsManagerClient(target.Aws ?? AwsSettings.Default, services.Secrets, services.Redactor, timeout);
        var sw = Stopwatch.StartNew();
        var d = await client.DescribeSecretAsync(id, cancellationToken).ConfigureAwait(false);
        var latency = sw.Elapsed.TotalMilliseconds;
        var data = new Dictionary<string, object?>
        {
            ["Name"] = d.Name,
            ["Arn"] = d.Arn,
            ["RotationEnabled"] = d.RotationEnabled,
            ["RotationDays"] = d.RotationDays,
            ["LastRotatedDate"] = d.LastRotatedDate,
            ["LastChangedDate"] = d.LastChangedDate,
            ["Versions"] = d.VersionIdsToStages.Count,
        };
        var rotated = d.LastRotatedDate is { } r ? $", last rotated {Math.Floor((DateTimeOffset.UtcNow - r).TotalDays)} days ago" : ", never rotated";
        return Verdict.Decide(target, HealthStatus.Healthy, $"secret {d.Name} described in {latency:0} ms{rotated}", latency, data,
            new ConditionContext(responseTimeMs: latency, connected: true));
    }

    internal static string Parse(string address)
    {
        const string scheme = "secretsmanager://";
        var id = address.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? address[scheme.Length..] : "";
        return id.Length > 0 ? Uri.UnescapeDataString(id) : throw new ArgumentException($"'{address}' is not a Secrets Manager target; write secretsmanager://SECRET_ID_OR_ARN");
    }
}
