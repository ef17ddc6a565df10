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
        return await FetchAsync(credentials, settings, redactor).ConfigureAwait(false);
    }

    /// <summary>
    /// Gets the current key pair from <paramref name="credentials"/> (for a profile, SSO or web identity: the call to STS
    /// or the SSO portal) and registers it for redaction. A source that cannot give credentials (an expired SSO login,
    /// a role that may not be assumed, a rejected web identity token) is an <see cref="AwsConfigurationException"/>
    /// that names the source and what to do, instead of the SDK's "Error calling AssumeRole".
    /// </summary>
    public static async Task<ImmutableCredentials> FetchAsync(AWSCredentials credentials, AwsSettings settings, SecretRedactor redactor)
    {
        ImmutableCredentials immutable;
        try
        {
            immutable = await credentials.GetCredentialsAsync().ConfigureAwait(false);
        }
        catch (AmazonClientException ex)
        {
            throw new AwsConfigurationException(SourceFailed(credentials, settings, ex), ex);
        }
        redactor.Add(immutable.SecretKey);
        redactor.Add(immutable.Token);
        return immutable;
    }

    private static string SourceFailed(AWSCredentials credentials, AwsSettings settings, AmazonClientException ex)
    {
        var profile = settings.Profile ?? System.Environment.GetEnvironmentVariable("AWS_PROFILE") ?? "default";
        var detail = Detail(ex);
        return credentials switch
        {
            SSOAWSCredentials => $"AWS profile '{profile}' signs in with IAM Identity Center (SSO) and got no credentials ({detail}): run `aws sso login --profile {profile}` and try again",
            AssumeRoleWithWebIdentityCredentials => $"STS did not exchange the web identity token (AWS_WEB_IDENTITY_TOKEN_FILE) for role {System.Environment.GetEnvironmentVariable("AWS_ROLE_ARN")} ({detail}): check the role's trust policy and the token's audience",
            AssumeRoleAWSCredentials => $"AWS profile '{profile}' could not assume its role ({detail}): check role_arn, the source profile's keys and the role's trust policy",
            _ => $"the AWS credential source gave no credentials ({detail})",
        };
    }

    /// <summary>The SDK's message and, where it only says "see inner exception", the service's error code and message.</summary>
    private static string Detail(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            var text = e is AmazonServiceException s && s.ErrorCode is { Length: > 0 } code ? $"{code}: {s.Message}" : e.Message;
            if (!text.Contains("inner exception", StringComparison.OrdinalIgnoreCase) && !parts.Contains(text)) parts.Add(text);
        }
        return string.Join("; ", parts);
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
