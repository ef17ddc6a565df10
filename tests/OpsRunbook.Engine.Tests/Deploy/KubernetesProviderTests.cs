using System.Text.Json.Nodes;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>The Kubernetes provider driving the real kubectl against a fake API server.</summary>
public sealed class KubernetesProviderTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private FakeKubernetes _k8s = null!;
    private readonly string _cache = Directory.CreateTempSubdirectory("opsrunbook-kubecache").FullName;

    public async ValueTask InitializeAsync()
    {
        Assert.SkipWhen(FindKubectl() is null && !TestServers.Required, "kubectl is not installed (apt-get install kubectl, or https://kubernetes.io/docs/tasks/tools/)");
        _k8s = await FakeKubernetes.StartAsync();
        _k8s.Deploy("registry.example/app:v1", "deploy v1");
        _k8s.Deploy("registry.example/app:v2", "deploy v2");
        _k8s.Deploy("registry.example/app:v3", "deploy v3");
    }

    public async ValueTask DisposeAsync()
    {
        if (_k8s is not null) await _k8s.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }

    private static string? FindKubectl() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, "kubectl")).FirstOrDefault(File.Exists);

    private KubernetesProvider Provider() => new(new KubernetesSettings
    {
        Deployment = FakeKubernetes.Name, Namespace = FakeKubernetes.Namespace, Server = _k8s.Server, CacheDir = _cache, PollInterval = TimeSpan.FromMilliseconds(10),
        RolloutTimeout = TimeSpan.FromSeconds(30),
    })
    { Delay = (_, _) => Task.CompletedTask };

    [Fact]
    public async Task Status_comes_from_the_deployments_pods()
    {
        var pods = await Provider().GetInstancesAsync(Ct);
        Assert.Equal(2, pods.Count);
        Assert.All(pods, p => Assert.Equal((InstanceHealth.Healthy, "Running", "registry.example/app:v3"), (p.Health, p.State, p.Image)));
        _k8s.CrashImage = "registry.example/app:v3";
        Assert.All(await Provider().GetInstancesAsync(Ct), p => Assert.Equal((InstanceHealth.Unhealthy, "CrashLoopBackOff"), (p.Health, p.State)));
    }

    [Fact]
    public async Task Releases_are_replicaset_revisions_with_the_current_one_marked()
    {
        var releases = await Provider().GetReleasesAsync(10, Ct);
        Assert.Equal([3, 2, 1], releases.Select(r => r.Version!.Value));
        Assert.True(releases[0].IsCurrent);
        Assert.Equal("registry.example/app:v2", releases[1].Image);
        Assert.Equal("deploy v2", releases[1].Description);
    }

    [Fact]
    public async Task Rollback_patches_like_kubectl_rollout_undo_and_waits_for_rollout_status()
    {
        var p = Provider();
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "kubernetes");
        Assert.Equal(2, target.Version);
        var steps = new List<string>();
        Assert.Equal(2, await p.RollbackAsync(target, steps.Add, Ct));
        Assert.Contains("deployment \"app\" successfully rolled out", steps);
        Assert.Contains(steps, s => s.StartsWith("waiting:", StringComparison.Ordinal)); // status converged over reads
        Assert.Equal("registry.example/app:v2", _k8s.CurrentImage());

        // One JSON patch: the revision's template without pod-template-hash, and its annotations (revision kept from the deployment).
        var patch = _k8s.Log.Single(l => l.Method == "PATCH");
        Assert.StartsWith("application/json-patch+json", patch.ContentType);
        var ops = JsonNode.Parse(patch.Body)!.AsArray();
        Assert.Equal(["/spec/template", "/metadata/annotations"], ops.Select(o => o!["path"]!.GetValue<string>()));
        Assert.Null(ops[0]!["value"]!["metadata"]!["labels"]!["pod-template-hash"]);
        Assert.Equal("deploy v2", ops[1]!["value"]!["kubernetes.io/change-cause"]!.GetValue<string>());
        Assert.Equal("3", ops[1]!["value"]!["deployment.kubernetes.io/revision"]!.GetValue<string>());

        // kubectl's history then: v2's ReplicaSet became revision 4.
        var after = await p.GetReleasesAsync(10, Ct);
        Assert.Equal((4, "registry.example/app:v2"), (after[0].Version!.Value, after[0].Image));
        Assert.True(after[0].IsCurrent);
    }

    [Fact]
    public async Task Rollback_to_a_missing_revision_a_paused_deployment_or_the_current_template()
    {
        var p = Provider();
        var missing = new DeploymentRelease { Provider = "kubernetes", Id = "9", Version = 9, Status = "x", Good = true };
        Assert.Contains("unable to find specified revision 9", (await Assert.ThrowsAsync<DeploymentProviderException>(() => p.RollbackAsync(missing, _ => { }, Ct))).Message);
        var current = (await p.GetReleasesAsync(10, Ct))[0];
        var steps = new List<string>();
        Assert.Equal(0, await p.RollbackAsync(current, steps.Add, Ct));
        Assert.Contains(steps, s => s.StartsWith("skipped rollback", StringComparison.Ordinal));
        _k8s.Pause();
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.RollbackAsync(new DeploymentRelease { Provider = "kubernetes", Id = "1", Version = 1, Status = "x", Good = true }, _ => { }, Ct));
        Assert.Contains("kubectl rollout resume", e.Message);
        Assert.DoesNotContain(_k8s.Log, l => l.Method == "PATCH");
    }

    [Fact]
    public async Task A_rollout_past_its_progress_deadline_fails()
    {
        _k8s.StuckImage = "registry.example/app:v1";
        var p = Provider();
        var v1 = (await p.GetReleasesAsync(10, Ct)).Single(r => r.Version == 1);
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.RollbackAsync(v1, _ => { }, Ct));
        Assert.Contains("exceeded its progress deadline", e.Message);
    }

    [Fact]
    public async Task A_missing_deployment_is_a_404_from_kubectl()
    {
        var p = new KubernetesProvider(new KubernetesSettings { Deployment = "nope", Namespace = FakeKubernetes.Namespace, Server = _k8s.Server, CacheDir = _cache });
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => p.GetInstancesAsync(Ct));
        Assert.Equal(404, e.StatusCode);
    }

    [Fact]
    public async Task Stop_scales_to_zero_remembering_the_count_and_start_restores_it()
    {
        var p = Provider();
        var stop = await DeploymentOperations.ActAsync(p, "production", "Stop", true, false, _ => { }, Ct);
        Assert.Equal((2, 0), (stop.Instances, _k8s.Replicas()));
        Assert.Equal("2", _k8s.Deployment()["metadata"]!["annotations"]![KubernetesProvider.StoppedReplicasAnnotation]!.GetValue<string>());
        Assert.Empty(await p.GetInstancesAsync(Ct));
        var start = await DeploymentOperations.ActAsync(p, "production", "Start", true, false, _ => { }, Ct);
        Assert.Equal((2, 2), (start.Instances, _k8s.Replicas()));
        Assert.Null(_k8s.Deployment()["metadata"]!["annotations"]![KubernetesProvider.StoppedReplicasAnnotation]);
        Assert.Equal(2, (await p.GetInstancesAsync(Ct)).Count);
    }

    [Fact]
    public async Task Restart_annotates_the_pod_template_like_kubectl_rollout_restart()
    {
        var p = Provider();
        var before = (await p.GetReleasesAsync(10, Ct))[0].Version;
        var r = await DeploymentOperations.ActAsync(p, "production", "Restart", true, false, _ => { }, Ct);
        Assert.Equal(2, r.Instances);
        var template = _k8s.Deployment()["spec"]!["template"]!;
        Assert.NotNull(template["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);
        Assert.Equal(before + 1, (await p.GetReleasesAsync(10, Ct))[0].Version); // a new ReplicaSet revision, as kubectl's restart makes
        Assert.Equal("registry.example/app:v3", _k8s.CurrentImage());
        // objectrestarter.go changes the annotation and nothing else: the patch carries only it (a merge patch), so a
        // template change made by someone else since our read is not written back over.
        var patch = _k8s.Log.Single(l => l.Method == "PATCH");
        Assert.StartsWith("application/merge-patch+json", patch.ContentType);
        var annotations = JsonNode.Parse(patch.Body)!["spec"]!["template"]!["metadata"]!["annotations"]!.AsObject();
        Assert.Equal(["kubectl.kubernetes.io/restartedAt"], annotations.Select(a => a.Key));
        Assert.Single(JsonNode.Parse(patch.Body)!.AsObject());
        Assert.True(DateTimeOffset.TryParseExact(annotations.Single().Value!.GetValue<string>(), "yyyy-MM-dd'T'HH:mm:ssK", null, System.Globalization.DateTimeStyles.None, out _));
    }

    [Fact]
    public async Task Restart_refuses_a_paused_deployment_as_kubectl_does()
    {
        _k8s.Pause();
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => Provider().RestartAsync(true, _ => { }, Ct));
        Assert.Contains("can't restart paused deployment (run rollout resume first", e.Message);
        Assert.DoesNotContain(_k8s.Log, l => l.Method == "PATCH");
    }

    [Fact]
    public async Task A_rollback_away_from_a_stuck_rollout_is_not_failed_by_its_stale_deadline()
    {
        // rollout_status.go reads the Progressing condition only once generation <= observedGeneration: right after the
        // rollback's patch the status still describes the stuck rollout (ProgressDeadlineExceeded), and must not count.
        _k8s.StuckImage = "registry.example/app:v4-stuck";
        _k8s.Deploy(_k8s.StuckImage);
        var p = Provider();
        var stale = _k8s.Deployment()["status"]!["conditions"]![0]!["reason"]!.GetValue<string>();
        Assert.Equal("ProgressDeadlineExceeded", stale);
        var target = ReleasePicker.Pick(await p.GetReleasesAsync(10, Ct), null, "kubernetes");
        var steps = new List<string>();
        Assert.Equal(2, await p.RollbackAsync(target, steps.Add, Ct));
        Assert.Contains("waiting: for the deployment spec update to be observed", steps);
        Assert.Equal(target.Image, _k8s.CurrentImage());
    }

    [Fact]
    public async Task Scale_sets_replicas_and_waits_for_the_rollout()
    {
        var p = Provider();
        var r = await DeploymentOperations.ScaleAsync(p, "production", new ScaleRequest(4, null, null), false, _ => { }, Ct);
        Assert.Equal((4, 4), (r.Instances, _k8s.Replicas()));
        Assert.Equal(4, (await p.GetInstancesAsync(Ct)).Count);
        var e = await Assert.ThrowsAsync<DeploymentProviderException>(() => DeploymentOperations.ScaleAsync(p, "production", new ScaleRequest(null, 512, null), false, _ => { }, Ct));
        Assert.Contains("kubectl set resources", e.Message);
    }

    [Fact]
    public async Task Secrets_are_written_through_stdin_never_on_kubectls_command_line()
    {
        // A kubectl wrapper that records its arguments.
        var wrapper = Path.Combine(_cache, "kubectl-recording");
        File.WriteAllText(wrapper, $"#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> '{_cache}/argv.log'\nexec '{FindKubectl()}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var p = new KubernetesProvider(new KubernetesSettings
        {
            Deployment = FakeKubernetes.Name, Namespace = FakeKubernetes.Namespace, Server = _k8s.Server, CacheDir = _cache, Kubectl = wrapper, SecretName = "app-env",
            PollInterval = TimeSpan.FromMilliseconds(10), RolloutTimeout = TimeSpan.FromSeconds(30),
        }) { Delay = (_, _) => Task.CompletedTask };
        var canary = "canary-" + Guid.NewGuid().ToString("N");
        await DeploymentOperations.SetSecretsAsync(p, "production", new Dictionary<string, string> { ["DATABASE_URL"] = canary }, false, false, _ => { }, Ct);
        await DeploymentOperations.SetSecretsAsync(p, "production", new Dictionary<string, string> { ["JWT_SECRET"] = canary + "-jwt" }, true, false, _ => { }, Ct);
        var data = _k8s.Secrets["app-env"]["data"]!;
        Assert.Equal(canary, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data["DATABASE_URL"]!.GetValue<string>())));
        Assert.Equal(canary + "-jwt", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(data["JWT_SECRET"]!.GetValue<string>())));
        var argv = File.ReadAllText(Path.Combine(_cache, "argv.log"));
        Assert.Contains("create --validate=false -f -", argv);
        Assert.Contains("replace --validate=false -f -", argv);
        Assert.DoesNotContain(canary, argv);
        Assert.NotNull(_k8s.Deployment()["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);
    }

    private void SeedPodLogs()
    {
        _k8s.Sidecar = "proxy";
        var t0 = new DateTimeOffset(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);
        _k8s.AddPodLog(FakeKubernetes.Name, t0, "level=info msg=\"listening\"");
        _k8s.AddPodLog(FakeKubernetes.Name, t0.AddSeconds(2), "{\"level\":\"error\",\"msg\":\"db timeout to postgres://app:hunter2@db/app\"}");
        _k8s.AddPodLog("proxy", t0.AddSeconds(1), "[2026-11-30T10:00:01.000Z] \"GET /api HTTP/1.1\" 503");
    }

    private static async Task<List<Logs.LogRecord>> All(IAsyncEnumerable<Logs.LogRecord> records)
    {
        var list = new List<Logs.LogRecord>();
        await foreach (var r in records) list.Add(r);
        return list;
    }

    [Fact]
    public async Task Reads_every_pods_every_container_through_kubectl_logs_with_the_deployments_selector()
    {
        SeedPodLogs();
        var records = await All(Provider().ReadLogsAsync(new DeploymentLogRequest { Since = new DateTimeOffset(2026, 11, 30, 9, 0, 0, TimeSpan.Zero) }, _ => { }, Ct));
        var pods = (await Provider().GetInstancesAsync(Ct)).Count;
        // Each pod (the replicas), each container (app and proxy): the real kubectl made one log request per container.
        Assert.Equal(pods * 3, records.Count);
        var requests = _k8s.Log.Where(l => l.Path.Contains("/log?", StringComparison.Ordinal)).Select(l => l.Path).ToList();
        Assert.Equal(pods * 2, requests.Count);
        Assert.All(requests, r => Assert.Contains("timestamps=true", r));
        Assert.All(requests, r => Assert.Contains("sinceTime=2026-11-30T09%3A00%3A00Z", r));
        Assert.DoesNotContain(requests, r => r.Contains("tailLines=10", StringComparison.Ordinal));
        var error = records.First(r => r.Level == "ERROR" && r.Container == FakeKubernetes.Name);
        Assert.Equal(FakeKubernetes.Name, error.Service);
        Assert.StartsWith(FakeKubernetes.Name + "-", error.Pod);
        Assert.DoesNotContain("hunter2", error.Message + error.Raw);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 10, 0, 2, TimeSpan.Zero), error.Timestamp);
        Assert.Equal(pods, records.Count(r => r.Container == "proxy"));
    }

    [Fact]
    public async Task Keeps_the_last_n_of_all_containers_filters_a_pod_and_a_container_and_follows_until_the_end_time()
    {
        SeedPodLogs();
        var p = Provider();
        var tail = await All(p.ReadLogsAsync(new DeploymentLogRequest { Tail = 2 }, _ => { }, Ct));
        Assert.Equal(2, tail.Count);
        Assert.All(tail, r => Assert.Equal(new DateTimeOffset(2026, 11, 30, 10, 0, 2, TimeSpan.Zero), r.Timestamp));
        var proxy = await All(p.ReadLogsAsync(new DeploymentLogRequest { Service = "proxy" }, _ => { }, Ct));
        Assert.All(proxy, r => Assert.Equal("proxy", r.Container));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var followed = await All(p.ReadLogsAsync(new DeploymentLogRequest { Follow = true, Until = DateTimeOffset.UtcNow.AddSeconds(3) }, _ => { }, Ct));
        Assert.NotEmpty(followed);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        Assert.Contains(_k8s.Log, l => l.Path.Contains("follow=true", StringComparison.Ordinal));
    }
}
