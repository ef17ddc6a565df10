using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.Engine.Tests;

public class RunbookConfigTests
{
    private const string Valid = """
        {
          "system": "paintbox",
          "environments": {
            "production": {
              "endpoints": [
                { "name": "simple", "url": "https://paintbox.example/api/simple-health", "timeout": "5s" },
                { "name": "deep", "url": "https://paintbox.example/api/health", "timeout": "10s",
                  "expect": [ "[STATUS] == 200", "[BODY].status == ok", "[RESPONSE_TIME] < 2000" ] },
                { "name": "tcp", "url": "tcp://paintbox.example:443", "timeout": "3s" }
              ],
              "database": { "connection": "secret:aws:prod/paintbox/db", "replica": "env:REPLICA_DATABASE_URL" },
              "redis": { "connection": "env:REDIS_URL" },
              "backup": { "destination": "s3://paintbox-backups/database/", "retention": { "days": 30 } },
              "deploy": { "provider": "fly", "app": "paintbox-app", "token": "env:FLY_API_TOKEN" },
              "thresholds": { "cpu": { "warning": 70, "critical": 85 } },
              "notify": { "slack": "secret:aws:prod/slack-webhook" }
            },
            "staging": { }
          }
        }
        """;

    [Fact]
    public void Reads_every_section_and_builds_targets()
    {
        var config = RunbookConfigLoader.Parse(Valid, "runbook.json");
        Assert.Equal("paintbox", config.System);
        var prod = config.GetEnvironment("PRODUCTION");
        Assert.Equal(3, prod.Endpoints.Count);
        Assert.Equal(TargetKind.Tcp, prod.Endpoints[2].Kind);
        Assert.Equal(TimeSpan.FromSeconds(10), prod.Endpoints[1].Timeout);
        Assert.Equal("secret:aws:prod/paintbox/db", prod.Database!.Connection.Display);
        Assert.Equal("fly", prod.Deploy!.Provider);
        Assert.Equal("paintbox-app", prod.Deploy.Settings["app"]);
        Assert.Equal(85, prod.Thresholds["cpu"].Critical);
        Assert.Equal(30, prod.Backup!.RetentionDays);

        var targets = prod.GetHealthCheckTargets();
        Assert.Equal(["simple", "deep", "tcp", "database", "database-replica", "redis"], targets.Select(t => t.Name));
        Assert.All(targets, t => Assert.Equal("production", t.Environment));
        Assert.Equal("replica", targets.Single(t => t.Name == "database-replica").ExpectedRole);
        Assert.Equal(TargetKind.Postgres, targets.Single(t => t.Name == "database").Kind);
        Assert.Equal(TargetKind.Redis, targets.Single(t => t.Name == "redis").Kind);
    }

    [Fact]
    public void The_sandbox_example_loads()
    {
        var config = RunbookConfigLoader.Load(Path.Combine(TestServers.RepoRoot, "examples", "runbook.sandbox.jsonc"));
        var targets = config.GetEnvironment("sandbox").GetHealthCheckTargets();
        Assert.Contains(targets, t => t.Name == "deep" && t.Conditions.Count == 4);
    }

    [Fact]
    public void Malformed_json_reports_file_line_and_column()
    {
        var text = "{\n  \"system\": \"x\",\n  \"environments\": { \"a\": { } \n  \"b\": 1\n}";
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "/etc/rb.json"));
        Assert.StartsWith("/etc/rb.json:4:", ex.Message);
        Assert.Equal(4, ex.Line);
    }

    [Fact]
    public void A_wrong_field_is_reported_with_its_line_path_and_a_suggestion()
    {
        var text = Valid.Replace("\"timeout\": \"10s\"", "\"timout\": \"10s\"", StringComparison.Ordinal);
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "runbook.json"));
        Assert.Equal("environments.production.endpoints[1].timout", ex.Field);
        Assert.Equal(7, ex.Line);
        Assert.Contains("did you mean 'timeout'", ex.Message);
        Assert.StartsWith("runbook.json:7:", ex.Message);
    }

    [Fact]
    public void A_fly_postgres_cluster_is_read_and_a_typo_in_it_named()
    {
        static RunbookConfig WithDb(string fly) => RunbookConfigLoader.Parse($$"""{ "system": "x", "environments": { "a": { "database": { "connection": "env:DATABASE_URL", "fly": { {{fly}} } } } } }""", "runbook.json");
        var fly = WithDb("\"app\": \"cardmint-db\", \"token\": \"env:FLY_DB_TOKEN\"").GetEnvironment("a").Database!.Fly!;
        Assert.Equal(("cardmint-db", "env:FLY_DB_TOKEN", null), (fly.App, fly.Token?.Display, fly.MachinesApi));
        var typo = Assert.Throws<RunbookConfigException>(() => WithDb("\"ap\": \"cardmint-db\""));
        Assert.Equal("environments.a.database.fly.ap", typo.Field);
        Assert.Contains("did you mean 'app'", typo.Message);
        var missing = Assert.Throws<RunbookConfigException>(() => WithDb("\"token\": \"env:FLY_DB_TOKEN\""));
        Assert.Equal("environments.a.database.fly.app", missing.Field);
    }

    [Fact]
    public void The_s3_request_limit_is_read_and_checked()
    {
        static RunbookConfig WithAws(string aws) => RunbookConfigLoader.Parse($$"""{ "system": "x", "environments": { "a": { "aws": { {{aws}} } } } }""", "runbook.json");
        Assert.Equal(TimeSpan.FromSeconds(30), WithAws("\"requestTimeout\": \"30s\"").GetEnvironment("a").Aws!.RequestTimeout);
        Assert.Null(WithAws("\"region\": \"eu-west-1\"").GetEnvironment("a").Aws!.RequestTimeout);
        var ex = Assert.Throws<RunbookConfigException>(() => WithAws("\"requestTimeout\": \"0s\""));
        Assert.Equal("environments.a.aws.requestTimeout", ex.Field);
    }

    [Fact]
    public void A_bad_value_is_reported_at_its_field()
    {
        var text = Valid.Replace("\"timeout\": \"3s\"", "\"timeout\": \"soon\"", StringComparison.Ordinal);
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "runbook.json"));
        Assert.Equal("environments.production.endpoints[2].timeout", ex.Field);
        Assert.Equal(9, ex.Line);
        Assert.Contains("not a duration", ex.Message);
    }

    [Fact]
    public void A_malformed_condition_is_reported_with_field_and_column()
    {
        var text = Valid.Replace("[RESPONSE_TIME] < 2000", "[RESPONSE_TIME] =< 2000", StringComparison.Ordinal);
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "runbook.json"));
        Assert.Equal("environments.production.endpoints[1].expect[2]", ex.Field);
        Assert.Contains("column 17", ex.Message);
    }

    [Fact]
    public void Plaintext_passwords_are_refused_without_being_echoed()
    {
        var text = Valid.Replace("secret:aws:prod/paintbox/db", "postgres://app:Sup3rSecret!@db:5432/app", StringComparison.Ordinal);
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "runbook.json"));
        Assert.Equal("environments.production.database.connection", ex.Field);
        Assert.Contains("plain-text secret", ex.Message);
        Assert.DoesNotContain("Sup3rSecret", ex.Message);

        var allowed = RunbookConfigLoader.Parse(text.Replace("\"system\"", "\"allowPlaintextSecrets\": true, \"system\"", StringComparison.Ordinal), "runbook.json");
        Assert.Equal("postgres://app:***@db:5432/app", allowed.GetEnvironment("production").Database!.Connection.Display);
    }

    [Fact]
    public void Webhooks_and_tokens_are_always_secrets()
    {
        var text = Valid.Replace("secret:aws:prod/slack-webhook", "https://hooks.slack.example/T000/B000/XXXX", StringComparison.Ordinal);
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "runbook.json"));
        Assert.Equal("environments.production.notify.slack", ex.Field);
        Assert.DoesNotContain("XXXX", ex.Message);
    }

    [Fact]
    public void A_malformed_reference_says_how_to_write_it()
    {
        var text = Valid.Replace("env:REDIS_URL", "env:", StringComparison.Ordinal);
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "runbook.json"));
        Assert.Equal("environments.production.redis.connection", ex.Field);
        Assert.Contains("env:NAME", ex.Message);
    }

    [Fact]
    public void An_unknown_environment_lists_the_known_ones()
    {
        var config = RunbookConfigLoader.Parse(Valid, "runbook.json");
        var ex = Assert.Throws<RunbookConfigException>(() => config.GetEnvironment("prod"));
        Assert.Contains("Known environments: production, staging", ex.Message);
    }

    [Fact]
    public void An_unknown_provider_lists_the_supported_ones()
    {
        var text = Valid.Replace("\"provider\": \"fly\"", "\"provider\": \"heroku\"", StringComparison.Ordinal);
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(text, "runbook.json"));
        Assert.Contains("fly, railway, compose, kubernetes", ex.Message);
    }

    [Fact]
    public void Locates_explicit_path_then_env_variable_then_current_directory()
    {
        var dir = Directory.CreateTempSubdirectory("opsrunbook-cfg").FullName;
        try
        {
            var local = Path.Combine(dir, "runbook.json");
            var other = Path.Combine(dir, "other.json");
            File.WriteAllText(local, Valid);
            File.WriteAllText(other, Valid);
            Assert.Equal(other, RunbookConfigLoader.Locate("other.json", dir, _ => local));
            Assert.Equal(other, RunbookConfigLoader.Locate(null, dir, n => n == RunbookConfigLoader.ConfigVariable ? other : null));
            Assert.Equal(local, RunbookConfigLoader.Locate(null, dir, _ => null));
            File.Delete(local);
            var none = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Locate(null, dir, _ => null));
            Assert.Contains("-ConfigPath", none.Message);
            Assert.Contains("OPSRUNBOOK_CONFIG", none.Message);
            Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Locate("missing.json", dir, _ => null));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Endpoint_urls_expand_environment_templates_when_targets_are_built()
    {
        var text = Valid.Replace("https://paintbox.example/api/simple-health", "${OPSRUNBOOK_TEST_BASE_7731:-http://127.0.0.1:9}/x", StringComparison.Ordinal);
        var env = RunbookConfigLoader.Parse(text, "runbook.json").GetEnvironment("production");
        Assert.Equal("http://127.0.0.1:9/x", env.GetHealthCheckTargets()[0].Address);
    }
}
