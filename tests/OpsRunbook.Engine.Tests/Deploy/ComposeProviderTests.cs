using OpsRunbook.Engine.Deploy;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// The Compose provider against a fake `docker` executable that records its arguments and environment and answers
/// `compose ps --format json` in each of Compose's three historical shapes.
/// </summary>
public sealed class ComposeProviderTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("opsrunbook-compose").FullName;

    public ComposeProviderTests()
    {
        // The fake: ps prints the service's container with the image tag last deployed (file "tag"), in the shape of
        // file "shape"; up records APP_TAG (or fails when "up.fail" exists, as --wait does for an unhealthy container).
        File.WriteAllText(Path.Combine(_dir, "docker"), """
            #!/usr/bin/env bash
            here=$(cd "$(dirname "$0")" && pwd)
            printf '%s|APP_TAG=%s\n' "$*" "${APP_TAG:-}" >> "$here/calls.log"
            tag=$(cat "$here/tag")
            state=$(cat "$here/state" 2>/dev/null || echo running)
            count=$(cat "$here/count" 2>/dev/null || echo 2)
            row() { printf '{"ID":"c%s","Name":"shop-app-%s","Service":"app","Project":"shop","Image":"registry.example/app:%s","State":"%s","Status":"Up 5 minutes","Health":"healthy","ExitCode":0,"Publishers":[]}' "$1" "$1" "$tag" "$state"; }
            case " $* " in
              *" ps "*)
                case "$(cat "$here/shape")" in
                  ndjson) for i in $(seq 1 "$count"); do row "$i"; printf '\n'; done ;;
                  array) printf '['; for i in $(seq 1 "$count"); do [ "$i" -gt 1 ] && printf ','; row "$i"; done; printf ']\n' ;;
                  object) row 1; printf '\n' ;;
                esac ;;
              *" --scale "*) all="$*"; printf '%s' "${all##*--scale app=}" | cut -d' ' -f1 > "$here/count" ;;
              *" logs "*)
                if [ -f "$here/logs.fail" ]; then echo 'no such service: nope' >&2; exit 1; fi
                cat "$here/logs"
                case " $* " in *" --follow "*) sleep 0.3; cat "$here/logs.more" 2>/dev/null; exec sleep 60 ;; esac ;;
              *" stop "*) printf exited > "$here/state" ;;
              *" start "*|*" restart "*) printf running > "$here/state" ;;
              *" up "*)
                if [ -f "$here/up.fail" ]; then echo "container shop-app-1 is unhealthy" >&2; exit 1; fi
                # Compose's interpolation: the process environment first, then the project's .env; unset is blank,
                # and "registry.example/app:" is not an image reference.
                resolved="${APP_TAG:-$(sed -n "s/^APP_TAG=//p" "$here/.env" 2>/dev/null | tail -1 | tr -d "'\"")}"
                if [ -z "$resolved" ]; then echo 'invalid reference format: repository name (registry.example/app:) must be lowercase and have a tag' >&2; exit 1; fi
                printf '%s' "$resolved" > "$here/tag" ;;
            esac
            """.Replace("\r", ""));
        if (OperatingSystem.IsWindows()) Assert.Skip("the fake docker is a bash script; these tests run on Linux and macOS");
        else File.SetUnixFileMode(Path.Combine(_dir, "docker"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(_dir, "docker-compose.yml"), "services:\n  app:\n    image: registry.example/app:${APP_TAG}\n");
        File.WriteAllText(Path.Combine(_dir, "tag"), "v1");
        File.WriteAllText(Path.Combine(_dir, "shape"), "ndjson");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ComposeProvider Provider() => new(new ComposeSettings
    {
        File = Path.Combine(_dir, "docker-compose.yml"), Service = "app", Project = "shop", Docker = Path.Combine(_dir, "docker"), WaitTimeout = TimeSpan.FromSeconds(30),
    });

    private string[] Calls() => File.ReadAllLines(Path.Combine(_dir, "calls.log"));

    [Theory]
    [InlineData("ndjson", 2)]
    [InlineData("array", 2)]
    [InlineData("object", 1)]
    public async Task Every_ps_shape_is_read(string shape, int count)
    {
        File.WriteAllText(Path.Combine(_dir, "shape"), shape);
        var instances = await Provider().GetInstancesAsync(Ct);
        Assert.Equal(count, instances.Count);
        Assert.All(instances, i => Assert.Equal((InstanceHealth.Healthy, "registry.example/app:v1", "app"), (i.Health, i.Image, i.Group)));
        Assert.StartsWith($"compose -f {Path.Combine(_dir, "docker-compose.yml")} -p shop ps --all --format json app|", Calls()[0]);
    }

    [Fact]
    public void Ps_health_and_states_map_to_instance_health()
    {
        var rows = ComposeProvider.ParsePs("""
            {"ID":"a","State":"running","Health":"unhealthy"}
            {"ID":"b","State":"exited","ExitCode":137}
            {"ID":"c","State":"exited","ExitCode":0}
            {"ID":"d","State":"running","Health":"starting"}
            """);
        Assert.Equal(4, rows.Count);
        Assert.Throws<DeploymentProviderException>(() => ComposeProvider.ParsePs("WARN[0000] not json"));
    }

    [Fact]
    public async Task History_is_recorded_and_a_rollback_sets_the_image_variable()
    {
        var p = Provider();
        await p.GetInstancesAsync(Ct);                        // v1 seen running
        File.WriteAllText(Path.Combine(_dir, "tag"), "v2"); // someone deploys v2
        var releases = await p.GetReleasesAsync(10, Ct);
        Assert.Equal(["registry.example/app:v2", "registry.example/app:v1"], releases.Select(r => r.Image));
        Assert.True(releases[0].IsCurrent);

        var target = ReleasePicker.Pick(releases, null, "compose");
        Assert.Equal("registry.example/app:v1", target.Image);
        var steps = new List<string>();
        Assert.Equal(2, await p.RollbackAsync(target, steps.Add, Ct));
        Assert.Contains(Calls(), c => c.StartsWith($"compose -f {Path.Combine(_dir, "docker-compose.yml")} -p shop up -d --no-deps --wait --wait-timeout 30 app|APP_TAG=v1", StringComparison.Ordinal));
        var after = await p.GetReleasesAsync(10, Ct);
        Assert.Equal("registry.example/app:v1", after.Single(r => r.IsCurrent).Image);
        Assert.Equal("deployed", after[0].Status);
        Assert.True(File.Exists(Path.Combine(_dir, ComposeProvider.RecordFile)));
    }

    [Fact]
    public async Task A_failed_up_is_an_error_with_composes_reason_and_is_recorded_as_failed()
    {
        var p = Provider();
        await p.GetInstancesAsync(Ct);
        File.WriteAllText(Path.Combine(_dir, "tag"), "v2");
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "compose");
        File.WriteAllText(Path.Combine(_dir, "up.fail"), "");
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.RollbackAsync(target, _ => { }, Ct));
        Assert.Contains("container shop-app-1 is unhealthy", e.Message);
        var releases = await p.GetReleasesAsync(10, Ct);
        var failed = Assert.Single(releases, r => r.Status == "failed");
        Assert.Equal("registry.example/app:v1", failed.Image);
        Assert.False(failed.Good);
        Assert.Equal("registry.example/app:v2", releases.Single(r => r.IsCurrent).Image); // still running what it ran
    }

    [Fact]
    public async Task No_history_means_no_rollback_and_a_missing_docker_is_explained()
    {
        var p = Provider();
        var e = Assert.Throws<DeploymentNotPossibleException>(() => ReleasePicker.Pick(p.GetReleasesAsync(10, Ct).Result, null, "compose"));
        Assert.Contains("no previous release", e.Message);
        var missing = new ComposeProvider(new ComposeSettings { File = Path.Combine(_dir, "docker-compose.yml"), Service = "app", Docker = Path.Combine(_dir, "no-such-docker") });
        var m = await Assert.ThrowsAsync<DeploymentProviderException>(() => missing.GetInstancesAsync(Ct));
        Assert.Contains("was not found", m.Message);
    }

    [Fact]
    public async Task Stop_start_and_restart_run_the_compose_verbs_on_the_service()
    {
        var p = Provider();
        var stop = await DeploymentOperations.ActAsync(p, "local", "Stop", true, false, _ => { }, Ct);
        Assert.Equal(("Succeeded", 2), (stop.Status, stop.Instances));
        Assert.All(await p.GetInstancesAsync(Ct), i => Assert.Equal("exited", i.State));
        var start = await DeploymentOperations.ActAsync(p, "local", "Start", true, false, _ => { }, Ct);
        Assert.All(await p.GetInstancesAsync(Ct), i => Assert.Equal(InstanceHealth.Healthy, i.Health));
        await DeploymentOperations.ActAsync(p, "local", "Restart", true, false, _ => { }, Ct);
        Assert.Contains(Calls(), c => c.Contains(" stop app|", StringComparison.Ordinal));
        Assert.Contains(Calls(), c => c.Contains(" start app|", StringComparison.Ordinal));
        Assert.Contains(Calls(), c => c.Contains(" restart app|", StringComparison.Ordinal));
        var plan = await DeploymentOperations.ActAsync(p, "local", "Stop", true, true, _ => { }, Ct);
        Assert.Equal("Planned", plan.Status);
        Assert.Single(Calls(), c => c.Contains(" stop app|", StringComparison.Ordinal)); // the plan stopped nothing
    }

    [Fact]
    public async Task Scale_uses_up_with_scale_and_refuses_memory_with_the_way_to_do_it()
    {
        var p = Provider();
        var r = await DeploymentOperations.ScaleAsync(p, "local", new ScaleRequest(3, null, null), false, _ => { }, Ct);
        Assert.Equal(3, r.Instances);
        Assert.Contains(Calls(), c => c.Contains(" up -d --no-deps --scale app=3 app|", StringComparison.Ordinal));
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => DeploymentOperations.ScaleAsync(p, "local", new ScaleRequest(null, 512, null), false, _ => { }, Ct));
        Assert.Contains("deploy.resources.limits.memory", e.Message);
    }

    [Fact]
    public async Task A_rolled_back_tag_survives_the_next_up()
    {
        // The bad release was deployed through .env; the rollback must not last only until the next `up`.
        File.WriteAllText(Path.Combine(_dir, ".env"), "APP_TAG=v1\n");
        var p = Provider();
        await p.GetInstancesAsync(Ct);                                        // v1 seen running
        File.WriteAllText(Path.Combine(_dir, ".env"), "APP_TAG=v2\nOTHER=x\n"); // someone deploys v2 through .env
        File.WriteAllText(Path.Combine(_dir, "tag"), "v2");
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "compose");
        Assert.Equal(2, await p.RollbackAsync(target, _ => { }, Ct));
        Assert.Equal("v1", File.ReadAllText(Path.Combine(_dir, "tag")));
        Assert.Equal(["APP_TAG='v1'", "OTHER=x"], File.ReadAllLines(Path.Combine(_dir, ".env")));

        await DeploymentOperations.SetSecretsAsync(p, "local", new Dictionary<string, string> { ["DATABASE_URL"] = "postgres://u:p@db/app" }, true, false, _ => { }, Ct);
        Assert.Equal("v1", File.ReadAllText(Path.Combine(_dir, "tag")));      // not v2 again
        await p.ScaleAsync(new ScaleRequest(3, null, null), _ => { }, Ct);
        Assert.Equal("v1", File.ReadAllText(Path.Combine(_dir, "tag")));
    }

    [Fact]
    public async Task Secrets_go_to_a_private_env_file_and_the_service_is_recreated()
    {
        File.WriteAllText(Path.Combine(_dir, ".env"), "APP_TAG=v1\nDATABASE_URL='old'\n");
        var p = Provider();
        await DeploymentOperations.SetSecretsAsync(p, "local", new Dictionary<string, string> { ["DATABASE_URL"] = "postgres://u:n3w@db/app", ["JWT_SECRET"] = "s3cr3t$NOT_INTERPOLATED" }, true, false, _ => { }, Ct);
        var env = File.ReadAllLines(Path.Combine(_dir, ".env"));
        Assert.Equal(["APP_TAG=v1", "DATABASE_URL='postgres://u:n3w@db/app'", "JWT_SECRET='s3cr3t$NOT_INTERPOLATED'"], env);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, ".env")));
        Assert.Contains(Calls(), c => c.StartsWith($"compose -f {Path.Combine(_dir, "docker-compose.yml")} -p shop up -d --no-deps app|", StringComparison.Ordinal));
        Assert.DoesNotContain(Calls(), c => c.Contains("n3w", StringComparison.Ordinal));
        await Assert.ThrowsAsync<ArgumentException>(() => DeploymentOperations.SetSecretsAsync(p, "local", new Dictionary<string, string> { ["X"] = "it's" }, false, false, _ => { }, Ct));
    }

    private void WriteLogs() => File.WriteAllText(Path.Combine(_dir, "logs"), """
        app-1  | 2026-11-30T10:00:00.100000000Z {"level":"info","msg":"listening on :8080"}
        app-2  | 2026-11-30T10:00:00.200000000Z {"level":"error","msg":"connect to postgres://app:hunter2@db:5432/app failed"}
        worker-1  | 2026-11-30T10:00:01.000000000Z level=warn msg="queue slow" took=1.5s
        app-1  | 2026-11-30T10:00:02.000000000Z GET /api/orders 200

        """.Replace("\r", ""));

    [Fact]
    public async Task Reads_compose_logs_with_timestamps_as_records_of_each_service()
    {
        WriteLogs();
        var p = Provider();
        var since = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);
        var records = new List<Logs.LogRecord>();
        await foreach (var r in p.ReadLogsAsync(new DeploymentLogRequest { Since = since }, _ => { }, Ct)) records.Add(r);
        Assert.Equal(4, records.Count);
        Assert.Equal($"compose -f {Path.Combine(_dir, "docker-compose.yml")} -p shop logs --timestamps --no-color --since 2026-11-30T09:00:00Z|APP_TAG=", Calls()[^1]);
        Assert.Equal(["app", "app", "worker", "app"], records.Select(r => r.Service));
        Assert.Equal("app-2", records[1].Instance);
        Assert.Equal("ERROR", records[1].Level);
        Assert.DoesNotContain("hunter2", records[1].Message + records[1].Raw);
        Assert.Equal("WARN", records[2].Level);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 10, 0, 1, TimeSpan.Zero), records[2].Timestamp);
    }

    [Fact]
    public async Task Tail_keeps_the_last_records_of_all_containers_and_a_service_or_instance_narrows()
    {
        WriteLogs();
        var p = Provider();
        var tail = new List<Logs.LogRecord>();
        await foreach (var r in p.ReadLogsAsync(new DeploymentLogRequest { Tail = 2, Service = "app" }, _ => { }, Ct)) tail.Add(r);
        Assert.EndsWith(" logs --timestamps --no-color --tail 2 app|APP_TAG=", Calls()[^1]);
        Assert.Equal(["worker-1", "app-1"], tail.Select(r => r.Instance));
        var one = new List<Logs.LogRecord>();
        await foreach (var r in p.ReadLogsAsync(new DeploymentLogRequest { Instance = "app-2" }, _ => { }, Ct)) one.Add(r);
        Assert.Equal("app-2", Assert.Single(one).Instance);
    }

    [Fact]
    public async Task Follows_until_the_end_time_then_stops_compose_and_explains_a_failure()
    {
        WriteLogs();
        File.WriteAllText(Path.Combine(_dir, "logs.more"), "app-1  | 2026-11-30T10:05:00.000000000Z after the deploy\n");
        var p = Provider();
        var records = new List<Logs.LogRecord>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await foreach (var r in p.ReadLogsAsync(new DeploymentLogRequest { Follow = true, Until = DateTimeOffset.UtcNow.AddSeconds(2) }, _ => { }, Ct)) records.Add(r);
        Assert.Equal("after the deploy", records[^1].Message);
        Assert.EndsWith(" logs --timestamps --no-color --follow|APP_TAG=", Calls()[^1]);
        // The fake would sleep a minute: the read ended at -Until because compose was stopped.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");

        File.WriteAllText(Path.Combine(_dir, "logs.fail"), "");
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(async () => { await foreach (var _ in p.ReadLogsAsync(new DeploymentLogRequest { Service = "nope" }, _ => { }, Ct)) { } });
        Assert.Contains("docker compose logs failed (1): no such service: nope", e.Message);
    }
}
