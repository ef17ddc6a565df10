using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Deploy;

/// <summary>Which cluster and Deployment (runbook.json "deploy": { "provider": "kubernetes", "deployment", "namespace", "context", "kubeconfig" }).</summary>
public sealed record KubernetesSettings
{
    public required string Deployment { get; init; }
    public string? Namespace { get; init; }
    public string? Context { get; init; }
    public string? Kubeconfig { get; init; }
    /// <summary>An API server URL instead of the kubeconfig's (tests, proxies).</summary>
    public string? Server { get; init; }
    public string Kubectl { get; init; } = "kubectl";
    /// <summary>The Secret Set-DeploymentSecret writes (default: the Deployment's name).</summary>
    public string? SecretName { get; init; }
    /// <summary>kubectl's discovery cache folder (default ~/.kube/cache).</summary>
    public string? CacheDir { get; init; }
    /// <summary>How long `rollout status` may take after a rollback.</summary>
    public TimeSpan RolloutTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Kubernetes through the real `kubectl` (KubernetesClient weighed and not chosen: docs/architecture.md says why): status from the Deployment's
/// pods, releases = its ReplicaSet revisions, rollback with exactly `kubectl rollout undo` semantics (the chosen
/// revision's template without pod-template-hash and its annotations, as one JSON patch; refused when paused; skipped
/// when already there), then `rollout status`'s rules until done or ProgressDeadlineExceeded.
/// </summary>
public sealed class KubernetesProvider(KubernetesSettings settings, SecretRedactor? redactor = null) : IDeploymentProvider, IDeploymentLogSource
{
    /// <summary>kubectl's annotationsToSkip: kept from the Deployment, never copied from the ReplicaSet.</summary>
    private static readonly string[] AnnotationsToSkip =
    [
        "kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision", "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to",
    ];

    public string Name => "kubernetes";

    internal Func<TimeSpan, CancellationToken, Task> Delay { get; set; } = Task.Delay;

    public async Task<IReadOnlyList<DeploymentInstance>> GetInstancesAsync(CancellationToken ct)
    {
        var deployment = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
        var pods = await ListAsync("pods", Selector(deployment), ct).ConfigureAwait(false);
        return pods.Select(p =>
        {
            var phase = p["status"]?["phase"]?.GetValue<string>() ?? "Unknown";
            var statuses = p["status"]?["containerStatuses"] as JsonArray ?? [];
            var waiting = statuses.Select(s => s?["state"]?["waiting"]?["reason"]?.GetValue<string>()).FirstOrDefault(r => r is not null);
            var ready = statuses.Count > 0 && statuses.All(s => s?["ready"]?.GetValue<bool>() == true);
            var deleting = p["metadata"]?["deletionTimestamp"] is not null;
            return new DeploymentInstance
            {
                Provider = Name, Id = p["metadata"]!["name"]!.GetValue<string>(), Name = p["spec"]?["nodeName"]?.GetValue<string>(),
                State = deleting ? "Terminating" : waiting ?? phase,
                Health = (phase, waiting, ready) switch
                {
                    (_, "CrashLoopBackOff" or "ImagePullBackOff" or "ErrImagePull" or "CreateContainerConfigError" or "InvalidImageName", _) => InstanceHealth.Unhealthy,
                    ("Running", _, true) => deleting ? InstanceHealth.Stopped : InstanceHealth.Healthy,
                    ("Running", _, false) or ("Pending", _, _) => InstanceHealth.Starting,
                    ("Failed", _, _) => InstanceHealth.Unhealthy,
                    ("Succeeded", _, _) => InstanceHealth.Stopped,
                    _ => InstanceHealth.Unknown,
                },
                Image = (p["spec"]?["containers"] as JsonArray)?.FirstOrDefault()?["image"]?.GetValue<string>(),
                Group = p["metadata"]?["labels"]?["pod-template-hash"]?.GetValue<string>(),
                StartedAt = DateTimeOffset.TryParse(p["status"]?["startTime"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null,
            };
        }).ToList();
    }

    public async Task<IReadOnlyList<DeploymentRelease>> GetReleasesAsync(int limit, CancellationToken ct)
    {
        var deployment = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
        var sets = await ReplicaSetsAsync(deployment, ct).ConfigureAwait(false);
        var current = Revision(deployment);
        return sets.OrderByDescending(Revision).Take(limit).Select(rs => new DeploymentRelease
        {
            Provider = Name, Id = Revision(rs).ToString(CultureInfo.InvariantCulture), Version = (int)Revision(rs), Image = ImageOf(rs["spec"]?["template"]),
            Status = (rs["status"]?["replicas"]?.GetValue<int>() ?? 0) > 0 ? "active" : "scaled-down", Good = true,
            Description = rs["metadata"]?["annotations"]?["kubernetes.io/change-cause"]?.GetValue<string>() ?? rs["metadata"]!["name"]!.GetValue<string>(),
            CreatedAt = DateTimeOffset.TryParse(rs["metadata"]?["creationTimestamp"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var c) ? c : null,
            IsCurrent = Revision(rs) == current,
        }).ToList();
    }

    public async Task<int> RollbackAsync(DeploymentRelease target, Action<string> step, CancellationToken ct)
    {
        var deployment = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
        if (deployment["spec"]?["paused"]?.GetValue<bool>() == true)
        {
            throw new DeploymentProviderException(Name, $"you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/{settings.Deployment}' and try again");
        }
        var sets = await ReplicaSetsAsync(deployment, ct).ConfigureAwait(false);
        var revision = target.Version ?? throw new ArgumentException("a Kubernetes release is a ReplicaSet revision number");
        var rs = sets.FirstOrDefault(s => Revision(s) == revision) ?? throw new DeploymentProviderException(Name, $"unable to find specified revision {revision} in history");
        var template = rs["spec"]!["template"]!.DeepClone().AsObject();
        (template["metadata"]?["labels"] as JsonObject)?.Remove("pod-template-hash");
        if (JsonNode.DeepEquals(Normalized(template), Normalized(deployment["spec"]!["template"]!.DeepClone().AsObject())))
        {
            step($"skipped rollback (current template already matches revision {revision})");
            return 0;
        }
        var annotations = new JsonObject();
        var current = deployment["metadata"]?["annotations"] as JsonObject;
        foreach (var key in AnnotationsToSkip)
        {
            if (current?[key] is { } v) annotations[key] = v.DeepClone();
        }
        foreach (var (k, v) in rs["metadata"]?["annotations"] as JsonObject ?? [])
        {
            if (!AnnotationsToSkip.Contains(k)) annotations[k] = v?.DeepClone();
        }
        var patch = new JsonArray(
            new JsonObject { ["op"] = "replace", ["path"] = "/spec/template", ["value"] = template },
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/annotations", ["value"] = annotations });
        await PatchAsync(patch, ct).ConfigureAwait(false);
        step($"deployment/{settings.Deployment} rolled back to revision {revision}");
        return await WaitRolloutAsync(step, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The Deployment's Secret (settings "secret", default the Deployment's name): read, merged, and written back with
    /// `kubectl replace -f -` (or `create -f -`) through stdin, so values are never on a command line; then, with
    /// <paramref name="redeploy"/>, a rollout restart so the pods read them.
    /// </summary>
    public async Task<int> SetSecretsAsync(IReadOnlyDictionary<string, string> values, bool redeploy, Action<string> step, CancellationToken ct)
    {
        var name = settings.SecretName ?? settings.Deployment;
        JsonObject secret;
        var exists = true;
        try
        {
            secret = await GetAsync($"secret/{name}", ct).ConfigureAwait(false);
        }
        catch (DeploymentProviderException e) when (e.StatusCode == 404)
        {
            exists = false;
            secret = new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Secret", ["type"] = "Opaque",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = settings.Namespace },
            };
        }
        var data = secret["data"] as JsonObject ?? new JsonObject();
        foreach (var (k, v) in values) data[k] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(v));
        secret["data"] = data;
        // The object is built here, so kubectl's client-side schema check (an OpenAPI download) adds nothing; the API
        // server validates it anyway.
        await KubectlAsync(new string[] { exists ? "replace" : "create", "--validate=false", "-f", "-" }, ct, secret.ToJsonString()).ConfigureAwait(false);
        step($"secret/{name}: {string.Join(", ", values.Keys)} {(exists ? "updated" : "created")}");
        if (redeploy) await RestartAsync(true, step, ct).ConfigureAwait(false);
        return values.Count;
    }

    /// <summary>The annotation Stop records the replica count in, for Start.</summary>
    public const string StoppedReplicasAnnotation = "opsrunbook.io/replicas-before-stop";

    /// <summary>
    /// kubectl rollout restart (kubectl/pkg/polymorphichelpers/objectrestarter.go, defaultObjectRestarter): refused on a
    /// paused Deployment, else the pod template's restartedAt annotation (RFC 3339) and nothing else, then rollout status.
    /// The patch carries only that annotation (a JSON merge patch), so a change another client made to the template
    /// between our read and our write is not reverted.
    /// </summary>
    public async Task<int> RestartAsync(bool rolling, Action<string> step, CancellationToken ct)
    {
        var deployment = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
        if (deployment["spec"]?["paused"]?.GetValue<bool>() == true)
        {
            throw new DeploymentProviderException(Name, $"can't restart paused deployment (run rollout resume first: kubectl rollout resume deployment/{settings.Deployment})");
        }
        var restartedAt = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture);
        var merge = new JsonObject
        {
            ["spec"] = new JsonObject { ["template"] = new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { ["kubectl.kubernetes.io/restartedAt"] = restartedAt } } } },
        };
        await KubectlAsync(new string[] { "patch", $"deployment/{settings.Deployment}", "--type", "merge", "-p", merge.ToJsonString() }, ct).ConfigureAwait(false);
        step($"deployment/{settings.Deployment} restarted (the Deployment replaces its pods as its strategy says)");
        return await WaitRolloutAsync(step, ct).ConfigureAwait(false);
    }

    /// <summary>Scales to zero, remembering the replica count in an annotation for Start.</summary>
    public async Task<int> StopAsync(Action<string> step, CancellationToken ct)
    {
        var deployment = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
        var replicas = deployment["spec"]?["replicas"]?.GetValue<int>() ?? 1;
        if (replicas == 0)
        {
            step($"deployment/{settings.Deployment} is already at 0 replicas");
            return 0;
        }
        var annotations = deployment["metadata"]?["annotations"]?.DeepClone() as JsonObject ?? new JsonObject();
        annotations[StoppedReplicasAnnotation] = replicas.ToString(CultureInfo.InvariantCulture);
        await PatchAsync(new JsonArray(
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/annotations", ["value"] = annotations },
            new JsonObject { ["op"] = "replace", ["path"] = "/spec/replicas", ["value"] = 0 }), ct).ConfigureAwait(false);
        step($"deployment/{settings.Deployment} scaled from {replicas} to 0");
        return replicas;
    }

    /// <summary>Scales back to the count Stop recorded (1 when none), then waits for the rollout.</summary>
    public async Task<int> StartAsync(Action<string> step, CancellationToken ct)
    {
        var deployment = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
        var annotations = deployment["metadata"]?["annotations"]?.DeepClone() as JsonObject ?? new JsonObject();
        var replicas = int.TryParse(annotations[StoppedReplicasAnnotation]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r > 0 ? r : 1;
        annotations.Remove(StoppedReplicasAnnotation);
        await PatchAsync(new JsonArray(
            new JsonObject { ["op"] = "replace", ["path"] = "/metadata/annotations", ["value"] = annotations },
            new JsonObject { ["op"] = "replace", ["path"] = "/spec/replicas", ["value"] = replicas }), ct).ConfigureAwait(false);
        step($"deployment/{settings.Deployment} scaled to {replicas}");
        return await WaitRolloutAsync(step, ct).ConfigureAwait(false);
    }

    /// <summary>kubectl scale: spec.replicas, then rollout status. Memory is a pod template change (kubectl set resources); there are no regions.</summary>
    public async Task<int> ScaleAsync(ScaleRequest request, Action<string> step, CancellationToken ct)
    {
        if (request.MemoryMb is not null || request.Region is not null)
        {
            throw new DeploymentProviderException(Name, "memory is part of the pod template (kubectl set resources deployment/NAME --limits=memory=512Mi) and placement is the scheduler's; only -Count is scaled here");
        }
        var count = request.Count ?? throw new ArgumentException("give -Count");
        await PatchAsync(new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = "/spec/replicas", ["value"] = count }), ct).ConfigureAwait(false);
        step($"deployment/{settings.Deployment} scaled to {count}");
        await WaitRolloutAsync(step, ct).ConfigureAwait(false);
        return count;
    }

    private Task<string> PatchAsync(JsonArray patch, CancellationToken ct) =>
        KubectlAsync(new string[] { "patch", $"deployment/{settings.Deployment}", "--type", "json", "-p", patch.ToJsonString() }, ct);

    /// <summary>
    /// kubectl rollout status for a Deployment (kubectl/pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer):
    /// nothing is judged until the controller has observed the spec (generation &lt;= observedGeneration), so the
    /// ProgressDeadlineExceeded left by the rollout being replaced does not fail this one; then the deadline, updated
    /// replicas (when spec.replicas is set), old replicas pending termination, and available replicas, in that order.
    /// </summary>
    private async Task<int> WaitRolloutAsync(Action<string> step, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + settings.RolloutTimeout;
        while (true)
        {
            var d = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
            var status = d["status"] as JsonObject ?? new JsonObject();
            int I(JsonNode? n) => n?.GetValue<int>() ?? 0;
            var generation = d["metadata"]?["generation"]?.GetValue<long>() ?? 0;
            var observed = status["observedGeneration"]?.GetValue<long>() ?? 0;
            int? wanted = d["spec"]?["replicas"] is { } r ? r.GetValue<int>() : null;
            var updated = I(status["updatedReplicas"]);
            string waiting;
            if (generation <= observed)
            {
                var progressing = (status["conditions"] as JsonArray)?.FirstOrDefault(c => c?["type"]?.GetValue<string>() == "Progressing");
                if (progressing?["reason"]?.GetValue<string>() == "ProgressDeadlineExceeded")
                {
                    throw new DeploymentProviderException(Name, $"deployment \"{settings.Deployment}\" exceeded its progress deadline");
                }
                if (wanted is { } w && updated < w) waiting = $"waiting: {updated} out of {w} new replicas have been updated";
                else if (I(status["replicas"]) > updated) waiting = $"waiting: {I(status["replicas"]) - updated} old replicas are pending termination";
                else if (I(status["availableReplicas"]) < updated) waiting = $"waiting: {I(status["availableReplicas"])} of {updated} updated replicas are available";
                else
                {
                    step($"deployment \"{settings.Deployment}\" successfully rolled out");
                    return updated;
                }
            }
            else
            {
                waiting = "waiting: for the deployment spec update to be observed";
            }
            step(waiting);
            if (DateTime.UtcNow >= deadline) throw new DeploymentProviderException(Name, $"the rollout did not finish within {settings.RolloutTimeout.TotalMinutes:0} minutes", 408);
            await Delay(settings.PollInterval, ct).ConfigureAwait(false);
        }
    }

    private async Task<List<JsonObject>> ReplicaSetsAsync(JsonObject deployment, CancellationToken ct)
    {
        var uid = deployment["metadata"]?["uid"]?.GetValue<string>();
        var sets = await ListAsync("replicasets", Selector(deployment), ct).ConfigureAwait(false);
        return sets.Where(s => (s["metadata"]?["ownerReferences"] as JsonArray)?.Any(o => o?["uid"]?.GetValue<string>() == uid && o?["kind"]?.GetValue<string>() == "Deployment") == true).ToList();
    }

    private static string Selector(JsonObject deployment)
    {
        var labels = deployment["spec"]?["selector"]?["matchLabels"] as JsonObject
            ?? throw new DeploymentProviderException("kubernetes", "the deployment has no matchLabels selector");
        return string.Join(",", labels.Select(kv => $"{kv.Key}={kv.Value?.GetValue<string>()}"));
    }

    private static long Revision(JsonObject o) =>
        long.TryParse(o["metadata"]?["annotations"]?["deployment.kubernetes.io/revision"]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var r) ? r : 0;

    private static string? ImageOf(JsonNode? template) => (template?["spec"]?["containers"] as JsonArray)?.FirstOrDefault()?["image"]?.GetValue<string>();

    private static JsonObject Normalized(JsonObject template)
    {
        (template["metadata"]?["labels"] as JsonObject)?.Remove("pod-template-hash");
        return template;
    }

    private async Task<JsonObject> GetAsync(string what, CancellationToken ct) =>
        JsonNode.Parse(await KubectlAsync(new string[] { "get", what, "-o", "json" }, ct).ConfigureAwait(false))!.AsObject();

    private async Task<List<JsonObject>> ListAsync(string kind, string selector, CancellationToken ct)
    {
        var list = JsonNode.Parse(await KubectlAsync(new string[] { "get", kind, "-l", selector, "-o", "json" }, ct).ConfigureAwait(false))!;
        return (list["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
    }

    /// <summary>kubectl's global flags for this environment (kubeconfig, context, server, namespace, cache), then <paramref name="args"/>.</summary>
    private List<string> Arguments(IEnumerable<string> args)
    {
        var all = new List<string>();
        if (settings.Kubeconfig is not null) all.AddRange(new string[] { "--kubeconfig", settings.Kubeconfig });
        if (settings.Context is not null) all.AddRange(new string[] { "--context", settings.Context });
        if (settings.Server is not null) all.AddRange(new string[] { "--server", settings.Server });
        if (settings.Namespace is not null) all.AddRange(new string[] { "--namespace", settings.Namespace });
        if (settings.CacheDir is not null) all.AddRange(new string[] { "--cache-dir", settings.CacheDir });
        all.AddRange(args);
        return all;
    }

    /// <summary>
    /// The deployment's pod logs, every container, as kubectl gives them: `kubectl logs -l &lt;the deployment's
    /// matchLabels&gt; --all-containers --timestamps --prefix --tail -1 --max-log-requests 20 [--since-time T] [-f]`
    /// (a selector alone would make kubectl keep 10 lines per container and follow at most 5 streams). Lines are read as
    /// kubectl writes them ("[pod/NAME/CONTAINER] time message") and the app's own JSON or logfmt inside; -Until is applied
    /// here (kubectl has none) and ends a follow by stopping kubectl. kubectl's --tail is per container, so without a
    /// follow the last N of all containers are kept here by time.
    /// </summary>
    public async IAsyncEnumerable<LogRecord> ReadLogsAsync(DeploymentLogRequest request, Action<string> notice, [EnumeratorCancellation] CancellationToken ct)
    {
        var deployment = await GetAsync($"deployment/{settings.Deployment}", ct).ConfigureAwait(false);
        var labels = deployment["spec"]?["selector"]?["matchLabels"] as JsonObject
            ?? throw new DeploymentProviderException(Name, "the deployment has no matchLabels selector");
        var selector = string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"));
        var args = new List<string> { "logs", "-l", selector, "--all-containers", "--timestamps", "--prefix", "--max-log-requests", "20", "--tail", request.Tail > 0 ? request.Tail.ToString(CultureInfo.InvariantCulture) : "-1" };
        if (request.Since is { } since) args.AddRange(new string[] { "--since-time", since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) });
        if (request.Follow) args.Add("--follow");
        var source = "kubernetes:" + settings.Deployment;
        await foreach (var record in CliLogs.ReadAsync(settings.Kubectl, Arguments(args), request,
            line => LogLineParser.Parse(LogReader.Scrub(line, redactor is null ? null : redactor.ScrubKnown), LogFormat.Kubectl, source) with { Service = settings.Deployment },
            r => (string.IsNullOrEmpty(request.Instance) || string.Equals(r.Pod, request.Instance, StringComparison.Ordinal))
                && (string.IsNullOrEmpty(request.Service) || string.Equals(r.Container, request.Service, StringComparison.Ordinal)),
            (code, stderr) => new DeploymentProviderException(Name, $"kubectl logs failed ({code}): {stderr.Trim().Split('\n')[0]}"),
            () => new DeploymentProviderException(Name, $"'{settings.Kubectl}' was not found: install kubectl (https://kubernetes.io/docs/tasks/tools/)"), ct).ConfigureAwait(false))
        {
            yield return record;
        }
    }

    private async Task<string> KubectlAsync(IReadOnlyList<string> args, CancellationToken ct, string? stdin = null)
    {
        var all = Arguments(args);
        (int code, string stdout, string stderr) run;
        try
        {
            run = await CliProcess.RunAsync(settings.Kubectl, all, ct, stdin: stdin).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            throw new DeploymentProviderException(Name, $"'{settings.Kubectl}' was not found: install kubectl (https://kubernetes.io/docs/tasks/tools/)");
        }
        if (run.code == 0) return run.stdout;
        var first = run.stderr.Trim().Split('\n')[0];
        throw new DeploymentProviderException(Name, $"kubectl {args[0]} failed: {first}", first.Contains("NotFound", StringComparison.Ordinal) || first.Contains("not found", StringComparison.Ordinal) ? 404
            : first.Contains("Forbidden", StringComparison.Ordinal) ? 403 : first.Contains("Unauthorized", StringComparison.Ordinal) ? 401 : null);
    }
}
