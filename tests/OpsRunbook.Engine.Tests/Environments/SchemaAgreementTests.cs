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
    };

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
