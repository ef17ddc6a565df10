using Microsoft.AspNetCore.Http;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>The Fly.io provider against the protocol fake of the Machines and GraphQL APIs.</summary>
public sealed class FlyProviderTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private FakeFly _fly = null!;
    private readonly SecretRedactor _redactor = new();

    public async ValueTask InitializeAsync()
    {
        _fly = await FakeFly.StartAsync();
        _fly.AddRelease(1, "registry.fly.io/paintbox-app:v1");
        _fly.AddRelease(2, "registry.fly.io/paintbox-app:v2", "failed");
        _fly.AddRelease(3, "registry.fly.io/paintbox-app:v3");
        _fly.AddRelease(4, "registry.fly.io/paintbox-app:v4");
        _fly.AddMachine("m1", "registry.fly.io/paintbox-app:v4", releaseVersion: 4);
        _fly.AddMachine("m2", "registry.fly.io/paintbox-app:v4", region: "lhr", releaseVersion: 4);
    }

    public async ValueTask DisposeAsync() => await _fly.DisposeAsync();

    private FlyProvider Provider(string? token = null, TimeSpan? machineTimeout = null) =>
        new(new FlySettings { App = _fly.App, MachinesApi = _fly.MachinesApi, GraphQl = _fly.GraphQl, MachineTimeout = machineTimeout ?? TimeSpan.FromSeconds(2) },
            token ?? _fly.Token, _redactor);

    [Theory]
    [InlineData("fm2_abc", "FlyV1 fm2_abc")]
    [InlineData("fm1r_abc", "FlyV1 fm1r_abc")]
    [InlineData("FlyV1 fm2_x,fm2_y", "FlyV1 fm2_x,fm2_y")]
    [InlineData("personal-token", "Bearer personal-token")]
    public void Tokens_get_the_scheme_flyctl_sends(string token, string header) =>
        Assert.Equal(header, FlyProvider.Authorization(token).ToString());

    [Fact]
    public async Task Status_lists_machines_with_health_image_region_and_release()
    {
        using var p = Provider();
        var instances = await p.GetInstancesAsync(Ct);
        Assert.Equal(["m1", "m2"], instances.Select(i => i.Id).Order());
        var m2 = instances.Single(i => i.Id == "m2");
        Assert.Equal(("started", InstanceHealth.Healthy, "lhr", "4", "app"), (m2.State, m2.Health, m2.Region, m2.ReleaseVersion, m2.Group));
        Assert.Equal("registry.fly.io/paintbox-app:v4", m2.Image);
        Assert.StartsWith("FlyV1 ", _fly.Log.First().Authorization);
    }

    [Fact]
    public async Task Releases_come_newest_first_with_the_running_one_marked()
    {
        using var p = Provider();
        var releases = await p.GetReleasesAsync(10, Ct);
        Assert.Equal([4, 3, 2, 1], releases.Select(r => r.Version!.Value));
        Assert.True(releases[0].IsCurrent);
        Assert.False(releases[2].Good);
        Assert.Equal("dev@example.com", releases[0].User);
        Assert.Equal(3, ReleasePicker.Pick(releases, null, "fly").Version);
        Assert.Equal(1, ReleasePicker.Pick(releases, "v1", "fly").Version);
        Assert.Contains("release v4 is the one running", Assert.Throws<ArgumentException>(() => ReleasePicker.Pick(releases, "4", "fly")).Message);
        // Piped releases name themselves by the provider's id; the message still says what the table shows.
        var current = releases.Single(r => r.IsCurrent);
        Assert.Contains("release v4 is the one running", Assert.Throws<ArgumentException>(() => ReleasePicker.Pick(releases, current.Id, "fly")).Message);
        Assert.Contains("no release 'v9'", Assert.Throws<ArgumentException>(() => ReleasePicker.Pick(releases, "v9", "fly")).Message);
    }

    [Fact]
    public async Task Rollback_goes_machine_by_machine_under_a_lease_and_releases_it()
    {
        using var p = Provider();
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "fly");
        var steps = new List<string>();
        var updated = await p.RollbackAsync(target, steps.Add, Ct);
        Assert.Equal(2, updated);
        foreach (var id in new[] { "m1", "m2" })
        {
            var m = _fly.Machine(id);
            Assert.Equal("registry.fly.io/paintbox-app:v3", m["config"]!["image"]!.GetValue<string>());
            Assert.Equal("3", m["config"]!["metadata"]!["fly_release_version"]!.GetValue<string>());
            Assert.Equal("8080", m["config"]!["env"]!["PORT"]!.GetValue<string>()); // the full config went back, not just the image
            Assert.False(_fly.Leased(id));
        }
        // One machine at a time: m1's lease is released before m2's is taken.
        var order = _fly.Log.Where(l => l.Path.Contains("/lease") || (l.Method == "POST" && !l.Path.Contains("/lease") && l.Path.Contains("/machines/"))).Select(l => $"{l.Method} {l.Path}").ToList();
        var firstRelease = order.FindIndex(x => x.StartsWith("DELETE") && x.Contains("/m1/"));
        var secondLease = order.FindIndex(x => x.StartsWith("POST") && x.Contains("/m2/lease"));
        Assert.True(firstRelease >= 0 && firstRelease < secondLease, string.Join("\n", order));
        Assert.Contains("machine m2 started", steps);
        Assert.True((await p.GetReleasesAsync(10, Ct)).Single(r => r.IsCurrent).Version == 3);
    }

    [Fact]
    public async Task No_previous_release_is_a_clear_error()
    {
        await using var fly = await FakeFly.StartAsync();
        fly.AddRelease(1, "img:v1");
        fly.AddMachine("m1", "img:v1");
        using var p = new FlyProvider(new FlySettings { App = fly.App, MachinesApi = fly.MachinesApi, GraphQl = fly.GraphQl }, fly.Token, _redactor);
        var e = Assert.Throws<DeploymentNotPossibleException>(() => ReleasePicker.Pick(p.GetReleasesAsync(10, Ct).Result, null, "fly"));
        Assert.Contains("no previous release", e.Message);
    }

    [Fact]
    public async Task A_machine_that_never_starts_fails_the_rollback_and_leaves_no_lease()
    {
        _fly.NeverStartsImage = "registry.fly.io/paintbox-app:v3";
        using var p = Provider(machineTimeout: TimeSpan.FromSeconds(1));
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "fly");
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.RollbackAsync(target, _ => { }, Ct));
        Assert.Contains("did not reach 'started'", e.Message);
        Assert.Contains("0 of 2 machines", e.Message);
        Assert.False(_fly.Leased("m1"));
        Assert.False(_fly.Leased("m2"));
        Assert.DoesNotContain(_fly.Log, l => l.Path.Contains("/m2/lease"));
    }

    [Fact]
    public async Task A_lease_held_elsewhere_stops_the_rollback_before_any_change()
    {
        _fly.HoldLease("m1");
        using var p = Provider();
        var waited = TimeSpan.Zero;
        p.Delay = (d, _) => { waited += d; return Task.CompletedTask; };
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "fly");
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.RollbackAsync(target, _ => { }, Ct));
        Assert.InRange(waited, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(70)); // fly-go waits out a held lease for a minute
        Assert.Equal(409, e.StatusCode);
        Assert.Contains("leased by someone else", e.Message);
        Assert.Equal("registry.fly.io/paintbox-app:v4", _fly.Machine("m1")["config"]!["image"]!.GetValue<string>());
        Assert.True(_fly.Leased("m1")); // not ours to release
    }

    [Fact]
    public async Task A_lease_held_for_a_moment_is_waited_for()
    {
        // Short leases are fly-proxy's or a finishing deploy's (provider-apis.md): a 409 is not the end.
        _fly.HoldLease("m1", releaseAfterAttempts: 3);
        using var p = Provider();
        var delays = new List<TimeSpan>();
        p.Delay = (d, _) => { delays.Add(d); return Task.CompletedTask; };
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "fly");
        Assert.Equal(2, await p.RollbackAsync(target, _ => { }, Ct));
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], delays);
        Assert.Equal(target.Image, _fly.Machine("m1")["config"]!["image"]!.GetValue<string>());
    }

    [Fact]
    public async Task Only_app_machines_are_acted_on_and_stopped_ones_stay_stopped()
    {
        // fly-go ListFlyAppsMachines: Fly Launch (v2) machines, not the release-command or console machines.
        _fly.AddSpecialMachine("rc", "registry.fly.io/paintbox-app:v4", "fly_app_release_command");
        _fly.AddSpecialMachine("con", "registry.fly.io/paintbox-app:v4", "fly_app_console");
        _fly.AddSpecialMachine("raw", "registry.fly.io/paintbox-app:v4", null);
        _fly.AddMachine("m3", "registry.fly.io/paintbox-app:v4", releaseVersion: 4, state: "stopped");
        using var p = Provider();
        Assert.Equal(["m1", "m2", "m3"], (await p.GetInstancesAsync(Ct)).Select(i => i.Id).Order());
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "fly");
        var steps = new List<string>();
        Assert.Equal(3, await p.RollbackAsync(target, steps.Add, Ct));
        foreach (var other in new[] { "rc", "con", "raw" })
        {
            Assert.Equal("registry.fly.io/paintbox-app:v4", _fly.Machine(other)["config"]!["image"]!.GetValue<string>());
            Assert.DoesNotContain(_fly.Log, l => l.Path.Contains($"/{other}/lease", StringComparison.Ordinal));
        }
        var m3 = _fly.Machine("m3");
        Assert.Equal((target.Image, "stopped"), (m3["config"]!["image"]!.GetValue<string>(), m3["state"]!.GetValue<string>()));
        Assert.Contains("machine m3 updated to " + target.Image + " (left stopped)", steps);
        Assert.DoesNotContain(_fly.Log, l => l.Path.Contains("/m3/wait", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rate_limits_and_server_errors_are_retried_honouring_retry_after()
    {
        _fly.Fail("/machines", 429, count: 2, retryAfterSeconds: 7);
        using var p = Provider();
        var delays = new List<TimeSpan>();
        p.Delay = (d, _) => { delays.Add(d); return Task.CompletedTask; };
        Assert.Equal(2, (await p.GetInstancesAsync(Ct)).Count);
        Assert.Equal([TimeSpan.FromSeconds(7), TimeSpan.FromSeconds(7)], delays);
        _fly.Fail("/machines", 503, count: 1);
        Assert.Equal(2, (await p.GetInstancesAsync(Ct)).Count);
        Assert.Equal(3, delays.Count); // without Retry-After: exponential backoff from 200 ms
        _fly.Fail("/machines", 503, count: 9);
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.GetInstancesAsync(Ct));
        Assert.Equal(503, e.StatusCode);
    }

    [Fact]
    public async Task A_refused_token_says_what_to_set_and_never_shows_the_token()
    {
        var wrong = "fm2_wrong-" + Guid.NewGuid().ToString("N");
        using var p = Provider(wrong);
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.GetInstancesAsync(Ct));
        Assert.Equal(401, e.StatusCode);
        Assert.Contains("fly tokens create deploy", e.Message);
        Assert.DoesNotContain(wrong, e.Message);
    }

    /// <summary>An app whose health endpoint is healthy only while machine m1 runs <paramref name="goodImage"/>.</summary>
    private async Task<FakeHttpServer> AppAsync(string goodImage) => await FakeHttpServer.StartAsync(async (ctx, _) =>
    {
        var healthy = _fly.Machine("m1")["config"]!["image"]!.GetValue<string>() == goodImage;
        ctx.Response.StatusCode = healthy ? 200 : 503;
        await ctx.Response.WriteAsync(healthy ? "ok" : "broken");
    });

    [Fact]
    public async Task Rollback_waits_for_the_environment_health_checks()
    {
        await using var app = await AppAsync("registry.fly.io/paintbox-app:v3");
        using var p = Provider();
        var targets = new[] { new HealthCheckTarget { Name = "simple", Address = app.BaseUrl + "/health" } };
        var r = await DeploymentOperations.RollbackAsync(p, "production", null, false, targets, new SecretResolver(_redactor), TimeSpan.FromSeconds(20), _ => { }, Ct);
        Assert.Equal("Succeeded", r.Status);
        Assert.Equal((4, 3), (r.From!.Version, r.To.Version));
        Assert.Equal(2, r.InstancesUpdated);
        Assert.Contains(r.Steps, s => s.StartsWith("health round 1: 1 of 1 healthy", StringComparison.Ordinal));
        Assert.Equal(HealthStatus.Healthy, r.FinalHealth);
        Assert.Empty(r.FinalFailing);
    }

    [Fact]
    public async Task A_rollback_whose_health_never_passes_is_a_timeout_naming_what_fails()
    {
        await using var app = await AppAsync("registry.fly.io/paintbox-app:never");
        using var p = Provider();
        var targets = new[] { new HealthCheckTarget { Name = "simple", Address = app.BaseUrl + "/health" } };
        var e = await Assert.ThrowsAsync<HealthWaitTimeoutException>(() =>
            DeploymentOperations.RollbackAsync(p, "production", null, false, targets, new SecretResolver(_redactor), TimeSpan.FromSeconds(2), _ => { }, Ct));
        Assert.Contains("simple", e.Message);
        Assert.False(_fly.Leased("m1"));
    }

    [Fact]
    public async Task WhatIf_plans_from_reads_only()
    {
        using var p = Provider();
        var r = await DeploymentOperations.RollbackAsync(p, "production", "v1", true, null, new SecretResolver(_redactor), TimeSpan.FromSeconds(1), _ => { }, Ct);
        Assert.Equal("Planned", r.Status);
        Assert.Equal(1, r.To.Version);
        Assert.All(_fly.Log, l => Assert.True(l.Method == "GET" || l.Path == "/graphql", $"{l.Method} {l.Path}"));
        Assert.Equal("registry.fly.io/paintbox-app:v4", _fly.Machine("m1")["config"]!["image"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_provider_comes_from_runbook_json_with_its_token_resolved()
    {
        var config = OpsRunbook.Engine.Environments.RunbookConfigLoader.Parse($$"""
            { "system": "paintbox", "environments": {
              "production": { "deploy": { "provider": "fly", "app": "{{_fly.App}}", "token": "env:T_FLY_TOKEN",
                                          "machinesApi": "{{_fly.MachinesApi}}", "graphqlApi": "{{_fly.GraphQl}}" } },
              "staging": { "deploy": { "provider": "railway", "project": "p", "service": "s", "environment": "e", "tokenKind": "team", "token": "env:T_RAILWAY" } },
              "local": { "deploy": { "provider": "compose", "file": "docker-compose.yml", "service": "app" } },
              "cluster": { "deploy": { "provider": "kubernetes", "namespace": "shop", "deployment": "app" } },
              "bare": { } } }
            """, "runbook.json");
        var env = new Dictionary<string, string> { ["T_FLY_TOKEN"] = _fly.Token, ["T_RAILWAY"] = "team-token-value" };
        var resolver = new SecretResolver(_redactor, env.GetValueOrDefault);
        var provider = await DeploymentOperations.ProviderAsync(config.GetEnvironment("production"), new OperationContext(resolver, _redactor) { Cancellation = Ct });
        using (provider as IDisposable)
        {
            var instances = await DeploymentOperations.StatusAsync(provider, "production", Ct);
            Assert.All(instances, i => Assert.Equal("production", i.Environment));
        }
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => DeploymentOperations.ProviderAsync(config.GetEnvironment("bare"), new OperationContext(resolver, _redactor) { Cancellation = Ct }));
        Assert.Contains("has no \"deploy\"", missing.Message);
        using (var railway = await DeploymentOperations.ProviderAsync(config.GetEnvironment("staging"), new OperationContext(resolver, _redactor) { Cancellation = Ct }) as IDisposable)
        {
            Assert.IsType<RailwayProvider>(railway);
        }
        var compose = await DeploymentOperations.ProviderAsync(config.GetEnvironment("local"), new OperationContext(resolver, _redactor) { Cancellation = Ct }, "/srv/shop/runbook.json");
        Assert.IsType<ComposeProvider>(compose);
        var cluster = await DeploymentOperations.ProviderAsync(config.GetEnvironment("cluster"), new OperationContext(resolver, _redactor) { Cancellation = Ct });
        Assert.IsType<KubernetesProvider>(cluster);
        // The token is registered for redaction.
        Assert.Equal("***", _redactor.Scrub(_fly.Token));
    }

    /// <summary>An app failing the rounds listed (1-based), healthy otherwise; a virtual clock that each wait advances.</summary>
    private static async Task<(FakeHttpServer app, WatchOptions options)> WatchedAsync(int[] failingRounds, bool autoRollback, TimeSpan duration)
    {
        var round = 0;
        var app = await FakeHttpServer.StartAsync(async (ctx, _) =>
        {
            var n = Interlocked.Increment(ref round);
            ctx.Response.StatusCode = failingRounds.Contains(n) ? 503 : 200;
            await ctx.Response.WriteAsync("x");
        });
        var clock = TimeSpan.Zero;
        var options = new WatchOptions
        {
            Duration = duration, Interval = TimeSpan.FromSeconds(30), FailureThreshold = 3, AutoRollback = autoRollback, RollbackTimeout = TimeSpan.FromSeconds(5),
            Elapsed = () => clock, Delay = (d, _) => { clock += d; return Task.CompletedTask; },
        };
        return (app, options);
    }

    [Fact]
    public async Task Watch_rolls_back_after_exactly_three_unhealthy_rounds()
    {
        var (app, options) = await WatchedAsync([2, 3, 4], autoRollback: true, TimeSpan.FromMinutes(15));
        await using var _ = app;
        using var p = Provider();
        var rounds = new List<WatchRound>();
        var verdict = await DeploymentWatch.RunAsync([new HealthCheckTarget { Name = "app", Address = app.BaseUrl + "/" }], options, p, "production",
            new SecretResolver(_redactor), rounds.Add, _ => { }, Ct);
        Assert.Equal("RolledBack", verdict.Verdict);
        Assert.Equal(4, verdict.Rounds);
        Assert.Equal([0, 1, 2, 3], rounds.Select(r => r.ConsecutiveFailures));
        Assert.Equal(3, verdict.Rollback!.To.Version);
        // The whole output of Watch-Deployment goes into Export-RunbookReport.
        var report = new OpsRunbook.Engine.Reporting.ReportWriter();
        foreach (var r in rounds) report.Add(r);
        report.Add(verdict);
        report.Add(verdict.Rollback);
        var md = report.Write(OpsRunbook.Engine.Reporting.ReportFormat.Markdown, "watch", DateTimeOffset.UtcNow);
        Assert.Equal(1, md.Failed);
        Assert.Contains("RolledBack", md.Content);
        Assert.Equal("registry.fly.io/paintbox-app:v3", _fly.Machine("m1")["config"]!["image"]!.GetValue<string>());
    }

    [Fact]
    public async Task Watch_that_rolls_back_into_a_still_broken_environment_returns_a_verdict_not_an_exception()
    {
        // Every round fails, also after the rollback: the verdict comes (as data) once the rollback timeout has passed.
        var (app, options) = await WatchedAsync(Enumerable.Range(1, 1000).ToArray(), autoRollback: true, TimeSpan.FromMinutes(15));
        await using var _ = app;
        using var p = Provider();
        var verdict = await DeploymentWatch.RunAsync([new HealthCheckTarget { Name = "app", Address = app.BaseUrl + "/" }], options with { RollbackTimeout = TimeSpan.FromSeconds(2) }, p,
            "production", new SecretResolver(_redactor), _ => { }, _ => { }, Ct);
        Assert.Equal("RolledBackUnhealthy", verdict.Verdict);
        Assert.Equal(HealthStatus.Unhealthy, verdict.Rollback!.FinalHealth);
        Assert.Contains("not healthy within 2s", verdict.Reason);
        Assert.Contains("app:", verdict.Reason);
    }

    [Fact]
    public async Task Watch_does_not_roll_back_after_two_and_a_healthy_round_resets_the_count()
    {
        var (app, options) = await WatchedAsync([2, 3, 5, 6], autoRollback: true, TimeSpan.FromMinutes(5));
        await using var _ = app;
        using var p = Provider();
        var rounds = new List<WatchRound>();
        var verdict = await DeploymentWatch.RunAsync([new HealthCheckTarget { Name = "app", Address = app.BaseUrl + "/" }], options, p, "production",
            new SecretResolver(_redactor), rounds.Add, _ => { }, Ct);
        Assert.Equal("Healthy", verdict.Verdict);
        Assert.Equal(10, verdict.Rounds); // 5 minutes at 30 s
        Assert.Equal(4, verdict.FailedRounds);
        Assert.Equal(2, rounds.Max(r => r.ConsecutiveFailures));
        Assert.Null(verdict.Rollback);
        Assert.DoesNotContain(_fly.Log, l => l.Method == "POST" && l.Path != "/graphql");
    }

    [Fact]
    public async Task Watch_without_auto_rollback_reports_unhealthy_and_changes_nothing()
    {
        var (app, options) = await WatchedAsync([1, 2, 3], autoRollback: false, TimeSpan.FromMinutes(15));
        await using var _ = app;
        var verdict = await DeploymentWatch.RunAsync([new HealthCheckTarget { Name = "app", Address = app.BaseUrl + "/" }], options, null, "production",
            new SecretResolver(_redactor), _ => { }, _ => { }, Ct);
        Assert.Equal(("Unhealthy", 3), (verdict.Verdict, verdict.Rounds));
        Assert.Contains("threshold 3", verdict.Reason);
        Assert.Equal(OpsRunbook.Engine.Reporting.ReportOutcome.Fail, verdict.ToReportRows().Single().Outcome);
    }

    [Fact]
    public async Task Stop_start_and_rolling_restart_hold_each_machines_lease_and_release_it()
    {
        using var p = Provider();
        var stop = await DeploymentOperations.ActAsync(p, "production", "Stop", true, false, _ => { }, Ct);
        Assert.Equal(2, stop.Instances);
        Assert.All(await p.GetInstancesAsync(Ct), i => Assert.Equal(InstanceHealth.Stopped, i.Health));
        var start = await DeploymentOperations.ActAsync(p, "production", "Start", true, false, _ => { }, Ct);
        Assert.Equal(2, start.Instances);
        Assert.All(await p.GetInstancesAsync(Ct), i => Assert.Equal(InstanceHealth.Healthy, i.Health));
        var restart = await DeploymentOperations.ActAsync(p, "production", "Restart", true, false, _ => { }, Ct);
        Assert.Equal(["machine m1 restarted", "machine m2 restarted"], restart.Steps.Order());
        Assert.False(_fly.Leased("m1") || _fly.Leased("m2"));
        // Rolling: m1 is back (waited for) before m2 is touched.
        var log = _fly.Log.Select(l => $"{l.Method} {l.Path}").ToList();
        Assert.True(log.FindLastIndex(l => l.Contains("/m1/wait")) < log.FindLastIndex(l => l.Contains("/m2/restart")), string.Join("\n", log));
    }

    [Fact]
    public async Task WhatIf_for_actions_only_reads()
    {
        using var p = Provider();
        var plan = await DeploymentOperations.ActAsync(p, "production", "Stop", true, true, _ => { }, Ct);
        Assert.Equal(("Planned", 2), (plan.Status, plan.Instances));
        Assert.All(_fly.Log, l => Assert.Equal("GET", l.Method));
    }

    [Fact]
    public async Task Scale_count_copies_a_machine_config_and_destroys_surplus_under_a_lease()
    {
        using var p = Provider();
        var up = await DeploymentOperations.ScaleAsync(p, "production", new ScaleRequest(3, null, "lhr"), false, _ => { }, Ct);
        Assert.Equal(4, up.Instances); // lhr had 1 (m2): two more there
        var lhr = (await p.GetInstancesAsync(Ct)).Where(i => i.Region == "lhr").ToList();
        Assert.Equal(3, lhr.Count);
        Assert.All(lhr, i => Assert.Equal("registry.fly.io/paintbox-app:v4", i.Image));
        var down = await DeploymentOperations.ScaleAsync(p, "production", new ScaleRequest(1, null, "lhr"), false, _ => { }, Ct);
        Assert.Equal(2, down.Instances);
        Assert.Contains(_fly.Log, l => l.Method == "DELETE" && l.Path.Contains("?kill=true", StringComparison.Ordinal));
        Assert.Contains((await p.GetInstancesAsync(Ct)), i => i.Id == "m1"); // iad untouched
    }

    [Fact]
    public async Task Scale_counts_the_app_group_only_refuses_volume_copies_and_never_retries_a_create()
    {
        _fly.AddMachine("w1", "registry.fly.io/paintbox-app:v4", releaseVersion: 4, group: "worker");
        using var p = Provider();
        p.Delay = (_, _) => Task.CompletedTask;
        // Down to 1: another group's machine is neither counted nor destroyed.
        Assert.Equal(1, await p.ScaleAsync(new ScaleRequest(1, null, null), _ => { }, Ct));
        Assert.Equal("worker", _fly.Machine("w1")["config"]!["metadata"]!["fly_process_group"]!.GetValue<string>());
        // A create that fails with a 5xx may have created the machine: not retried.
        _fly.Fail($"/v1/apps/{_fly.App}/machines", 503, count: 1, method: "POST");
        var before = _fly.Log.Count(l => l.Method == "POST" && l.Path == $"/v1/apps/{_fly.App}/machines");
        await Assert.ThrowsAsync<DeploymentProviderException>(() => p.ScaleAsync(new ScaleRequest(2, null, null), _ => { }, Ct));
        Assert.Equal(before + 1, _fly.Log.Count(l => l.Method == "POST" && l.Path == $"/v1/apps/{_fly.App}/machines"));
        // A volume mount cannot be copied to a new machine (one volume, one machine): flyctl creates volumes.
        foreach (var i in await p.GetInstancesAsync(Ct)) _fly.Mount(i.Id);
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.ScaleAsync(new ScaleRequest(5, null, null), _ => { }, Ct));
        Assert.Contains("fly scale count 5", e.Message);
    }

    [Fact]
    public async Task Scale_memory_updates_each_machine_in_turn()
    {
        using var p = Provider();
        var r = await DeploymentOperations.ScaleAsync(p, "production", new ScaleRequest(null, 1024, null), false, _ => { }, Ct);
        Assert.Equal(2, r.Instances);
        Assert.Equal(1024, _fly.Machine("m1")["config"]!["guest"]!["memory_mb"]!.GetValue<int>());
        Assert.Equal("shared", _fly.Machine("m2")["config"]!["guest"]!["cpu_kind"]!.GetValue<string>());
        Assert.False(_fly.Leased("m1") || _fly.Leased("m2"));
        var plan = await DeploymentOperations.ScaleAsync(p, "production", new ScaleRequest(5, null, null), true, _ => { }, Ct);
        Assert.Equal("Planned", plan.Status);
        Assert.Equal(2, (await p.GetInstancesAsync(Ct)).Count);
    }

    [Fact]
    public async Task Secrets_are_set_through_the_machines_api_and_each_machine_gets_that_secrets_version_as_its_floor()
    {
        using var p = Provider();
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        var r = await DeploymentOperations.SetSecretsAsync(p, "production", new Dictionary<string, string> { ["DATABASE_URL"] = canary }, true, false, _ => { }, Ct);
        Assert.Equal(canary, _fly.Secrets["DATABASE_URL"]);
        Assert.Contains(r.Steps, s => s == "machine m1 restarted with secrets version 1");
        // Not a plain restart: each machine was updated, under its lease, with min_secrets_version (flyctl's way).
        Assert.Equal(1L, _fly.Machine("m1")["secrets_version"]!.GetValue<long>());
        Assert.Equal(1L, _fly.Machine("m2")["secrets_version"]!.GetValue<long>());
        Assert.DoesNotContain(_fly.Log, l => l.Path.EndsWith("/restart", StringComparison.Ordinal));
        Assert.DoesNotContain(_fly.Log, l => l.Path == "/graphql" && l.Body.Contains("setSecrets", StringComparison.Ordinal));
        Assert.DoesNotContain(canary, string.Join("|", r.Steps) + r);
        var plan = await DeploymentOperations.SetSecretsAsync(p, "production", new Dictionary<string, string> { ["OTHER"] = "x" }, true, true, _ => { }, Ct);
        Assert.Equal("Planned", plan.Status);
        Assert.False(_fly.Secrets.ContainsKey("OTHER"));
    }

    [Fact]
    public async Task A_rotated_secret_is_pushed_from_secrets_manager_without_leaving_the_engine()
    {
        await using var sm = await FakeSecretsManager.StartAsync();
        var value = "postgres://app:" + Guid.NewGuid().ToString("N") + "@db/app";
        sm.Add("prod/db", value);
        var keys = new Dictionary<string, string> { ["K"] = FakeSecretsManager.AccessKey, ["S"] = FakeSecretsManager.SecretKey };
        using var client = new OpsRunbook.Engine.Clients.Aws.SecretsManagerClient(new OpsRunbook.Engine.Clients.Aws.AwsSettings
        {
            Region = FakeSecretsManager.Region, AccessKeyId = SecretValue.Parse("env:K"), SecretAccessKey = SecretValue.Parse("env:S"), SecretsManagerEndpoint = sm.Endpoint,
        }, new SecretResolver(_redactor, keys.GetValueOrDefault), _redactor);
        using var p = Provider();
        var r = await DeploymentOperations.PushSecretAsync(p, "production", client, "prod/db", "DATABASE_URL", false, _ => { }, Ct);
        Assert.Equal(("Succeeded", 1), (r.Status, r.Instances));
        Assert.Equal(value, _fly.Secrets["DATABASE_URL"]);
        Assert.DoesNotContain(value, string.Join("|", r.Steps));
    }
}
