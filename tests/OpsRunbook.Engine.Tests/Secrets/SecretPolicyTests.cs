using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Secrets.Rotation;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Rotation policy, status, generation, configuration and the inventory snapshot.</summary>
public sealed class SecretPolicyTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static SecretDescription Describe(DateTimeOffset? rotated, IReadOnlyDictionary<string, string>? tags = null, int? rules = null,
        Dictionary<string, IReadOnlyList<string>>? versions = null) =>
        new("arn:aws:secretsmanager:us-east-1:1:secret:x", "x", rules is not null, rules, rotated, rotated, null, rotated, tags ?? new Dictionary<string, string>(),
            versions ?? new Dictionary<string, IReadOnlyList<string>> { ["v1"] = ["AWSCURRENT"] });

    [Theory]
    [InlineData(RotationStrategy.PostgresSingleUser, 30)]
    [InlineData(RotationStrategy.RedisAcl, 30)]
    [InlineData(RotationStrategy.Generic, 90)]
    public void Defaults_follow_runbook_000(RotationStrategy strategy, int days)
    {
        var s = SecretPolicy.Evaluate(Describe(Now.AddDays(-days - 1)), new ManagedSecretConfig { Name = "n", SecretId = "x", Strategy = strategy }, "production", Now);
        Assert.Equal(days, s.PolicyDays);
        Assert.Equal("default", s.PolicySource);
        Assert.Equal(SecretRotationState.Overdue, s.State);
        Assert.True(s.Overdue);
        Assert.Contains($"the policy is {days} days", s.Reason);
        var row = Assert.Single(s.ToReportRows());
        Assert.Equal(OpsRunbook.Engine.Reporting.ReportOutcome.Fail, row.Outcome);
        Assert.Equal("n", row.Name);
    }

    [Fact]
    public void Runbook_json_beats_tags_which_beat_rotation_rules()
    {
        var tags = new Dictionary<string, string> { ["rotation-days"] = "14" };
        var configured = new ManagedSecretConfig { Name = "db", SecretId = "x", RotationDays = 7 };
        Assert.Equal((7, "runbook.json"), Policy(SecretPolicy.Evaluate(Describe(Now, tags, 60), configured, null, Now)));
        Assert.Equal((14, "tag rotation-days"), Policy(SecretPolicy.Evaluate(Describe(Now, tags, 60), null, null, Now)));
        Assert.Equal((60, "rotation-rules"), Policy(SecretPolicy.Evaluate(Describe(Now, null, 60), null, null, Now)));
        Assert.Equal((90, "default"), Policy(SecretPolicy.Evaluate(Describe(Now, new Dictionary<string, string> { ["rotation-days"] = "soon" }), null, null, Now)));

        static (int, string) Policy(SecretRotationStatusInfo s) => (s.PolicyDays, s.PolicySource);
    }

    [Fact]
    public void Due_soon_current_and_interrupted_are_told_apart()
    {
        var cfg = new ManagedSecretConfig { Name = "db", SecretId = "x", RotationDays = 30 };
        Assert.Equal(SecretRotationState.DueSoon, SecretPolicy.Evaluate(Describe(Now.AddDays(-25)), cfg, null, Now).State);
        var current = SecretPolicy.Evaluate(Describe(Now.AddDays(-5)), cfg, null, Now);
        Assert.Equal(SecretRotationState.Current, current.State);
        Assert.Equal(Now.AddDays(25), current.NextDue);
        Assert.Equal(5, current.AgeDays);
        var interrupted = SecretPolicy.Evaluate(Describe(Now.AddDays(-5), versions: new() { ["v1"] = ["AWSCURRENT"], ["v2"] = ["AWSPENDING"] }), cfg, null, Now);
        Assert.Equal(SecretRotationState.Interrupted, interrupted.State);
        Assert.Contains("rerun Invoke-SecretRotation", interrupted.Reason);
        // AWSPENDING left on the current version: Secrets Manager's own rotation (rules set) may leave it after finishing;
        // this module's run removes it last, so without rules it is a run stopped after the move, and the login unverified.
        Assert.Equal(SecretRotationState.Current, SecretPolicy.Evaluate(Describe(Now.AddDays(-5), rules: 30, versions: new() { ["v1"] = ["AWSCURRENT", "AWSPENDING"] }), cfg, null, Now).State);
        var stopped = SecretPolicy.Evaluate(Describe(Now.AddDays(-5), versions: new() { ["v1"] = ["AWSCURRENT", "AWSPENDING"] }), cfg, null, Now);
        Assert.Equal(SecretRotationState.Interrupted, stopped.State);
        Assert.Contains("verify the login", stopped.Reason);
    }

    [Fact]
    public void Generated_values_are_url_safe_long_and_distinct()
    {
        var values = Enumerable.Range(0, 200).Select(_ => PasswordGenerator.Generate()).ToList();
        Assert.Equal(200, values.Distinct().Count());
        Assert.All(values, v =>
        {
            Assert.Equal(32, v.Length);
            Assert.Equal(v, Uri.EscapeDataString(v));
            Assert.Contains(v, char.IsDigit);
            Assert.Contains(v, char.IsLetter);
        });
        var noAmbiguous = PasswordGenerator.Generate(new PasswordPolicy { Length = 200, ExcludeCharacters = "0O1lI-_.~" });
        Assert.DoesNotContain(noAmbiguous, c => "0O1lI-_.~".Contains(c));
        Assert.Contains(PasswordGenerator.Generate(new PasswordPolicy { Length = 4096, IncludePunctuation = true }), c => "!#$%&()*+,/:;<=>?@[]^{|}".Contains(c));
    }

    [Theory]
    [InlineData(8, "", "16 to 4096")]
    [InlineData(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "leave at least 16")]
    public void A_weak_policy_is_refused_with_what_to_fix(int length, string exclude, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => PasswordGenerator.Generate(new PasswordPolicy { Length = length, ExcludeCharacters = exclude }));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_scram_verifier_has_postgres_format_and_depends_on_salt()
    {
        var salt = new byte[16];
        var a = ScramVerifier.Compute("pencil", salt, 4096);
        Assert.Matches(@"^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$", a);
        Assert.Equal(a, ScramVerifier.Compute("pencil", salt, 4096));
        Assert.NotEqual(a, ScramVerifier.Compute("pencil"));
        Assert.DoesNotContain("pencil", a);
        Assert.Throws<ArgumentException>(() => ScramVerifier.Compute("pässword"));
    }

    [Fact]
    public void Credentials_are_rewritten_in_their_own_format()
    {
        var url = RotatableCredential.Parse("postgres://app:old@db.internal:5433/paintbox?sslmode=require");
        Assert.Equal(("app", "old", "db.internal", 5433, "paintbox"), (url.Username, url.Password, url.Host, url.Port!.Value, url.Database));
        Assert.Equal("postgres://app:n3w@db.internal:5433/paintbox?sslmode=require", url.With("n3w"));
        Assert.Equal("postgres://app_clone:n3w@db.internal:5433/paintbox?sslmode=require", url.With("n3w", "app_clone"));
        var redis = RotatableCredential.Parse("rediss://:old@cache:6380/2");
        Assert.Equal("redis", redis.Engine);
        Assert.Equal("rediss://:n3w@cache:6380/2", redis.With("n3w"));
        var json = RotatableCredential.Parse("""{"engine":"postgres","host":"h","port":5432,"username":"u","password":"p","dbname":"d"}""");
        using var doc = JsonDocument.Parse(json.With("q", "u_clone"));
        Assert.Equal("q", doc.RootElement.GetProperty("password").GetString());
        Assert.Equal("u_clone", doc.RootElement.GetProperty("username").GetString());
        Assert.Equal(5432, doc.RootElement.GetProperty("port").GetInt32());
        Assert.Equal(SecretValueFormat.Plain, RotatableCredential.Parse("just-a-jwt-secret").Format);
        Assert.DoesNotContain("old", url.ToString());
    }

    [Fact]
    public void The_secrets_section_is_read_and_checked()
    {
        var config = RunbookConfigLoader.Parse("""
            { "system": "paintbox", "environments": { "production": { "secrets": {
                "database": { "secretId": "prod/paintbox/db", "strategy": "postgres-alternating-users", "adminSecret": "prod/paintbox/db-admin", "rotationDays": 30 },
                "redis": { "secretId": "prod/paintbox/redis", "strategy": "redis-acl", "length": 48, "persist": false },
                "jwt": { "secretId": "prod/paintbox/jwt", "strategy": "generic", "field": "secret", "rotationDays": 90, "excludeCharacters": "~" } } } } }
            """, "runbook.json");
        var s = config.GetEnvironment("production").Secrets;
        Assert.Equal(["database", "redis", "jwt"], s.Select(x => x.Name));
        Assert.Equal(RotationStrategy.PostgresAlternatingUsers, s[0].Strategy);
        Assert.Equal("prod/paintbox/db-admin", s[0].AdminSecretId);
        Assert.Equal(48, s[1].Password.Length);
        Assert.False(s[1].Persist);
        Assert.Equal("secret", s[2].Field);
        Assert.Equal(["redis"], SecretOperations.Select(config.GetEnvironment("production"), ["re*"]).Select(x => x.Name));
        var unknown = Assert.Throws<ArgumentException>(() => SecretOperations.Select(config.GetEnvironment("production"), ["stripe"]));
        Assert.Contains("it has database, redis, jwt", unknown.Message);

        var bad = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse("""
            { "system": "p", "environments": { "e": { "secrets": { "db": { "secretId": "x", "strategy": "postgres-alternating-users" } } } } }
            """, "runbook.json"));
        Assert.Equal("environments.e.secrets.db.adminSecret", bad.Field);
        var strategy = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse("""
            { "system": "p", "environments": { "e": { "secrets": { "db": { "secretId": "x", "strategy": "mysql" } } } } }
            """, "runbook.json"));
        Assert.Contains("postgres-single-user", strategy.Message);
    }

    private static (SecretsManagerClient client, SecretRedactor redactor) Client(FakeSecretsManager fake)
    {
        var keys = new Dictionary<string, string> { ["K"] = FakeSecretsManager.AccessKey, ["S"] = FakeSecretsManager.SecretKey };
        var redactor = new SecretRedactor();
        var settings = new AwsSettings { Region = FakeSecretsManager.Region, AccessKeyId = SecretValue.Parse("env:K"), SecretAccessKey = SecretValue.Parse("env:S"), SecretsManagerEndpoint = fake.Endpoint };
        return (new SecretsManagerClient(settings, new SecretResolver(redactor, keys.GetValueOrDefault), redactor), redactor);
    }

    [Fact]
    public async Task Status_covers_configured_and_listed_secrets_and_reports_a_missing_one_as_data()
    {
        await using var fake = await FakeSecretsManager.StartAsync();
        var old = DateTimeOffset.UtcNow.AddDays(-45).ToUnixTimeSeconds();
        fake.Add("prod/db", "postgres://u:p@h/d", lastRotated: old, rotationDays: null);
        fake.Add("prod/jwt", "j", tags: new Dictionary<string, string> { ["opsrunbook:rotation-days"] = "90" }, lastRotated: old, rotationDays: null);
        for (var i = 0; i < 120; i++) fake.Add($"prod/extra-{i:000}", "v");
        var (client, _) = Client(fake);
        var env = RunbookConfigLoader.Parse("""
            { "system": "p", "environments": { "production": { "secrets": {
              "database": { "secretId": "prod/db", "strategy": "postgres-single-user" }, "gone": { "secretId": "prod/gone" } } } } }
            """, "runbook.json").GetEnvironment("production");

        var status = await SecretOperations.StatusAsync(client, env, env.Secrets, "prod/", DateTimeOffset.UtcNow, TimeSpan.FromDays(7), Ct);
        var db = status.Single(s => s.SecretId == "prod/db");
        Assert.Equal(("database", 30, SecretRotationState.Overdue), (db.Name, db.PolicyDays, db.State));
        var gone = status.Single(s => s.SecretId == "prod/gone");
        Assert.Equal(SecretRotationState.Unknown, gone.State);
        Assert.Contains("ResourceNotFoundException", gone.Reason);
        var jwt = status.Single(s => s.SecretId == "prod/jwt");
        Assert.Equal((90, SecretRotationState.Current), (jwt.PolicyDays, jwt.State));
        // Every page was read (the fake starts with an empty page and pages by 100), configured ones not twice.
        Assert.Equal(2 + 1 + 120, status.Count);
        Assert.DoesNotContain(fake.Log, l => l.Operation == "GetSecretValue");
    }

    [Fact]
    public async Task The_inventory_holds_metadata_only_unless_values_are_asked_for_under_kms()
    {
        servers.Require();
        await using var fake = await FakeSecretsManager.StartAsync();
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        fake.Add("prod/db", $"postgres://u:{canary}@h/d", tags: new Dictionary<string, string> { ["team"] = "core" });
        fake.Add("prod/jwt", canary + "-jwt");
        fake.Add("staging/db", "other");
        var (client, redactor) = Client(fake);
        var secrets = await client.ListSecretsAsync("prod/", Ct);
        var content = await SecretInventory.BuildAsync(client, secrets, "production", includeValues: false, DateTimeOffset.UtcNow, Ct);
        var text = System.Text.Encoding.UTF8.GetString(content);
        Assert.DoesNotContain(canary, text);
        Assert.DoesNotContain(fake.Log, l => l.Operation == "GetSecretValue");
        using (var doc = JsonDocument.Parse(content))
        {
            Assert.Equal(["prod/db", "prod/jwt"], doc.RootElement.GetProperty("secrets").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
            Assert.Equal("core", doc.RootElement.GetProperty("secrets")[0].GetProperty("tags").GetProperty("team").GetString());
            Assert.False(doc.RootElement.GetProperty("includesValues").GetBoolean());
        }

        var aws = new AwsSettings
        {
            Region = "us-east-1", S3Endpoint = servers["OPSRUNBOOK_S3_ENDPOINT"],
            AccessKeyId = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"), SecretAccessKey = SecretValue.Parse("env:OPSRUNBOOK_S3_ACCESS_KEY"),
        };
        var resolver = new SecretResolver(redactor, servers.Lookup);
        var prefix = $"s3://{servers["OPSRUNBOOK_S3_BUCKET"]}/inventory-{Guid.NewGuid():N}/";
        var (where, encryption) = await SecretInventory.WriteAsync(prefix, "inv.json", content, false, null, new OperationContext(resolver, redactor) { Aws = aws, Cancellation = Ct });
        Assert.Equal(prefix + "inv.json", where);
        Assert.Equal("AES256", encryption);
        using var s3 = await S3ClientFactory.CreateAsync(aws, resolver, redactor, TimeSpan.FromSeconds(30), Ct);
        using (var got = await s3.GetObjectAsync(servers["OPSRUNBOOK_S3_BUCKET"], new BackupLocation(prefix).Prefix + "inv.json", Ct))
        using (var reader = new StreamReader(got.ResponseStream))
        {
            Assert.Equal(text, await reader.ReadToEndAsync(Ct));
        }

        // Values: only to S3 under a KMS key.
        var withValues = await SecretInventory.BuildAsync(client, secrets, "production", includeValues: true, DateTimeOffset.UtcNow, Ct);
        Assert.Contains(canary, System.Text.Encoding.UTF8.GetString(withValues));
        var noKey = await Assert.ThrowsAsync<ArgumentException>(() => SecretInventory.WriteAsync(prefix, "v.json", withValues, true, null, new OperationContext(resolver, redactor) { Aws = aws, Cancellation = Ct }));
        Assert.Contains("-KmsKeyId", noKey.Message);
        var local = await Assert.ThrowsAsync<ArgumentException>(() => SecretInventory.WriteAsync(Path.GetTempPath(), "v.json", withValues, true, "alias/dr", new OperationContext(resolver, redactor) { Aws = aws, Cancellation = Ct }));
        Assert.Contains("s3://", local.Message);
        var put = SecretInventory.BuildPut(new BackupLocation(prefix), "v.json", withValues, "alias/dr");
        Assert.Equal(ServerSideEncryptionMethod.AWSKMS, put.ServerSideEncryptionMethod);
        Assert.Equal("alias/dr", put.ServerSideEncryptionKeyManagementServiceKeyId);
    }
}
