using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>The Railway provider against the protocol fake of its GraphQL API.</summary>
public sealed class RailwayProviderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly SecretRedactor _redactor = new();

    private RailwayProvider Provider(FakeRailway fake, RailwayTokenKind kind = RailwayTokenKind.Project, string? token = null)
    {
        var p = new RailwayProvider(new RailwaySettings
        {
            ProjectId = FakeRailway.Project, ServiceId = FakeRailway.Service, EnvironmentId = FakeRailway.Environment, TokenKind = kind, Api = fake.Api,
            PollInterval = TimeSpan.FromMilliseconds(1), DeployTimeout = TimeSpan.FromSeconds(10),
        }, token ?? fake.Token, _redactor);
        p.Delay = (_, _) => Task.CompletedTask;
        return p;
    }

    private static async Task<FakeRailway> SeededAsync(string header = "Project-Access-Token", string token = "railway-project-token-0123")
    {
        var fake = await FakeRailway.StartAsync(header, token);
        fake.AddDeployment("REMOVED", true, "img:v1", 300);
        fake.AddDeployment("CRASHED", false, "img:v2", 200);
        fake.AddDeployment("REMOVED", true, "img:v3", 100);
        fake.AddDeployment("SUCCESS", true, "img:v4", 10);
        return fake;
    }

    [Theory]
    [InlineData(RailwayTokenKind.Project, "Project-Access-Token")]
    [InlineData(RailwayTokenKind.Team, "Authorization")] // railwayapp/cli src/client.rs: a workspace token is a Bearer token
    [InlineData(RailwayTokenKind.Account, "Authorization")]
    public async Task Each_token_kind_goes_in_its_own_header(RailwayTokenKind kind, string header)
    {
        await using var fake = await SeededAsync(header, "tok-" + kind);
        using var p = Provider(fake, kind, "tok-" + kind);
        Assert.Equal(4, (await p.GetReleasesAsync(10, Ct)).Count);
        Assert.All(fake.Agents, a => Assert.StartsWith("OpsRunbook/", a)); // User-Agent and x-source, as the CLI sends them
    }

    [Fact]
    public async Task A_refused_token_is_an_error_even_inside_http_200_and_never_shows_the_token()
    {
        await using var fake = await SeededAsync();
        using var p = Provider(fake, RailwayTokenKind.Project, "wrong-token-value");
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.GetReleasesAsync(10, Ct));
        Assert.Contains("Not Authorized", e.Message);
        Assert.Contains("tokenKind", e.Message);
        Assert.DoesNotContain("wrong-token-value", e.Message);
    }

    [Fact]
    public async Task Releases_follow_relay_pages_and_the_newest_success_is_current()
    {
        await using var fake = await FakeRailway.StartAsync();
        for (var i = 0; i < 120; i++) fake.AddDeployment("REMOVED", true, $"img:{i}", 1000 - i);
        fake.AddDeployment("SUCCESS", true, "img:live", 1);
        using var p = Provider(fake);
        var releases = await p.GetReleasesAsync(121, Ct);
        Assert.Equal(121, releases.Count);
        Assert.Equal(121, releases.Select(r => r.Id).Distinct().Count());
        Assert.True(releases[0].IsCurrent);
        Assert.Equal("img:live", releases[0].Image);
        Assert.Equal(3, fake.Log.Count); // pages of 50, 50, 21
    }

    [Fact]
    public async Task Rollback_uses_the_boolean_mutation_and_waits_for_success()
    {
        await using var fake = await SeededAsync();
        using var p = Provider(fake);
        var releases = await p.GetReleasesAsync(10, Ct);
        var target = ReleasePicker.Pick(releases, null, "railway");
        Assert.Equal("img:v3", target.Image); // v2 crashed and cannot be rolled back to
        var steps = new List<string>();
        Assert.Equal(1, await p.RollbackAsync(target, steps.Add, Ct));
        Assert.Contains(steps, s => s.EndsWith("is SUCCESS", StringComparison.Ordinal));
        Assert.Contains(fake.Log, l => l.Query.Contains("deploymentRollback(id: $id) }", StringComparison.Ordinal));
        var now = await p.GetInstancesAsync(Ct);
        Assert.Equal(("SUCCESS", "img:v3", InstanceHealth.Healthy), (now[0].State, now[0].Image, now[0].Health));
    }

    [Fact]
    public async Task A_rollback_that_crashes_is_an_error_naming_the_deployment()
    {
        await using var fake = await SeededAsync();
        fake.RollbacksCrash = true;
        using var p = Provider(fake);
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "railway");
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.RollbackAsync(target, _ => { }, Ct));
        Assert.Contains("ended CRASHED", e.Message);
        var status = await p.GetInstancesAsync(Ct);
        Assert.Equal(InstanceHealth.Unhealthy, status[0].Health);
    }

    [Fact]
    public async Task Rate_limits_wait_for_retry_after()
    {
        await using var fake = await SeededAsync();
        fake.Throttle(2);
        using var p = Provider(fake);
        var delays = new List<TimeSpan>();
        p.Delay = (d, _) => { delays.Add(d); return Task.CompletedTask; };
        Assert.Equal(4, (await p.GetReleasesAsync(10, Ct)).Count);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2)], delays);
    }

    [Fact]
    public async Task Only_deployments_railway_can_roll_back_to_are_picked()
    {
        await using var fake = await FakeRailway.StartAsync();
        fake.AddDeployment("CRASHED", false, "img:v1", 100);
        fake.AddDeployment("SUCCESS", true, "img:v2", 10);
        using var p = Provider(fake);
        var e = Assert.Throws<DeploymentNotPossibleException>(() => ReleasePicker.Pick(p.GetReleasesAsync(10, Ct).Result, null, "railway"));
        Assert.Contains("no earlier successful release", e.Message);
    }

    [Fact]
    public async Task Restart_restarts_the_running_deployment_and_stop_and_start_use_deploymentStop_and_redeploy()
    {
        await using var fake = await SeededAsync();
        using var p = Provider(fake);
        var r = await DeploymentOperations.ActAsync(p, "production", "Restart", true, false, _ => { }, Ct);
        Assert.Equal("Succeeded", r.Status);
        var running = (await p.GetReleasesAsync(10, Ct)).Single(x => x.IsCurrent);
        Assert.Equal([running.Id], fake.Restarted);
        // deploymentStop(id: String!): Boolean! is in Railway's schema (railwayapp/cli src/gql/schema.json).
        Assert.Equal("Succeeded", (await DeploymentOperations.ActAsync(p, "production", "Stop", true, false, _ => { }, Ct)).Status);
        Assert.Equal([running.Id], fake.Stopped);
        Assert.DoesNotContain(await p.GetReleasesAsync(10, Ct), x => x.IsCurrent);
        Assert.Equal("Succeeded", (await DeploymentOperations.ActAsync(p, "production", "Start", true, false, _ => { }, Ct)).Status);
        var started = (await p.GetReleasesAsync(10, Ct)).Single(x => x.IsCurrent);
        Assert.NotEqual(running.Id, started.Id);
        Assert.Equal(running.Image, started.Image); // the same image again, not a rebuild
    }

    [Fact]
    public async Task Variables_are_upserted_and_deploys_skipped_only_when_asked()
    {
        await using var fake = await SeededAsync();
        using var p = Provider(fake);
        await DeploymentOperations.SetSecretsAsync(p, "production", new Dictionary<string, string> { ["DATABASE_URL"] = "v1-value" }, true, false, _ => { }, Ct);
        await DeploymentOperations.SetSecretsAsync(p, "production", new Dictionary<string, string> { ["JWT_SECRET"] = "v2-value" }, false, false, _ => { }, Ct);
        Assert.Equal(("v1-value", false), fake.Variables["DATABASE_URL"]);
        Assert.Equal(("v2-value", true), fake.Variables["JWT_SECRET"]);
        // Several at once: one variableCollectionUpsert, so one redeploy and never half a set.
        await DeploymentOperations.SetSecretsAsync(p, "production", new Dictionary<string, string> { ["A"] = "1", ["B"] = "2", ["C"] = "3" }, true, false, _ => { }, Ct);
        Assert.Equal(3, fake.Upserts);
        Assert.Equal(("2", false), fake.Variables["B"]);
    }
}
