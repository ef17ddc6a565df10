using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Secrets Manager against the protocol fake (signatures verified), S3 against the real s3rver.</summary>
public class AwsTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string> Keys(string secret = FakeSecretsManager.SecretKey) => new()
    {
        ["T_AWS_KEY_ID"] = FakeSecretsManager.AccessKey,
        ["T_AWS_SECRET"] = secret,
    };

    private static AwsSettings Settings(FakeSecretsManager fake) => new()
    {
        Region = FakeSecretsManager.Region,
        AccessKeyId = SecretValue.Parse("env:T_AWS_KEY_ID"),
        SecretAccessKey = SecretValue.Parse("env:T_AWS_SECRET"),
        SecretsManagerEndpoint = fake.Endpoint,
    };

    [Fact]
    public async Task Describes_a_secret_with_a_valid_signature_and_no_value_fetched()
    {
        await using var fake = await FakeSecretsManager.StartAsync();
        fake.Add("prod/paintbox/db", """{"password":"value-never-fetched"}""");
        var keys = Keys();
        var resolver = new SecretResolver(environment: keys.GetValueOrDefault);
        var target = new HealthCheckTarget { Name = "secrets", Address = "secretsmanager://prod/paintbox/db", Aws = Settings(fake) };
        var r = (await HealthCheckSessionTests.RunAll(new HealthCheckOptions(), resolver, target)).Single();
        Assert.Equal(TargetKind.SecretsManager, r.Kind);
        Assert.True(r.Status == HealthStatus.Healthy, r.Reason);
        Assert.Equal(true, r.Data["RotationEnabled"]);
        Assert.Equal(30, r.Data["RotationDays"]);
        Assert.Equal(["DescribeSecret"], fake.Log.Select(l => l.Operation));
        Assert.DoesNotContain(fake.Log, l => l.Operation == "GetSecretValue");
    }

    [Fact]
    public async Task A_wrong_secret_key_is_an_invalid_signature_and_never_shown()
    {
        await using var fake = await FakeSecretsManager.StartAsync();
        fake.Add("s", "v");
        var wrong = "WRONG-" + Guid.NewGuid().ToString("N");
        var keys = Keys(wrong);
        var target = new HealthCheckTarget { Address = "secretsmanager://s", Aws = Settings(fake) };
        var r = (await HealthCheckSessionTests.RunAll(new HealthCheckOptions(), new SecretResolver(environment: keys.GetValueOrDefault), target)).Single();
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("InvalidSignatureException", r.Reason);
        Assert.DoesNotContain(wrong, r.Reason);
    }

    [Fact]
    public async Task A_missing_secret_is_unhealthy_with_the_service_error_type()
    {
        await using var fake = await FakeSecretsManager.StartAsync();
        var keys = Keys();
        var target = new HealthCheckTarget { Address = "secretsmanager://nope", Aws = Settings(fake) };
        var r = (await HealthCheckSessionTests.RunAll(new HealthCheckOptions(), new SecretResolver(environment: keys.GetValueOrDefault), target)).Single();
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("ResourceNotFoundException", r.Reason);
    }

    [Fact]
    public async Task Secret_aws_references_resolve_through_the_client_with_retries_on_throttling()
    {
        await using var fake = await FakeSecretsManager.StartAsync();
        fake.Add("prod/db", """{"url":"postgres://u:pw-from-aws@h/db","password":"pw-from-aws"}""");
        fake.ThrottleNext(2);
        var keys = Keys();
        var resolver = new SecretResolver(environment: keys.GetValueOrDefault);
        resolver.UseAws(Settings(fake));
        Assert.Equal("pw-from-aws", await resolver.ResolveAsync(SecretReference.Parse("secret:aws:prod/db#password"), Ct));
        Assert.Equal(3, fake.Log.Count(l => l.Operation == "GetSecretValue"));
        Assert.Equal("x *** y", resolver.Redactor.Scrub("x pw-from-aws y"));
        var missing = await Assert.ThrowsAsync<SecretResolutionException>(() => resolver.ResolveAsync(SecretReference.Parse("secret:aws:other"), Ct).AsTask());
        Assert.Contains("ResourceNotFoundException", missing.Message);
    }

    [Theory]
    [InlineData("""{"__type":"com.amazonaws.secretsmanager#ResourceNotFoundException","Message":"m"}""", "ResourceNotFoundException")]
    [InlineData("""{"__type":"ThrottlingException:http://internal.amazon.com/","message":"m"}""", "ThrottlingException")]
    [InlineData("""not json""", "HTTP400")]
    public void Error_types_are_sanitized_as_the_protocol_says(string body, string type)
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.BadRequest);
        Assert.Equal(type, SecretsManagerClient.ParseError(body, response).type);
    }

    private static SecretsManagerClient Client(FakeSecretsManager fake, SecretRedactor? redactor = null)
    {
        var keys = Keys();
        return new SecretsManagerClient(Settings(fake), new SecretResolver(redactor, keys.GetValueOrDefault), redactor ?? new SecretRedactor());
    }

    [Fact]
    public async Task Versions_and_labels_follow_the_service_rules_through_the_client()
    {
        await using var fake = await FakeSecretsManager.StartAsync();
        var redactor = new SecretRedactor();
        using var client = Client(fake, redactor);
        var token = Guid.NewGuid().ToString();
        Assert.EndsWith("secret:app/key-AbCdEf", await client.CreateSecretAsync("app/key", token, "first-value-123", "API key", new Dictionary<string, string> { ["team"] = "core" }, Ct));
        // Same token: idempotent. Another token for an existing name: ResourceExistsException.
        await client.CreateSecretAsync("app/key", token, "first-value-123", null, null, Ct);
        var exists = await Assert.ThrowsAsync<AwsServiceException>(() => client.CreateSecretAsync("app/key", Guid.NewGuid().ToString(), "x", null, null, Ct));
        Assert.Equal("ResourceExistsException", exists.ErrorType);

        var v2 = Guid.NewGuid().ToString();
        Assert.Equal(v2, await client.PutSecretValueAsync("app/key", v2, "second-value-456", ["AWSPENDING"], Ct));
        Assert.Equal(v2, await client.PutSecretValueAsync("app/key", v2, "second-value-456", ["AWSPENDING"], Ct)); // retried put: same version
        var changed = await Assert.ThrowsAsync<AwsServiceException>(() => client.PutSecretValueAsync("app/key", v2, "other", ["AWSPENDING"], Ct));
        Assert.Equal("ResourceExistsException", changed.ErrorType);
        Assert.Equal("second-value-456", await client.GetSecretVersionStringAsync("app/key", v2, Ct));

        // Moving AWSCURRENT without saying where it is now is refused; with RemoveFromVersionId AWSPREVIOUS follows.
        var refused = await Assert.ThrowsAsync<AwsServiceException>(() => client.UpdateSecretVersionStageAsync("app/key", "AWSCURRENT", v2, null, Ct));
        Assert.Equal("InvalidParameterException", refused.ErrorType);
        await client.UpdateSecretVersionStageAsync("app/key", "AWSCURRENT", v2, token, Ct);
        var d = await client.DescribeSecretAsync("app/key", Ct);
        Assert.Equal(["AWSCURRENT", "AWSPENDING"], d.VersionIdsToStages[v2].Order());
        Assert.Equal(["AWSPREVIOUS"], d.VersionIdsToStages[token]);
        Assert.Equal("core", d.Tags["team"]);
        Assert.Equal("second-value-456", await client.GetSecretStringAsync("app/key", Ct));
        Assert.Equal("first-value-123", await client.GetSecretStringAsync("app/key", Ct, "AWSPREVIOUS"));
        // Every value seen is registered for redaction.
        Assert.Equal("a *** b", redactor.Scrub("a second-value-456 b"));
    }

    [Fact]
    public async Task Random_passwords_and_listing_use_the_service_parameters_and_every_page()
    {
        await using var fake = await FakeSecretsManager.StartAsync();
        for (var i = 0; i < 205; i++) fake.Add($"svc/{i:000}", "v");
        fake.Add("other/x", "v");
        using var client = Client(fake);
        var password = await client.GetRandomPasswordAsync(40, "abc", excludePunctuation: true, Ct);
        Assert.Equal(40, password.Length);
        Assert.True(password.All(char.IsLetterOrDigit) && !password.Any(c => "abc".Contains(c)));
        var body = fake.Log.Single(l => l.Operation == "GetRandomPassword").Body;
        Assert.Contains("\"PasswordLength\":40", body);
        Assert.Contains("\"ExcludePunctuation\":true", body);

        var listed = await client.ListSecretsAsync("svc/", Ct);
        Assert.Equal(205, listed.Count);
        Assert.Equal(205, listed.Select(x => x.Name).Distinct().Count());
        // An empty first page with a NextToken, then pages of 100: the client follows the token, not the page size.
        Assert.Equal(4, fake.Log.Count(l => l.Operation == "ListSecrets"));
    }

    [Fact]
    public void The_error_type_header_is_used_when_the_body_has_none()
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.BadRequest);
        response.Headers.Add("X-Amzn-Errortype", "AccessDeniedException:http://internal.amazon.com/coral/");
        Assert.Equal("AccessDeniedException", SecretsManagerClient.ParseError("{}", response).type);
    }

    private AwsSettings S3rver() => new()
    {
        Region = "us-east-1",
        AccessKeyId = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"),
        SecretAccessKey = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"),
        S3Endpoint = servers["OPSRUNBOOK_S3_ENDPOINT"],
    };

    private async Task<HealthCheckResult> CheckS3(string address, bool probe) =>
        (await HealthCheckSessionTests.RunAll(new HealthCheckOptions(), new SecretResolver(environment: servers.Lookup),
            new HealthCheckTarget { Address = address, WriteProbe = probe, Aws = S3rver() })).Single();

    [Fact]
    public async Task An_s3_bucket_is_reachable_and_writable_by_probe()
    {
        var r = await CheckS3($"s3://{servers["OPSRUNBOOK_S3_BUCKET"]}/health/", probe: true);
        Assert.True(r.Status == HealthStatus.Healthy, r.Reason);
        Assert.Equal(TargetKind.S3, r.Kind);
        Assert.Contains("write/read/delete probe", r.Reason);
        Assert.NotNull(r.Data["ProbeMs"]);
        // The probe cleans up after itself.
        var again = await CheckS3($"s3://{servers["OPSRUNBOOK_S3_BUCKET"]}/health/.opsrunbook-probe/", probe: false);
        Assert.Equal(false, again.Data["HasObjects"]);
    }

    [Fact]
    public async Task A_missing_bucket_is_unhealthy()
    {
        var r = await CheckS3("s3://no-such-bucket-here/", probe: false);
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("NoSuchBucket", r.Reason);
    }

    [Fact]
    public void S3_addresses_are_validated()
    {
        Assert.Equal(("bkt", "a/b/"), Health.Checks.S3Check.Parse("s3://bkt/a/b/"));
        Assert.Contains("s3://bucket/prefix/", Assert.Throws<ArgumentException>(() => Health.Checks.S3Check.Parse("http://x")).Message);
        Assert.Contains("3 to 63", Assert.Throws<ArgumentException>(() => Health.Checks.S3Check.Parse("s3://ab")).Message);
    }

    [Fact]
    public void The_environment_aws_section_loads_and_refuses_literal_keys()
    {
        var env = Environments.RunbookConfigLoader.Parse("""
            { "system": "s", "environments": { "e": {
              "aws": { "region": "eu-west-1", "s3Endpoint": "http://127.0.0.1:9000", "accessKeyId": "env:K", "secretAccessKey": "env:S" },
              "endpoints": [ { "name": "backups", "url": "s3://b-1/x/", "writeProbe": true }, { "name": "sm", "url": "secretsmanager://prod/db" } ] } } }
            """, "r.json").GetEnvironment("e");
        Assert.True(env.Aws!.UseS3Compatibility);
        var targets = env.GetHealthCheckTargets();
        Assert.Equal([TargetKind.S3, TargetKind.SecretsManager], targets.Select(t => t.Kind));
        Assert.True(targets[0].WriteProbe);
        Assert.Same(env.Aws, targets[0].Aws);
        var literal = Assert.Throws<Environments.RunbookConfigException>(() => Environments.RunbookConfigLoader.Parse("""
            { "system": "s", "environments": { "e": { "aws": { "accessKeyId": "AKID", "secretAccessKey": "wJalrXUtnFEMI" } } } }
            """, "r.json"));
        Assert.Equal("environments.e.aws.secretAccessKey", literal.Field);
        Assert.DoesNotContain("wJalrXUtnFEMI", literal.Message);
    }

    /// <summary>Sets process environment variables for one test and restores what was there before.</summary>
    private static async Task WithEnvironment(Dictionary<string, string?> variables, Func<Task> body)
    {
        var before = variables.Keys.ToDictionary(k => k, System.Environment.GetEnvironmentVariable);
        foreach (var (k, v) in variables) System.Environment.SetEnvironmentVariable(k, v);
        try { await body(); }
        finally { foreach (var (k, v) in before) System.Environment.SetEnvironmentVariable(k, v); }
    }

    [Fact]
    public async Task A_web_identity_from_github_oidc_is_exchanged_at_sts_and_its_credentials_sign_the_requests()
    {
        // The SDK's credential chain loads AWSSDK.SecurityToken by name for a web identity (AWS_ROLE_ARN +
        // AWS_WEB_IDENTITY_TOKEN_FILE: GitHub OIDC, EKS IRSA); shipped without it, this threw before any request.
        await using var sm = await FakeSecretsManager.StartAsync();
        sm.Add("prod/db", "value-never-fetched");
        await using var sts = await FakeAwsIdentity.StartAsync(FakeSecretsManager.AccessKey, FakeSecretsManager.SecretKey, "session-token-from-sts-0123");
        var tokenFile = Path.GetTempFileName();
        File.WriteAllText(tokenFile, "eyJhbGciOiJSUzI1NiJ9.github-oidc-test-token.sig");
        try
        {
            await WithEnvironment(new()
            {
                ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile, ["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/deploy",
                ["AWS_ROLE_SESSION_NAME"] = "opsrunbook-test", ["AWS_ENDPOINT_URL_STS"] = sts.Endpoint,
            }, async () =>
            {
                var redactor = new SecretRedactor();
                using var client = new SecretsManagerClient(new AwsSettings { Region = FakeSecretsManager.Region, SecretsManagerEndpoint = sm.Endpoint }, new SecretResolver(redactor), redactor);
                Assert.Equal("prod/db", (await client.DescribeSecretAsync("prod/db", Ct)).Name);
            });
            var call = Assert.Single(sts.Calls);
            Assert.Equal(("AssumeRoleWithWebIdentity", "arn:aws:iam::123456789012:role/deploy", "opsrunbook-test", "eyJhbGciOiJSUzI1NiJ9.github-oidc-test-token.sig"), call);
            Assert.Contains(sm.Log, l => l.Operation == "DescribeSecret"); // signed with STS's credentials, verified by the fake
        }
        finally { File.Delete(tokenFile); }
    }

    // Assume-role and SSO profiles are tested in real pwsh (tests/pester/Secrets.Tests.ps1): the SDK reads
    // AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and HOME once per process, so they must be set before it starts.
}
