using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.S3;
using Amazon.S3.Model;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Aws;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>The result of Export-SecretInventory.</summary>
public sealed class SecretInventoryExport
{
    public string? Environment { get; init; }
    /// <summary>Where the snapshot was written (s3://bucket/key or a path).</summary>
    public required string Destination { get; init; }
    public required int SecretCount { get; init; }
    public required bool IncludesValues { get; init; }
    /// <summary>None, AES256 (SSE-S3) or aws:kms.</summary>
    public required string Encryption { get; init; }
    public string? KmsKeyId { get; init; }
    public long Bytes { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public override string ToString() => $"{SecretCount} secrets → {Destination}";
}

/// <summary>Runbook 000's weekly secrets snapshot: names, versions, tags and rotation dates; values only on request and only under KMS.</summary>
public static class SecretInventory
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The snapshot document. Values are read (AWSCURRENT) only when <paramref name="includeValues"/>.</summary>
    public static async Task<byte[]> BuildAsync(SecretsManagerClient client, IReadOnlyList<SecretDescription> secrets, string? environment, bool includeValues, DateTimeOffset now, CancellationToken ct)
    {
        var entries = new List<object>();
        foreach (var d in secrets.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            entries.Add(new
            {
                name = d.Name,
                arn = d.Arn,
                createdDate = d.CreatedDate,
                lastChangedDate = d.LastChangedDate,
                lastRotatedDate = d.LastRotatedDate,
                rotationEnabled = d.RotationEnabled,
                rotationDays = d.RotationDays,
                tags = d.Tags,
                versions = d.VersionIdsToStages,
                value = includeValues ? await client.GetSecretStringAsync(d.Arn.Length > 0 ? d.Arn : d.Name, ct).ConfigureAwait(false) : null,
            });
        }
        var doc = new { kind = "opsrunbook.secret-inventory", version = 1, environment, generatedAt = now, includesValues = includeValues, secrets = entries };
        return JsonSerializer.SerializeToUtf8Bytes(doc, Json);
    }

    /// <summary>Writes a snapshot. With values: S3 only, with SSE-KMS under <paramref name="kmsKeyId"/> (refused otherwise).</summary>
    public static async Task<(string destination, string encryption)> WriteAsync(string destination, string fileName, byte[] content, bool includesValues, string? kmsKeyId,
        OperationContext context)
    {
        var (aws, secrets, redactor, ct) = (context.Aws, context.Secrets, context.Redactor, context.Cancellation);
        var location = new BackupLocation(destination.EndsWith('/') || !destination.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? destination : destination + "/");
        if (includesValues && (!location.IsS3 || string.IsNullOrWhiteSpace(kmsKeyId)))
        {
            throw new ArgumentException("an inventory with values must go to s3:// with server-side encryption under a KMS key: give -KmsKeyId (a key id, ARN or alias/…)");
        }
        if (!location.IsS3)
        {
            var path = location.UriOf(fileName);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var partial = path + ".partial";
            await File.WriteAllBytesAsync(partial, content, ct).ConfigureAwait(false);
            File.Move(partial, path, overwrite: true);
            return (path, "none");
        }
        var settings = aws ?? AwsSettings.Default;
        using var s3 = await S3ClientFactory.CreateRequestsAsync(settings, secrets, redactor, ct).ConfigureAwait(false);
        var put = BuildPut(location, fileName, content, kmsKeyId);
        if (settings.UseS3Compatibility) put.UseChunkEncoding = false;
        await s3.SendAsync($"PUT {put.Key}", (c, t) => c.PutObjectAsync(put, t), ct).ConfigureAwait(false);
        return (location.UriOf(fileName), put.ServerSideEncryptionMethod.Value);
    }

    /// <summary>The PutObject request: SSE-KMS when a key is given, else SSE-S3 (AES256).</summary>
    internal static PutObjectRequest BuildPut(BackupLocation location, string fileName, byte[] content, string? kmsKeyId)
    {
        var put = new PutObjectRequest
        {
            BucketName = location.Bucket, Key = location.Prefix + fileName, InputStream = new MemoryStream(content), AutoCloseStream = true, ContentType = "application/json",
        };
        if (!string.IsNullOrWhiteSpace(kmsKeyId))
        {
            put.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS;
            put.ServerSideEncryptionKeyManagementServiceKeyId = kmsKeyId;
        }
        else
        {
            put.ServerSideEncryptionMethod = ServerSideEncryptionMethod.AES256;
        }
        return put;
    }
}
