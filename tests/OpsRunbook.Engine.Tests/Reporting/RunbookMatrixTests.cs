using System.Text.Json;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Tests;

public class RunbookMatrixTests
{
    private static IEnumerable<(string, string, string)> Envs(string system, string config, params string[] names) => names.Select(n => (n, system, config));

    [Fact]
    public void A_job_per_environment_as_githubs_include_list_and_azures_named_jobs()
    {
        var matrix = RunbookMatrix.Build(Envs("shop", "/ops/runbook.json", "prod-eu", "prod us", "9th"));
        using var github = JsonDocument.Parse(matrix.GitHub);
        var include = github.RootElement.GetProperty("include");
        Assert.Equal(["prod-eu", "prod us", "9th"], include.EnumerateArray().Select(e => e.GetProperty("environment").GetString()));
        Assert.False(include[0].TryGetProperty("system", out _));
        Assert.False(include[0].TryGetProperty("config", out _)); // one file: the job knows it
        using var azure = JsonDocument.Parse(matrix.Azure);
        // Azure's matrix job names: letters, digits, underscores, not starting with a digit.
        Assert.Equal(["prod_eu", "prod_us", "_9th"], azure.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal("prod us", azure.RootElement.GetProperty("prod_us").GetProperty("environment").GetString());
        Assert.DoesNotContain('\n', matrix.GitHub);
    }

    [Fact]
    public void Environments_share_jobs_only_within_their_system_and_file()
    {
        var matrix = RunbookMatrix.Build(Envs("shop", "/a.json", "p1", "p2", "p3").Concat(Envs("billing", "/b.json", "b1")), perJob: 2, includeSystem: true);
        Assert.Equal(["p1,p2", "p3", "b1"], matrix.Jobs.Select(j => j.Environment));
        Assert.Equal(["shop_p1_and_1_more", "shop_p3", "billing_b1"], matrix.Jobs.Select(j => j.Name));
        using var github = JsonDocument.Parse(matrix.GitHub);
        var last = github.RootElement.GetProperty("include")[2];
        Assert.Equal(("billing", "/b.json"), (last.GetProperty("system").GetString(), last.GetProperty("config").GetString()));
        Assert.Equal(4, matrix.Environments);
        Assert.Equal(["shop", "billing"], matrix.Systems);
    }

    [Fact]
    public void Job_names_stay_unique_and_environments_are_listed_once()
    {
        var matrix = RunbookMatrix.Build(Envs("s", "/a.json", "prod.eu", "prod-eu", "PROD.EU"));
        Assert.Equal(["prod_eu", "prod_eu_2"], matrix.Jobs.Select(j => j.Name));
    }

    [Fact]
    public void More_jobs_than_github_runs_is_refused_with_the_per_job_that_fits()
    {
        var many = Enumerable.Range(1, 600).Select(i => ($"env-{i}", "shop", "/a.json"));
        var ex = Assert.Throws<MatrixTooLargeException>(() => RunbookMatrix.Build(many));
        Assert.Contains("600 environments make 600 jobs", ex.Message);
        Assert.Contains("use -PerJob 3", ex.Message);
        Assert.Equal(200, RunbookMatrix.Build(many, perJob: 3).Jobs.Count);
        Assert.Equal(256, RunbookMatrix.Build(Enumerable.Range(1, 256).Select(i => ($"e{i}", "s", "/a.json"))).Jobs.Count);
        // Two systems round up separately: 255 + 3 environments need -PerJob 2 (128 + 2 jobs), not 1.
        var two = Enumerable.Range(1, 255).Select(i => ($"a{i}", "a", "/a.json")).Concat(Enumerable.Range(1, 3).Select(i => ($"b{i}", "b", "/b.json")));
        Assert.Contains("use -PerJob 2", Assert.Throws<MatrixTooLargeException>(() => RunbookMatrix.Build(two)).Message);
        Assert.Throws<ArgumentException>(() => RunbookMatrix.Build([]));
    }
}
