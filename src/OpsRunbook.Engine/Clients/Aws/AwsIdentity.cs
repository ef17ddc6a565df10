using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Clients.Aws;

/// <summary>Credentials and region for <see cref="AwsSettings"/>, through AWSSDK.Core's chains. Values are registered for redaction.</summary>
internal static class AwsIdentity
{
    public static async Task<AWSCredentials> CredentialsAsync(AwsSettings settings, ISecretResolver secrets, SecretRedactor redactor, CancellationToken ct)
    {
        if (settings.AccessKeyId is not null || settings.SecretAccessKey is not null)
        {
            if (settings.AccessKeyId is null || settings.SecretAccessKey is null)
            {
                throw new AwsConfigurationException("give both accessKeyId and secretAccessKey in the environment's \"aws\" settings, or neither to use the AWS credential chain");
            }
            var id = await settings.AccessKeyId.ResolveAsync(secrets, ct).ConfigureAwait(false);
            var key = await settings.SecretAccessKey.ResolveAsync(secrets, ct).ConfigureAwait(false);
            redactor.Add(key);
            if (settings.SessionToken is null) return new BasicAWSCredentials(id, key);
            var token = await settings.SessionToken.ResolveAsync(secrets, ct).ConfigureAwait(false);
            redactor.Add(token);
            return new SessionAWSCredentials(id, key, token);
        }
        if (settings.Profile is not null)
        {
            return new CredentialProfileStoreChain().TryGetAWSCredentials(settings.Profile, out var fromProfile)
                ? fromProfile
                : throw new AwsConfigurationException($"AWS profile '{settings.Profile}' was not found in the shared config/credentials files");
        }
        try
        {
            return await new DefaultAWSCredentialsIdentityResolver().ResolveIdentityAsync(null!, ct).ConfigureAwait(false);
        }
        catch (AmazonClientException ex)
        {
            throw new AwsConfigurationException(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, as GitHub OIDC does), or run where an instance role is available", ex);
        }
    }

    public static async Task<ImmutableCredentials> ImmutableAsync(AwsSettings settings, ISecretResolver secrets, SecretRedactor redactor, CancellationToken ct)
    {
        var credentials = await CredentialsAsync(settings, secrets, redactor, ct).ConfigureAwait(false);
        var immutable = await credentials.GetCredentialsAsync().ConfigureAwait(false);
        redactor.Add(immutable.SecretKey);
        redactor.Add(immutable.Token);
        return immutable;
    }

    public static string Region(AwsSettings settings)
    {
        if (settings.Region is { Length: > 0 } r) return r;
        return FallbackRegionFactory.GetRegionEndpoint()?.SystemName
            ?? throw new AwsConfigurationException("no AWS region: set \"region\" in the environment's \"aws\" settings, or AWS_REGION");
    }

    public static RegionEndpoint RegionEndpoint(AwsSettings settings) => Amazon.RegionEndpoint.GetBySystemName(Region(settings));
}

/// <summary>AWS settings or credentials are missing or wrong; the message says what to set.</summary>
public sealed class AwsConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An AWS service answered with an error.</summary>
public sealed class AwsServiceException(string service, string errorType, string message, int statusCode) : Exception($"{service}: {errorType}: {message}")
{
    /// <summary>secretsmanager, s3...</summary>
    public string Service { get; } = service;
    /// <summary>ResourceNotFoundException, AccessDeniedException, ThrottlingException...</summary>
    public string ErrorType { get; } = errorType;
    /// <summary>The HTTP status code.</summary>
    public int StatusCode { get; } = statusCode;
}
