using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

public class SecretTests
{
    [Theory]
    [InlineData("env:DATABASE_URL", SecretScheme.Environment, "DATABASE_URL", null, "")]
    [InlineData("secret:aws:prod/paintbox/db", SecretScheme.AwsSecretsManager, "prod/paintbox/db", null, "")]
    [InlineData("secret:aws:prod/db#password", SecretScheme.AwsSecretsManager, "prod/db", "password", "")]
    [InlineData("vault:team/slack-webhook", SecretScheme.Vault, "slack-webhook", null, "team")]
    public void Parses_references(string text, SecretScheme scheme, string id, string? key, string vault)
    {
        var r = SecretReference.Parse(text);
        Assert.Equal(new SecretReference(scheme, id, key, vault), r);
        Assert.Equal(text, r.Text);
    }

    [Theory]
    [InlineData("env:", "env:NAME")]
    [InlineData("env:BAD-NAME", "letters, digits and _")]
    [InlineData("secret:gcp:x", "secret:aws:ID")]
    [InlineData("secret:aws:", "incomplete")]
    [InlineData("secret:aws:id#", "incomplete")]
    [InlineData("vault:noslash", "vault:VAULT_NAME/SECRET_NAME")]
    public void Rejects_malformed_references_saying_what_to_write(string text, string hint)
    {
        Assert.False(SecretReference.TryParse(text, out _, out var error));
        Assert.Contains(hint, error);
    }

    [Theory]
    [InlineData("postgres://app:s3cr3t@db:5432/app", "postgres://app:***@db:5432/app")]
    [InlineData("redis://:s3cr3t@cache:6379", "redis://:***@cache:6379")]
    [InlineData("Host=db;Username=app;Password=s3cr3t;Database=app", "Host=db;Username=app;Password=***;Database=app")]
    [InlineData("host=db pwd = 's3 cr3t'", "host=db pwd=***")]
    [InlineData("https://example.com/health", "https://example.com/health")]
    public void Redacts_credentials_in_urls_and_connection_strings(string text, string expected)
    {
        Assert.Equal(expected, SecretValue.Redact(text));
    }

    [Fact]
    public void A_literal_with_a_password_is_a_plaintext_secret_and_never_displayed()
    {
        var v = SecretValue.Parse("postgres://app:hunter22@db/app");
        Assert.True(v.IsPlaintextSecret);
        Assert.DoesNotContain("hunter22", v.Display);
        Assert.DoesNotContain("hunter22", v.ToString());
        Assert.False(SecretValue.Parse("env:DATABASE_URL").IsPlaintextSecret);
        Assert.False(SecretValue.Parse("postgres://app:${PGPASSWORD}@db/app").IsPlaintextSecret);
    }

    [Fact]
    public async Task Resolves_env_references_and_registers_values_for_scrubbing()
    {
        var resolver = new SecretResolver(environment: n => n == "APP_DB" ? "postgres://u:topsecretvalue@h/db" : null);
        var value = await SecretValue.Parse("env:APP_DB").ResolveAsync(resolver, TestContext.Current.CancellationToken);
        Assert.Equal("postgres://u:topsecretvalue@h/db", value);
        Assert.Equal("failed with *** here", resolver.Redactor.Scrub("failed with postgres://u:topsecretvalue@h/db here"));
        var missing = await Assert.ThrowsAsync<SecretResolutionException>(() => SecretValue.Parse("env:NOPE").ResolveAsync(resolver, TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("env:NOPE", missing.Message);
    }

    [Fact]
    public async Task Vault_references_need_a_value_supplied_by_the_PowerShell_layer()
    {
        var resolver = new SecretResolver();
        var reference = SecretReference.Parse("vault:team/db");
        var ex = await Assert.ThrowsAsync<SecretResolutionException>(() => resolver.ResolveAsync(reference, TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("SecretManagement", ex.Message);
        resolver.Supply(reference, "vault-value-1234");
        Assert.Equal("vault-value-1234", await resolver.ResolveAsync(reference, TestContext.Current.CancellationToken));
        Assert.Equal("x *** y", resolver.Redactor.Scrub("x vault-value-1234 y"));
    }

    [Fact]
    public async Task Aws_references_read_a_json_key_through_the_configured_store()
    {
        var resolver = new SecretResolver { AwsSecretsManager = (id, _) => ValueTask.FromResult(id == "prod/db" ? """{"username":"app","password":"pw-from-aws"}""" : throw new SecretResolutionException("no such secret")) };
        Assert.Equal("pw-from-aws", await resolver.ResolveAsync(SecretReference.Parse("secret:aws:prod/db#password"), TestContext.Current.CancellationToken));
        var noKey = await Assert.ThrowsAsync<SecretResolutionException>(() => resolver.ResolveAsync(SecretReference.Parse("secret:aws:prod/db#nope"), TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("no key 'nope'", noKey.Message);
        Assert.DoesNotContain("pw-from-aws", noKey.Message);
        var halfConfigured = new SecretResolver(environment: n => n == "KEY_ID" ? "AKIDEXAMPLE" : null);
        halfConfigured.UseAws(new Clients.Aws.AwsSettings { Region = "us-east-1", AccessKeyId = SecretValue.Parse("env:KEY_ID") });
        var unconfigured = await Assert.ThrowsAsync<SecretResolutionException>(() => halfConfigured.ResolveAsync(SecretReference.Parse("secret:aws:x"), TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("give both accessKeyId and secretAccessKey", unconfigured.Message);
    }

    [Fact]
    public void Scrub_masks_longest_values_first_and_url_encoded_forms()
    {
        var r = new SecretRedactor();
        r.Add("abcd");
        r.Add("abcd/efgh");
        Assert.Equal("x *** y", r.Scrub("x abcd/efgh y"));
        Assert.Equal("x *** y", r.Scrub("x abcd%2Fefgh y"));
        r.Add("ab"); // too short to mask safely
        Assert.Equal("lab", r.Scrub("lab"));
    }

    [Theory]
    [InlineData("http://${H:-127.0.0.1}:${P}/x", "http://127.0.0.1:8080/x")]
    [InlineData("no vars", "no vars")]
    public void Expands_env_templates(string template, string expected)
    {
        Assert.Equal(expected, EnvTemplate.Expand(template, n => n == "P" ? "8080" : null));
    }

    [Fact]
    public void An_unset_template_variable_is_named()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => EnvTemplate.Expand("x${MISSING_ONE}", _ => null));
        Assert.Contains("MISSING_ONE", ex.Message);
    }
}
