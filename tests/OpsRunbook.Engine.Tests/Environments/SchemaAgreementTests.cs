using System.Text.Json;
using Json.Schema;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// runbook.schema.json (what editors check as people type) and the loader (what the module accepts) are one truth: every
/// file of one corpus is valid for both or for neither. Add a case here with every new field or rule.
/// </summary>
public class SchemaAgreementTests
{
    private static readonly JsonSchema Schema = JsonSchema.FromFile(Path.Combine(TestServers.RepoRoot, "src", "OpsRunbook.Engine", "Environments", "runbook.schema.json"));

    /// <summary>A whole runbook.json around one environment's JSON.</summary>
    private static string Doc(string environment) => $$"""{ "system": "s", "environments": { "p": {{environment}} } }""";

    private static string Endpoint(string fields) => Doc($$"""{ "endpoints": [ { "name": "e", "url": "https://app.example/health"{{fields}} } ] }""");

    public static TheoryData<string, string> Corpus => new()
    {
        // Durations: digits, an optional fraction, a lower-case unit; greater than zero.
        { "5s", Endpoint(""", "timeout": "5s" """) },
        { "500ms", Endpoint(""", "timeout": "500ms" """) },
        { "1.5m", Endpoint(""", "timeout": "1.5m" """) },
        { "seconds as a number", Endpoint(""", "timeout": 10 """) },
        { "bare seconds as text", Endpoint(""", "timeout": "10" """) },
        { "upper-case unit 5S", Endpoint(""", "timeout": "5S" """) },
        { "leading dot .5s", Endpoint(""", "timeout": ".5s" """) },
        { "exponent 1e3", Endpoint(""", "timeout": "1e3" """) },
        { "zero 0s", Endpoint(""", "timeout": "0s" """) },
        { "zero number", Endpoint(""", "timeout": 0 """) },
        { "negative", Endpoint(""", "timeout": "-5s" """) },
        { "spaces", Endpoint(""", "timeout": " 5s" """) },
        // Names are spelled as the schema lists them.
        { "method GET", Endpoint(""", "method": "GET" """) },
        { "method get", Endpoint(""", "method": "get" """) },
        { "method Get", Endpoint(""", "method": "Get" """) },
        { "method DELETE", Endpoint(""", "method": "DELETE" """) },
        { "kind jwks", Endpoint(""", "kind": "jwks" """) },
        { "kind JWKS", Endpoint(""", "kind": "JWKS" """) },
        { "provider fly", Doc("""{ "deploy": { "provider": "fly", "app": "a", "token": "env:FLY_API_TOKEN" } }""") },
        { "provider Fly", Doc("""{ "deploy": { "provider": "Fly", "app": "a", "token": "env:FLY_API_TOKEN" } }""") },
        { "tokenKind team", Doc("""{ "deploy": { "provider": "railway", "project": "p", "service": "s", "environment": "e", "tokenKind": "team", "token": "env:RAILWAY_API_TOKEN" } }""") },
        { "tokenKind Team", Doc("""{ "deploy": { "provider": "railway", "project": "p", "service": "s", "environment": "e", "tokenKind": "Team", "token": "env:RAILWAY_API_TOKEN" } }""") },
        { "profile sentia", Doc("""{ "thresholdProfile": "sentia" }""") },
        { "profile Sentia", Doc("""{ "thresholdProfile": "Sentia" }""") },
        { "strategy redis-acl", Doc("""{ "secrets": { "redis": { "secretId": "prod/redis", "strategy": "redis-acl" } } }""") },
        { "strategy RedisAcl", Doc("""{ "secrets": { "redis": { "secretId": "prod/redis", "strategy": "RedisAcl" } } }""") },
        { "direction below", Doc("""{ "thresholds": { "uptime": { "warning": 99.9, "critical": 99, "direction": "below" } } }""") },
        { "direction Below", Doc("""{ "thresholds": { "uptime": { "warning": 99.9, "critical": 99, "direction": "Below" } } }""") },
        // Endpoint URLs: the schemes a check knows, in any case (RFC 3986 §3.1), or host:port for TCP.
        { "url https", Url("https://app.example/health") },
        { "url HTTPS upper case", Url("HTTPS://app.example/health") },
        { "url tcp", Url("tcp://db.internal:5432") },
        { "url host:port", Url("db.internal:5432") },
        { "url [::1]:6379", Url("[::1]:6379") },
        { "url dns", Url("dns://127.0.0.1/example.com?type=A") },
        { "url dns system resolver", Url("dns:///example.com") },
        { "url s3", Url("s3://bucket/prefix/") },
        { "url secretsmanager", Url("secretsmanager://prod/db") },
        { "url template host", Url("https://${APP_HOST}/health") },
        { "url template with default", Url("${APP_URL:-http://127.0.0.1:8080}/health") },
        { "url ftp", Url("ftp://files.example/") },
        { "url postgres in endpoints", Url("postgres://db.internal/app") },
        { "url redis in endpoints", Url("redis://cache.internal:6379") },
        { "url no scheme no port", Url("app.example/health") },
        { "url empty", Url("") },
        { "url spaces", Url("https://app.example/ health") },
        { "url typo htps", Url("htps://app.example/") },
        { "url host:port out of range", Url("db.internal:70000") },
        // Metrics and AWS endpoints: http(s) URLs with a host.
        { "metrics https", Doc("""{ "metrics": [ { "name": "m", "url": "https://app.example/metrics" } ] }""") },
        { "metrics template", Doc("""{ "metrics": [ { "name": "m", "url": "http://${HOST}:9090/metrics" } ] }""") },
        { "metrics tcp", Doc("""{ "metrics": [ { "name": "m", "url": "tcp://app.example:9090" } ] }""") },
        { "metrics no scheme", Doc("""{ "metrics": [ { "name": "m", "url": "app.example/metrics" } ] }""") },
        { "metrics no host", Doc("""{ "metrics": [ { "name": "m", "url": "http:///metrics" } ] }""") },
        { "database fly app", Doc("""{ "database": { "connection": "env:DATABASE_URL", "fly": { "app": "cardmint-db" } } }""") },
        { "database fly token and api", Doc("""{ "database": { "connection": "env:DATABASE_URL", "fly": { "app": "cardmint-db", "token": "env:FLY_DB_TOKEN", "machinesApi": "${FLY_API:-https://api.machines.dev}/v1" } } }""") },
        { "database fly without app", Doc("""{ "database": { "connection": "env:DATABASE_URL", "fly": { "token": "env:FLY_DB_TOKEN" } } }""") },
        { "database fly typo apps", Doc("""{ "database": { "connection": "env:DATABASE_URL", "fly": { "apps": "cardmint-db" } } }""") },
        { "database fly api not a URL", Doc("""{ "database": { "connection": "env:DATABASE_URL", "fly": { "app": "cardmint-db", "machinesApi": "api.machines.dev" } } }""") },
        { "s3Endpoint http", Doc("""{ "aws": { "s3Endpoint": "http://127.0.0.1:9000" } }""") },
        { "s3Endpoint template", Doc("""{ "aws": { "s3Endpoint": "${S3_ENDPOINT:-http://127.0.0.1:9000}" } }""") },
        { "s3Endpoint bare host", Doc("""{ "aws": { "s3Endpoint": "minio.internal:9000" } }""") },
        { "s3Endpoint s3 scheme", Doc("""{ "aws": { "s3Endpoint": "s3://bucket" } }""") },
        { "secretsManagerEndpoint https", Doc("""{ "aws": { "secretsManagerEndpoint": "https://secretsmanager.eu-west-1.amazonaws.com" } }""") },
        { "secretsManagerEndpoint mailto", Doc("""{ "aws": { "secretsManagerEndpoint": "mailto:ops@example.com" } }""") },
        // Connection settings: a reference, a template, or a literal of the right shape without a password.
        { "db env reference", Db("env:DATABASE_URL") },
        { "db aws reference", Db("secret:aws:prod/db#url") },
        { "db env reference lower case", Db("env:database_url") },
        { "db env reference with a dash", Db("env:DATABASE-URL") },
        { "db secret reference of unknown store", Db("secret:gcp:prod/db") },
        { "db postgres URL", Db("postgres://app@db.internal:5432/app") },
        { "db postgresql URL", Db("postgresql://app@db.internal/app?sslmode=verify-full") },
        { "db POSTGRES upper case", Db("POSTGRES://app@db.internal/app") },
        { "db key=value", Db("Host=db.internal;Username=app;Database=app") },
        { "db template password", Db("postgres://app:${DB_PASSWORD}@db.internal/app") },
        { "db URL with password", Db("postgres://app:hunter2@db.internal/app") },
        { "db key=value with password", Db("Host=db;Username=app;Password=hunter2") },
        { "db mysql URL", Db("mysql://app@db.internal/app") },
        { "db typo postgress", Db("postgress://app@db.internal/app") },
        { "db bare host", Db("db.internal") },
        { "db port not a number", Db("postgres://app@db.internal:five/app") },
        { "db replica mysql", Doc("""{ "database": { "connection": "env:DATABASE_URL", "replica": "mysql://r/app" } }""") },
        { "redis env reference", Redis("env:REDIS_URL") },
        { "redis URL", Redis("redis://cache.internal:6379/0") },
        { "redis TLS URL", Redis("rediss://cache.internal:6380") },
        { "redis template password", Redis("redis://default:${REDIS_PASSWORD}@cache.internal:6379") },
        { "redis URL with password", Redis("redis://default:hunter2@cache.internal:6379") },
        { "redis host:port", Redis("cache.internal:6379") },
        { "redis http URL", Redis("http://cache.internal:6379") },
        { "redis key=value", Redis("Host=cache;Port=6379") },
        // Notification targets: references only; objects for a webhook's secret and PagerDuty's keys.
        { "notify slack reference", Doc("""{ "notify": { "slack": "env:SLACK_WEBHOOK_URL" } }""") },
        { "notify slack literal", Doc("""{ "notify": { "slack": "https://hooks.slack.com/services/T0/B0/XYZ" } }""") },
        { "notify teams object", Doc("""{ "notify": { "teams": { "url": "env:TEAMS_WEBHOOK_URL" } } }""") },
        { "notify webhook signed", Doc("""{ "notify": { "webhook": { "url": "env:OPS_HOOK", "secret": "env:OPS_HOOK_SECRET" } } }""") },
        { "notify webhook literal secret", Doc("""{ "notify": { "webhook": { "url": "env:OPS_HOOK", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" } } }""") },
        { "notify webhook unknown field", Doc("""{ "notify": { "webhook": { "url": "env:OPS_HOOK", "token": "env:X" } } }""") },
        { "notify pagerduty key", Doc("""{ "notify": { "pagerduty": "env:PD_ROUTING_KEY" } }""") },
        { "notify pagerduty object", Doc("""{ "notify": { "pagerduty": { "routingKey": "env:PD_KEY", "changeRoutingKey": "env:PD_CHANGE", "endpoint": "https://events.eu.pagerduty.com" } } }""") },
        { "notify pagerduty no key", Doc("""{ "notify": { "pagerduty": { "endpoint": "https://events.eu.pagerduty.com" } } }""") },
        { "notify pagerduty endpoint not http", Doc("""{ "notify": { "pagerduty": { "routingKey": "env:PD_KEY", "endpoint": "events.pagerduty.com" } } }""") },
        { "notify email", Doc("""{ "notify": { "email": "env:OPS_EMAIL" } }""") },
        // Incidents: a folder and a profile spelled as listed.
        { "incidents folder and profile", Doc("""{ "incidents": { "path": "./incidents", "profile": "sentia" } }""") },
        { "incidents profile Sentia", Doc("""{ "incidents": { "profile": "Sentia" } }""") },
        { "incidents unknown profile", Doc("""{ "incidents": { "profile": "itil" } }""") },
        { "incidents on s3", Doc("""{ "incidents": { "path": "s3://ops-bucket/incidents/" } }""") },
        { "incidents on s3 bad bucket", Doc("""{ "incidents": { "path": "s3://ab/incidents/" } }""") },
        { "incidents empty path", Doc("""{ "incidents": { "path": "" } }""") },
    };

    private static string Url(string url) => Doc($$"""{ "endpoints": [ { "name": "e", "url": {{JsonSerializer.Serialize(url)}} } ] }""");

    private static string Db(string connection) => Doc($$"""{ "database": { "connection": {{JsonSerializer.Serialize(connection)}} } }""");

    private static string Redis(string connection) => Doc($$"""{ "redis": { "connection": {{JsonSerializer.Serialize(connection)}} } }""");

    /// <summary>What each of the URL and connection cases should be; the schema and the loader must both say it.</summary>
    public static TheoryData<string, bool> Intended => new()
    {
        { "url https", true },
        { "url HTTPS upper case", true },
        { "url tcp", true },
        { "url host:port", true },
        { "url [::1]:6379", true },
        { "url dns", true },
        { "url dns system resolver", true },
        { "url s3", true },
        { "url secretsmanager", true },
        { "url template host", true },
        { "url template with default", true },
        { "url ftp", false },
        { "url postgres in endpoints", false },
        { "url redis in endpoints", false },
        { "url no scheme no port", false },
        { "url empty", false },
        { "url spaces", false },
        { "url typo htps", false },
        { "url host:port out of range", false },
        { "metrics https", true },
        { "metrics template", true },
        { "metrics tcp", false },
        { "metrics no scheme", false },
        { "metrics no host", false },
        { "s3Endpoint http", true },
        { "s3Endpoint template", true },
        { "s3Endpoint bare host", false },
        { "s3Endpoint s3 scheme", false },
        { "secretsManagerEndpoint https", true },
        { "secretsManagerEndpoint mailto", false },
        { "db env reference", true },
        { "db aws reference", true },
        { "db env reference lower case", true },
        { "db env reference with a dash", false },
        { "db secret reference of unknown store", false },
        { "db postgres URL", true },
        { "db postgresql URL", true },
        { "db POSTGRES upper case", true },
        { "db key=value", true },
        { "db template password", true },
        { "db URL with password", false },
        { "db key=value with password", false },
        { "db mysql URL", false },
        { "db typo postgress", false },
        { "db bare host", false },
        { "db port not a number", false },
        { "db replica mysql", false },
        { "redis env reference", true },
        { "redis URL", true },
        { "redis TLS URL", true },
        { "redis template password", true },
        { "redis URL with password", false },
        { "redis host:port", false },
        { "redis http URL", false },
        { "redis key=value", false },
    };

    [Theory]
    [MemberData(nameof(Intended))]
    public void The_loader_accepts_exactly_the_intended_urls_and_connections(string name, bool valid)
    {
        var text = Corpus.Single(c => c.Data.Item1 == name).Data.Item2;
        string? loaderError = null;
        try
        {
            RunbookConfigLoader.Parse(text, "runbook.json");
        }
        catch (RunbookConfigException ex)
        {
            loaderError = ex.Message;
        }
        Assert.True(valid == (loaderError is null), $"{name}: should be {(valid ? "valid" : "invalid")}; the loader says {loaderError ?? "valid"}");
        if (loaderError is not null) Assert.DoesNotContain("hunter2", loaderError);
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void The_schema_and_the_loader_agree(string name, string text)
    {
        using var document = JsonDocument.Parse(text);
        var schemaValid = Schema.Evaluate(document.RootElement).IsValid;
        string? loaderError = null;
        try
        {
            RunbookConfigLoader.Parse(text, "runbook.json");
        }
        catch (RunbookConfigException ex)
        {
            loaderError = ex.Message;
        }
        Assert.True(schemaValid == (loaderError is null),
            $"{name}: the schema says {(schemaValid ? "valid" : "invalid")}, the loader {(loaderError is null ? "valid" : "invalid: " + loaderError)}");
    }

    [Fact]
    public void Plain_text_passwords_are_the_one_place_they_differ_on_purpose()
    {
        // "allowPlaintextSecrets": true lets the loader take a password in a throw-away sandbox's file; the schema has
        // no way to make a deep field depend on that top-level flag in draft-07, so it keeps flagging the password in
        // the editor, which is what such a file deserves.
        var text = """{ "system": "s", "allowPlaintextSecrets": true, "environments": { "p": { "database": { "connection": "postgres://app:hunter2@db/app" } } } }""";
        RunbookConfigLoader.Parse(text, "runbook.json");
        using var document = JsonDocument.Parse(text);
        Assert.False(Schema.Evaluate(document.RootElement).IsValid);
    }

    [Fact]
    public void A_near_miss_names_the_spelling_to_use()
    {
        var ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(Doc("""{ "deploy": { "provider": "Fly", "app": "a", "token": "env:FLY_API_TOKEN" } }"""), "runbook.json"));
        Assert.Contains("'Fly' is spelled 'fly'", ex.Message);
        ex = Assert.Throws<RunbookConfigException>(() => RunbookConfigLoader.Parse(Endpoint(""", "timeout": "5S" """), "runbook.json"));
        Assert.Contains("lower-case unit", ex.Message);
    }

    [Fact]
    public void The_sandbox_and_the_readme_runbooks_are_valid_for_both()
    {
        // JSON with comments is .jsonc (the sandbox file, the README block): a standard validator reads it with
        // comments skipped, as editors do for that extension.
        var sandbox = File.ReadAllText(Path.Combine(TestServers.RepoRoot, "examples", "runbook.sandbox.jsonc"));
        var readme = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Path.Combine(TestServers.RepoRoot, "README.md")),
            "```jsonc\n(\\{.*?\"environments\".*?)```", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        Assert.NotEmpty(readme);
        foreach (var (name, text) in new[] { ("examples/runbook.sandbox.jsonc", sandbox), ("the README's runbook.json", readme) })
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            var result = Schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            var errors = (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));
            Assert.True(result.IsValid, $"{name}: {string.Join("; ", errors)}");
            RunbookConfigLoader.Parse(text, name);
        }
    }
}
