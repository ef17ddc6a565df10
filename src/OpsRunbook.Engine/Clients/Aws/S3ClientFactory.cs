using Amazon.Runtime;
using Amazon.S3;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Clients.Aws;

/// <summary>AmazonS3Client from <see cref="AwsSettings"/>: endpoint override and the S3-compatibility settings.</summary>
internal static class S3ClientFactory
{
    public static async Task<AmazonS3Client> CreateAsync(AwsSettings settings, ISecretResolver secrets, SecretRedactor redactor, TimeSpan timeout, CancellationToken ct)
    {
        var credentials = await AwsIdentity.CredentialsAsync(settings, secrets, redactor, ct).ConfigureAwait(false);
        await AwsIdentity.FetchAsync(credentials, settings, redactor).ConfigureAwait(false); // a source's failure, said once and clearly
        var config = new AmazonS3Config
        {
            Timeout = timeout,
            MaxErrorRetry = 3,
            RetryMode = RequestRetryMode.Standard,
        };
        if (settings.S3Endpoint is not null)
        {
            config.ServiceURL = EnvTemplate.Expand(settings.S3Endpoint);
            config.AuthenticationRegion = settings.Region ?? "us-east-1";
        }
        else
        {
            config.RegionEndpoint = AwsIdentity.RegionEndpoint(settings);
        }
        if (settings.UseS3Compatibility)
        {
            config.ForcePathStyle = true;
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        return new AmazonS3Client(credentials, config);
    }

    /// <summary>
    /// A client whose requests each have a limit (<see cref="S3Requests"/>); the SDK's own timeout is set above the
    /// longest limit, so the limit, which names the endpoint, is what a stall meets.
    /// </summary>
    public static async Task<S3Requests> CreateRequestsAsync(AwsSettings settings, ISecretResolver secrets, SecretRedactor redactor, CancellationToken ct)
    {
        var limit = (settings.RequestTimeout ?? S3Requests.DefaultTimeout) * S3Requests.PartScale + TimeSpan.FromMinutes(1);
        return new S3Requests(await CreateAsync(settings, secrets, redactor, limit, ct).ConfigureAwait(false), settings);
    }
}
