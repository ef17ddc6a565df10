using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Clients.Aws;

/// <summary>
/// How to reach AWS (or an S3-compatible store) for one environment: region, endpoint overrides, credentials.
/// Without credentials here, the AWS SDK's standard chain applies (environment, profiles, SSO, web identity for
/// GitHub OIDC, ECS/IMDS). Nothing is resolved until a client is first used.
/// </summary>
public sealed class AwsSettings
{
    /// <summary>Region, e.g. us-east-1; else AWS_REGION / AWS_DEFAULT_REGION / the profile's region.</summary>
    public string? Region { get; init; }
    /// <summary>A named profile from ~/.aws/config and credentials.</summary>
    public string? Profile { get; init; }
    /// <summary>Access key id (a reference such as env:AWS_ACCESS_KEY_ID); with <see cref="SecretAccessKey"/>.</summary>
    public SecretValue? AccessKeyId { get; init; }
    /// <summary>Secret access key (always a reference).</summary>
    public SecretValue? SecretAccessKey { get; init; }
    /// <summary>Session token for temporary credentials.</summary>
    public SecretValue? SessionToken { get; init; }
    /// <summary>S3 endpoint for S3-compatible stores (MinIO, R2, B2, s3rver); ${VAR} expands when a client is made.</summary>
    public string? S3Endpoint { get; init; }
    /// <summary>
    /// S3-compatible mode: path-style addressing, no aws-chunked uploads, checksums only when required — what many
    /// stores other than AWS S3 need with the newest SDK defaults. On by default when <see cref="S3Endpoint"/> is set.
    /// </summary>
    public bool? S3Compatible { get; init; }
    /// <summary>
    /// The most one S3 request (or one read of a download) may take before it fails naming the endpoint; null for the
    /// default (60 s). A multipart part gets four times this.
    /// </summary>
    public TimeSpan? RequestTimeout { get; init; }
    /// <summary>Secrets Manager endpoint override (VPC endpoints, tests).</summary>
    public string? SecretsManagerEndpoint { get; init; }

    /// <summary>Whether S3 requests use the compatibility settings.</summary>
    public bool UseS3Compatibility => S3Compatible ?? S3Endpoint is not null;

    /// <summary>Defaults: everything from the SDK's chains.</summary>
    public static AwsSettings Default { get; } = new();
}
