using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// A Kubernetes API server that the real kubectl can talk to (discovery, Deployments, ReplicaSets, Pods, JSON patch),
/// with the Deployment controller's visible behaviour: a template change bumps generation, reuses the ReplicaSet whose
/// template matches (giving it the next revision) or creates one, and the status converges after a few reads — or never,
/// with ProgressDeadlineExceeded, for a stuck image. Requests are logged.
/// </summary>
public sealed class FakeKubernetes : IAsyncDisposable
{
    public const string Namespace = "shop", Name = "app";
    private readonly FakeHttpServer _server;
    private readonly object _gate = new();
    private readonly JsonObject _deployment;
    private readonly List<JsonObject> _sets = [];
    private int _pendingReads;

    private FakeKubernetes(FakeHttpServer server)
    {
        _server = server;
        _deployment = new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = Name, ["namespace"] = Namespace, ["uid"] = "dep-uid-1", ["generation"] = 1, ["annotations"] = new JsonObject() },
            ["spec"] = new JsonObject
            {
                ["replicas"] = 2, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = Name } },
                ["template"] = Template("registry.example/app:v1"),
            },
            ["status"] = new JsonObject(),
        };
    }

    public string Server => _server.BaseUrl;
    public ConcurrentQueue<(string Method, string Path, string Body, string ContentType)> Log { get; } = new();
    /// <summary>A template with this image never finishes rolling out (ProgressDeadlineExceeded).</summary>
    public string? StuckImage { get; set; }
    /// <summary>Pods of this image crash-loop.</summary>
    public string? CrashImage { get; set; }
    public int ReadsToConverge { get; set; } = 2;

    public static async Task<FakeKubernetes> StartAsync(int port = 0)
    {
        FakeKubernetes? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeKubernetes(server);
        return self;
    }

    public static JsonObject Template(string image) => new()
    {
        ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = Name } },
        ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = Name, ["image"] = image }) },
    };

    /// <summary>Deploys an image as `kubectl set image` would: the controller makes or reuses a ReplicaSet.</summary>
    public void Deploy(string image, string? changeCause = null)
    {
        lock (_gate)
        {
            _deployment["spec"]!["template"] = Template(image);
            if (changeCause is not null) _deployment["metadata"]!["annotations"]!["kubernetes.io/change-cause"] = changeCause;
            Reconcile(immediately: true);
        }
    }

    public void Pause() { lock (_gate) _deployment["spec"]!["paused"] = true; }

    /// <summary>How many merge patches (kubectl patch --type merge) were applied.</summary>
    public int MergePatches { get; private set; }


    public string CurrentImage() { lock (_gate) return _deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>(); }

    public JsonObject Deployment() { lock (_gate) return (JsonObject)_deployment.DeepClone(); }

    private static string Hash(JsonNode template)
    {
        var copy = template.DeepClone();
        (copy["metadata"]?["labels"] as JsonObject)?.Remove("pod-template-hash");
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(copy.ToJsonString())))[..10].ToLowerInvariant();
    }

    private void Reconcile(bool immediately)
    {
        var template = _deployment["spec"]!["template"]!;
        var hash = Hash(template);
        var next = _sets.Count == 0 ? 1 : _sets.Max(s => long.Parse(s["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>())) + 1;
        var rs = _sets.FirstOrDefault(s => s["metadata"]!["labels"]!["pod-template-hash"]!.GetValue<string>() == hash);
        var annotations = new JsonObject { ["deployment.kubernetes.io/revision"] = next.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (k, v) in _deployment["metadata"]!["annotations"]!.AsObject())
        {
            if (!k.StartsWith("deployment.kubernetes.io/", StringComparison.Ordinal)) annotations[k] = v?.DeepClone();
        }
        if (rs is null)
        {
            var t = template.DeepClone();
            t["metadata"]!["labels"]!["pod-template-hash"] = hash;
            rs = new JsonObject
            {
                ["apiVersion"] = "apps/v1", ["kind"] = "ReplicaSet",
                ["metadata"] = new JsonObject
                {
                    ["name"] = $"{Name}-{hash}", ["namespace"] = Namespace, ["labels"] = new JsonObject { ["app"] = Name, ["pod-template-hash"] = hash },
                    ["creationTimestamp"] = DateTimeOffset.UtcNow.AddMinutes(_sets.Count).ToString("yyyy-MM-ddTHH:mm:ssZ"),
                    ["ownerReferences"] = new JsonArray(new JsonObject { ["kind"] = "Deployment", ["name"] = Name, ["uid"] = "dep-uid-1", ["controller"] = true }),
                },
                ["spec"] = new JsonObject { ["replicas"] = 0, ["template"] = t },
                ["status"] = new JsonObject { ["replicas"] = 0 },
            };
            _sets.Add(rs);
        }
        rs["metadata"]!["annotations"] = annotations;
        _deployment["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"] = annotations["deployment.kubernetes.io/revision"]!.DeepClone();
        _deployment["metadata"]!["generation"] = long.Parse(_deployment["metadata"]!["generation"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) + 1;
        _pendingReads = immediately ? 0 : ReadsToConverge;
        foreach (var s in _sets)
        {
            var live = s == rs ? _deployment["spec"]!["replicas"]!.GetValue<int>() : 0;
            s["spec"]!["replicas"] = live;
            s["status"]!["replicas"] = live;
        }
        if (immediately) Converge();
    }

    /// <summary>A replica change: the live ReplicaSet follows, the status after a few reads.</summary>
    private void Scale()
    {
        var replicas = _deployment["spec"]!["replicas"]!.GetValue<int>();
        var live = _sets.OrderByDescending(s => long.Parse(s["metadata"]!["annotations"]!["deployment.kubernetes.io/revision"]!.GetValue<string>())).FirstOrDefault();
        if (live is not null)
        {
            live["spec"]!["replicas"] = replicas;
            live["status"]!["replicas"] = replicas;
        }
        _deployment["metadata"]!["generation"] = long.Parse(_deployment["metadata"]!["generation"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) + 1;
        _pendingReads = ReadsToConverge;
    }

    public int Replicas() { lock (_gate) return _deployment["spec"]!["replicas"]!.GetValue<int>(); }

    private void Converge()
    {
        var image = CurrentImage();
        var replicas = _deployment["spec"]!["replicas"]!.GetValue<int>();
        if (image == StuckImage)
        {
            _deployment["status"] = new JsonObject
            {
                ["observedGeneration"] = _deployment["metadata"]!["generation"]!.DeepClone(), ["replicas"] = replicas + 1, ["updatedReplicas"] = 1, ["availableReplicas"] = replicas,
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Progressing", ["status"] = "False", ["reason"] = "ProgressDeadlineExceeded" }),
            };
            return;
        }
        _deployment["status"] = new JsonObject
        {
            ["observedGeneration"] = _deployment["metadata"]!["generation"]!.DeepClone(), ["replicas"] = replicas, ["updatedReplicas"] = replicas, ["availableReplicas"] = replicas,
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Progressing", ["status"] = "True", ["reason"] = "NewReplicaSetAvailable" }),
        };
    }

    /// <summary>A second container in every pod (its logs are read with --all-containers).</summary>
    public string? Sidecar { get; set; }

    private readonly List<(string Container, DateTimeOffset At, string Message)> _podLogs = [];

    /// <summary>A line every pod's <paramref name="container"/> wrote.</summary>
    public void AddPodLog(string container, DateTimeOffset at, string message) { lock (_gate) _podLogs.Add((container, at, message)); }

    /// <summary>
    /// GET /api/v1/namespaces/{ns}/pods/{pod}/log?container=&amp;timestamps=&amp;sinceTime=&amp;tailLines=&amp;follow= as the
    /// kubelet answers through the API server: text, one line per entry, "RFC3339Nano message" with timestamps=true; a
    /// follow stays open until the client goes.
    /// </summary>
    private async Task PodLog(HttpContext ctx)
    {
        var q = ctx.Request.Query;
        var container = q["container"].ToString();
        var since = q["sinceTime"].Count > 0 ? DateTimeOffset.Parse(q["sinceTime"]!, System.Globalization.CultureInfo.InvariantCulture) : (DateTimeOffset?)null;
        List<(string Container, DateTimeOffset At, string Message)> lines;
        lock (_gate) lines = _podLogs.Where(l => l.Container == container && (since is null || l.At >= since)).ToList();
        if (int.TryParse(q["tailLines"], out var tail) && tail >= 0) lines = lines.TakeLast(tail).ToList();
        ctx.Response.ContentType = "text/plain";
        foreach (var (_, at, message) in lines)
        {
            var stamp = q["timestamps"] == "true" ? at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", System.Globalization.CultureInfo.InvariantCulture) + " " : "";
            await ctx.Response.WriteAsync($"{stamp}{message}\n");
        }
        await ctx.Response.Body.FlushAsync();
        if (q["follow"] == "true")
        {
            try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
            catch (OperationCanceledException) { }
        }
    }

    private async Task Handle(HttpContext ctx)
    {
        if (ctx.Request.Method == "GET" && ctx.Request.Path.Value is { } lp && lp.StartsWith($"/api/v1/namespaces/{Namespace}/pods/", StringComparison.Ordinal) && lp.EndsWith("/log", StringComparison.Ordinal))
        {
            Log.Enqueue((ctx.Request.Method, lp + ctx.Request.QueryString, "", ""));
            await PodLog(ctx);
            return;
        }
        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        var path = ctx.Request.Path.Value ?? "";
        Log.Enqueue((ctx.Request.Method, path + ctx.Request.QueryString, body, ctx.Request.ContentType ?? ""));
        JsonNode reply;
        var status = 200;
        lock (_gate)
        {
            var selector = ctx.Request.Query["labelSelector"].ToString();
            reply = (ctx.Request.Method, path) switch
            {
                ("GET", "/version") => new JsonObject { ["major"] = "1", ["minor"] = "32", ["gitVersion"] = "v1.32.0" },
                ("GET", "/api") => new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1") },
                ("GET", "/apis") => JsonNode.Parse("""{"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}""")!,
                ("GET", "/api/v1") => JsonNode.Parse("""{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"],"shortNames":["po"]},{"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]},{"name":"secrets","singularName":"secret","namespaced":true,"kind":"Secret","verbs":["create","get","list","update"]}]}""")!,
                ("GET", "/apis/apps/v1") => JsonNode.Parse("""{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[{"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["get","list","patch"],"shortNames":["deploy"]},{"name":"replicasets","singularName":"replicaset","namespaced":true,"kind":"ReplicaSet","verbs":["get","list"],"shortNames":["rs"]}]}""")!,
                ("GET", $"/apis/apps/v1/namespaces/{Namespace}/deployments/{Name}") => ReadDeployment(),
                ("PATCH", $"/apis/apps/v1/namespaces/{Namespace}/deployments/{Name}") => Patch(body, ctx.Request.ContentType, out status),
                ("GET", $"/apis/apps/v1/namespaces/{Namespace}/replicasets") => List("ReplicaSetList", _sets.Where(s => Matches(s, selector))),
                ("GET", $"/api/v1/namespaces/{Namespace}/pods") => List("PodList", Pods().Where(p => Matches(p, selector))),
                // kubectl logs reads each pod by name before asking for its log.
                ("GET", var pp) when pp.StartsWith($"/api/v1/namespaces/{Namespace}/pods/", StringComparison.Ordinal) =>
                    Pods().FirstOrDefault(p => (string?)p["metadata"]!["name"] == pp[(pp.LastIndexOf('/') + 1)..]) is { } pod ? Kinded(pod) : NotFound(out status),
                ("GET", var sp) when sp.StartsWith($"/api/v1/namespaces/{Namespace}/secrets/", StringComparison.Ordinal) =>
                    Secrets.TryGetValue(sp[(sp.LastIndexOf('/') + 1)..], out var found) ? found.DeepClone() : NotFound(out status),
                ("PUT", var sp) when sp.StartsWith($"/api/v1/namespaces/{Namespace}/secrets/", StringComparison.Ordinal) => Store(body, mustExist: true, out status),
                ("POST", $"/api/v1/namespaces/{Namespace}/secrets") => Store(body, mustExist: false, out status),
                _ => NotFound(out status),
            };
        }
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(reply.ToJsonString());
    }

    /// <summary>Secrets by name, as stored (data base64).</summary>
    public Dictionary<string, JsonObject> Secrets { get; } = new(StringComparer.Ordinal);

    private JsonNode Store(string body, bool mustExist, out int status)
    {
        var secret = JsonNode.Parse(body)!.AsObject();
        var name = secret["metadata"]!["name"]!.GetValue<string>();
        if (mustExist != Secrets.ContainsKey(name))
        {
            status = mustExist ? 404 : 409;
            return new JsonObject { ["kind"] = "Status", ["code"] = status, ["reason"] = mustExist ? "NotFound" : "AlreadyExists" };
        }
        status = mustExist ? 200 : 201;
        secret["metadata"]!["resourceVersion"] = Guid.NewGuid().ToString("N")[..8];
        Secrets[name] = secret;
        return secret.DeepClone();
    }

    private JsonObject ReadDeployment()
    {
        if (_pendingReads > 0 && --_pendingReads == 0) Converge();
        return (JsonObject)_deployment.DeepClone();
    }

    private JsonNode Patch(string body, string? contentType, out int status)
    {
        status = 200;
        if (contentType?.StartsWith("application/merge-patch+json", StringComparison.Ordinal) == true)
        {
            // kubectl patch --type merge (RFC 7386): here only what rollout restart sends, the template's annotations.
            var merge = JsonNode.Parse(body)!["spec"]?["template"]?["metadata"]?["annotations"] as JsonObject;
            if (merge is null || JsonNode.Parse(body)!.AsObject().Count != 1) { status = 422; return new JsonObject { ["kind"] = "Status", ["code"] = 422, ["message"] = "unsupported merge patch" }; }
            var metadata = _deployment["spec"]!["template"]!["metadata"] as JsonObject ?? (JsonObject)(_deployment["spec"]!["template"]!["metadata"] = new JsonObject());
            var annotations = metadata["annotations"] as JsonObject ?? (JsonObject)(metadata["annotations"] = new JsonObject());
            foreach (var (k, v) in merge) annotations[k] = v?.DeepClone();
            MergePatches++;
            Reconcile(immediately: false);
            if (_pendingReads == 0) Converge();
            return _deployment.DeepClone();
        }
        if (contentType?.StartsWith("application/json-patch+json", StringComparison.Ordinal) != true) { status = 415; return new JsonObject { ["kind"] = "Status", ["code"] = 415 }; }
        var templateChanged = false;
        foreach (var op in JsonNode.Parse(body)!.AsArray())
        {
            var p = op!["path"]!.GetValue<string>();
            if (op["op"]!.GetValue<string>() != "replace" || p is not ("/spec/template" or "/metadata/annotations" or "/spec/replicas")) { status = 422; return new JsonObject { ["kind"] = "Status", ["code"] = 422, ["message"] = "unsupported patch " + p }; }
            if (p == "/spec/template")
            {
                templateChanged = true;
                _deployment["spec"]!["template"] = op["value"]!.DeepClone();
            }
            else if (p == "/spec/replicas") _deployment["spec"]!["replicas"] = op["value"]!.GetValue<int>();
            else _deployment["metadata"]!["annotations"] = op["value"]!.DeepClone();
        }
        if (templateChanged) Reconcile(immediately: false);
        else Scale();
        if (_pendingReads == 0) Converge();
        return _deployment.DeepClone();
    }

    private IEnumerable<JsonObject> Pods()
    {
        var live = _sets.FirstOrDefault(s => s["spec"]!["replicas"]!.GetValue<int>() > 0);
        if (live is null) yield break;
        var image = live["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>();
        var hash = live["metadata"]!["labels"]!["pod-template-hash"]!.GetValue<string>();
        for (var i = 0; i < live["spec"]!["replicas"]!.GetValue<int>(); i++)
        {
            var crash = image == CrashImage;
            yield return new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = $"{Name}-{hash}-{i}", ["namespace"] = Namespace, ["labels"] = new JsonObject { ["app"] = Name, ["pod-template-hash"] = hash } },
                ["spec"] = new JsonObject
                {
                    ["nodeName"] = "node-" + i,
                    ["containers"] = Sidecar is null ? new JsonArray(new JsonObject { ["name"] = Name, ["image"] = image })
                        : new JsonArray(new JsonObject { ["name"] = Name, ["image"] = image }, new JsonObject { ["name"] = Sidecar, ["image"] = "envoyproxy/envoy:v1.31" }),
                },
                ["status"] = new JsonObject
                {
                    ["phase"] = "Running", ["startTime"] = "2026-11-22T10:00:00Z",
                    ["containerStatuses"] = new JsonArray(crash
                        ? new JsonObject { ["ready"] = false, ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "CrashLoopBackOff" } } }
                        : new JsonObject { ["ready"] = true, ["state"] = new JsonObject { ["running"] = new JsonObject() } }),
                },
            };
        }
    }

    private static bool Matches(JsonObject o, string selector) =>
        selector.Split(',', StringSplitOptions.RemoveEmptyEntries).All(pair =>
        {
            var kv = pair.Split('=', 2);
            return o["metadata"]?["labels"]?[kv[0]]?.GetValue<string>() == kv[1];
        });

    private static JsonObject List(string kind, IEnumerable<JsonObject> items) =>
        new() { ["apiVersion"] = "v1", ["kind"] = kind, ["metadata"] = new JsonObject(), ["items"] = new JsonArray(items.Select(i => (JsonNode)i.DeepClone()).ToArray()) };

    private static JsonObject Kinded(JsonObject pod)
    {
        var copy = (JsonObject)pod.DeepClone();
        copy["apiVersion"] = "v1";
        copy["kind"] = "Pod";
        return copy;
    }

    private static JsonObject NotFound(out int status)
    {
        status = 404;
        return new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["status"] = "Failure", ["reason"] = "NotFound", ["code"] = 404, ["message"] = "the server could not find the requested resource" };
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
