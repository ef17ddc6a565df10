using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// Fly.io's Machines REST API and the releases part of its GraphQL API on Kestrel, as provider-apis.md describes them:
/// bare-array machine lists, full-config updates, leases (409 when held, nonce required to update and release), wait
/// (200 or 408), 401 for a wrong token, injectable 429 (with Retry-After) and 5xx, images that never start, and a
/// request log (method, path, body, Authorization) for -WhatIf proofs.
/// </summary>
public sealed class FakeFly : IAsyncDisposable
{
    private readonly FakeHttpServer _server;
    private readonly object _gate = new();
    private readonly Dictionary<string, JsonObject> _machines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _leases = new(StringComparer.Ordinal);
    private readonly List<JsonObject> _releases = [];
    private readonly ConcurrentDictionary<string, (int status, int count, int retryAfter, string? method)> _faults = new(StringComparer.Ordinal);
    private int _instance;

    private FakeFly(FakeHttpServer server, string app, string token)
    {
        _server = server;
        App = app;
        Token = token;
    }

    public string App { get; }
    public string Token { get; }
    public Uri MachinesApi => new(_server.BaseUrl + "/v1/");
    public Uri GraphQl => new(_server.BaseUrl + "/graphql");
    public ConcurrentQueue<(string Method, string Path, string Body, string Authorization)> Log { get; } = new();
    /// <summary>App secrets (Machines API /v1/apps/{app}/secrets, or the legacy GraphQL setSecrets).</summary>
    public ConcurrentDictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal);
    /// <summary>The app's secrets version: each update makes a new one.</summary>
    public long SecretsVersion { get; private set; }
    /// <summary>Machines updated to this image never reach "started".</summary>
    public string? NeverStartsImage { get; set; }

    public static async Task<FakeFly> StartAsync(string app = "paintbox-app", string token = "fm2_test-token-0123456789", int port = 0)
    {
        FakeFly? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeFly(server, app, token);
        return self;
    }

    public void AddMachine(string id, string image, string region = "iad", int releaseVersion = 1, string state = "started", string group = "app")
    {
        lock (_gate)
        {
            _machines[id] = new JsonObject
            {
                ["id"] = id, ["name"] = "m-" + id, ["state"] = state, ["region"] = region, ["instance_id"] = "i" + Interlocked.Increment(ref _instance),
                ["private_ip"] = "fdaa::" + _machines.Count, ["created_at"] = "2026-11-01T10:00:00Z", ["updated_at"] = "2026-11-20T10:00:00Z",
                ["config"] = new JsonObject
                {
                    ["image"] = image, ["guest"] = new JsonObject { ["cpu_kind"] = "shared", ["cpus"] = 1, ["memory_mb"] = 512 },
                    ["env"] = new JsonObject { ["PORT"] = "8080" },
                    ["metadata"] = new JsonObject { ["fly_process_group"] = group, ["fly_release_version"] = releaseVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), ["fly_platform_version"] = "v2" },
                },
                ["checks"] = new JsonArray(new JsonObject { ["name"] = "http", ["status"] = "passing" }),
            };
        }
    }

    /// <summary>
    /// Adds a machine of a Fly Postgres cluster as flyctl's postgres launcher makes them: metadata fly-managed-postgres,
    /// env PRIMARY_REGION, and the health checks postgres-flex registers (pg, vm, role), the role check's output naming
    /// the machine's role (primary or replica).
    /// </summary>
    public void AddPostgresMachine(string id, string region, string role, string primaryRegion = "iad")
    {
        lock (_gate)
        {
            _machines[id] = new JsonObject
            {
                ["id"] = id, ["name"] = "pg-" + id, ["state"] = "started", ["region"] = region, ["instance_id"] = "i" + Interlocked.Increment(ref _instance),
                ["private_ip"] = "fdaa:0:1::" + (_machines.Count + 2), ["created_at"] = "2026-10-01T10:00:00Z", ["updated_at"] = "2026-11-20T10:00:00Z",
                ["image_ref"] = new JsonObject { ["registry"] = "registry-1.docker.io", ["repository"] = "flyio/postgres-flex", ["tag"] = "15.8", ["labels"] = new JsonObject { ["fly.pg-manager"] = "repmgr" } },
                ["config"] = new JsonObject
                {
                    ["image"] = "flyio/postgres-flex:15.8", ["guest"] = new JsonObject { ["cpu_kind"] = "shared", ["cpus"] = 1, ["memory_mb"] = 1024 },
                    ["env"] = new JsonObject { ["PRIMARY_REGION"] = primaryRegion },
                    ["metadata"] = new JsonObject { ["fly-managed-postgres"] = "true", ["managed-by-fly-deploy"] = "true" },
                    ["mounts"] = new JsonArray(new JsonObject { ["volume"] = "vol_" + id, ["path"] = "/data" }),
                },
                ["checks"] = new JsonArray(),
            };
        }
        SetRole(id, role);
    }

    /// <summary>Sets the machine's pg, vm and role checks as postgres-flex reports them; a failing role check (status critical) says "error" to flyctl.</summary>
    public void SetRole(string id, string role, string status = "passing")
    {
        lock (_gate)
        {
            var at = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
            _machines[id]["checks"] = new JsonArray(
                new JsonObject { ["name"] = "pg", ["status"] = status, ["output"] = status == "passing" ? "[✓] connections: 12 used, 3 reserved, 300 max" : "failed to connect to local node", ["updated_at"] = at },
                new JsonObject { ["name"] = "role", ["status"] = status, ["output"] = status == "passing" ? role : "failed to connect to local node", ["updated_at"] = at },
                new JsonObject { ["name"] = "vm", ["status"] = "passing", ["output"] = "[✓] checkDisk: 9.6 GB (98.4%) free space on /data/", ["updated_at"] = at });
        }
    }

    /// <summary>
    /// What happens after a machine is killed (POST …/signal {"signal": 9}), run after the answer as the platform's
    /// own reaction: the test stops the server the machine ran and lets the cluster's manager promote a replica.
    /// </summary>
    public Func<string, Task>? OnKill { get; set; }

    /// <summary>
    /// What a Fly Postgres cluster does when its primary machine is killed: the dead machine's checks fail, the
    /// cluster's manager acts (<paramref name="failover"/>: the test stops the server and promotes a replica, or
    /// restarts the old one), and the role checks then name <paramref name="promoted"/> (null: the old primary again).
    /// </summary>
    public void FailOverOnKill(string primary, string? promoted, Func<Task> failover)
    {
        OnKill = async killed =>
        {
            if (killed != primary) return;
            SetRole(primary, "primary", "critical");
            await failover();
            if (promoted is null)
            {
                lock (_gate) _machines[primary]["state"] = "started";
                SetRole(primary, "primary");
            }
            else
            {
                SetRole(promoted, "primary");
            }
        };
    }

    private readonly Dictionary<string, FakeFly> _apps = new(StringComparer.Ordinal);

    /// <summary>Serves <paramref name="other"/>'s app from this API too (one Machines API, several apps, one token).</summary>
    public void Serve(FakeFly other) { lock (_gate) _apps[other.App] = other; }

    public void AddRelease(int version, string image, string status = "complete", string createdAt = "2026-11-20T10:00:00Z")
    {
        lock (_gate)
        {
            _releases.Add(new JsonObject
            {
                ["id"] = "rel_" + version, ["version"] = version, ["description"] = "Deploy image", ["reason"] = "deploy", ["status"] = status, ["imageRef"] = image,
                ["stable"] = status == "complete", ["user"] = new JsonObject { ["email"] = "dev@example.com" }, ["createdAt"] = createdAt,
            });
        }
    }

    /// <summary>The next <paramref name="count"/> requests whose path contains <paramref name="pathPart"/> answer <paramref name="status"/>.</summary>
    public void Fail(string pathPart, int status, int count = 1, int retryAfterSeconds = 0, string? method = null) => _faults[pathPart] = (status, count, retryAfterSeconds, method);

    /// <summary>Another owner holds the machine's lease; it lets go after <paramref name="releaseAfterAttempts"/> refused lease requests.</summary>
    public void HoldLease(string machineId, int releaseAfterAttempts = int.MaxValue)
    {
        lock (_gate)
        {
            _leases[machineId] = "someone-else";
            _heldFor[machineId] = releaseAfterAttempts;
        }
    }

    private readonly Dictionary<string, int> _heldFor = new(StringComparer.Ordinal);

    /// <summary>Adds a machine of another kind: fly_app_release_command, fly_app_console, or a non-Launch machine (group null, no platform version).</summary>
    public void AddSpecialMachine(string id, string image, string? group)
    {
        AddMachine(id, image, group: group ?? "app");
        lock (_gate)
        {
            if (group is null) ((JsonObject)_machines[id]["config"]!["metadata"]!).Remove("fly_platform_version");
        }
    }

    /// <summary>Gives the machine a volume mount, as fly.toml's [mounts] does.</summary>
    public void Mount(string machineId)
    {
        lock (_gate) _machines[machineId]["config"]!["mounts"] = new JsonArray(new JsonObject { ["volume"] = "vol_" + machineId, ["path"] = "/data" });
    }

    public bool Leased(string machineId) { lock (_gate) return _leases.ContainsKey(machineId); }

    public JsonObject Machine(string id) { lock (_gate) return (JsonObject)_machines[id].DeepClone(); }

    private readonly List<JsonObject> _logs = [];

    /// <summary>Entries per page of the logs API (Fly's own pages are larger; small pages exercise next_token).</summary>
    public int LogPageSize { get; set; } = 3;

    /// <summary>Adds an entry to the app's log buffer (fly-go LogEntry's fields), oldest first.</summary>
    public void AddLog(DateTimeOffset at, string message, string level = "info", string instance = "e784079b449483", string region = "ord")
    {
        lock (_gate)
        {
            _logs.Add(new JsonObject
            {
                ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
                ["message"] = message, ["level"] = level, ["instance"] = instance, ["region"] = region,
                ["meta"] = new JsonObject { ["instance"] = instance, ["region"] = region, ["event"] = new JsonObject { ["provider"] = "app" } },
            });
        }
    }

    /// <summary>
    /// GET /api/v1/apps/{app}/logs (fly-go resource_logs.go): {"data":[{"id","type","attributes":LogEntry}],
    /// "meta":{"next_token"}}. The token is the position after the page; filters by instance or region; past the end,
    /// an empty page with an empty token (flyctl keeps its last one).
    /// </summary>
    private JsonObject LogsPage(IQueryCollection query)
    {
        lock (_gate)
        {
            var from = int.TryParse(query["next_token"].ToString(), out var n) ? n : 0;
            var instance = query["instance"].ToString();
            var region = query["region"].ToString();
            var page = new JsonArray();
            var at = from;
            for (; at < _logs.Count && page.Count < LogPageSize; at++)
            {
                var e = _logs[at];
                if (instance.Length > 0 && (string?)e["instance"] != instance) continue;
                if (region.Length > 0 && (string?)e["region"] != region) continue;
                page.Add(new JsonObject { ["id"] = "log-" + at, ["type"] = "logs", ["attributes"] = e.DeepClone() });
            }
            return new JsonObject { ["data"] = page, ["meta"] = new JsonObject { ["next_token"] = page.Count == 0 ? "" : at.ToString(System.Globalization.CultureInfo.InvariantCulture) } };
        }
    }

    private async Task Handle(HttpContext ctx)
    {
        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        var path = ctx.Request.Path.Value ?? "";
        var auth = ctx.Request.Headers.Authorization.ToString();
        Log.Enqueue((ctx.Request.Method, path + ctx.Request.QueryString, body, auth));
        if (auth != "Bearer " + Token && auth != "FlyV1 " + Token) { await Json(ctx, 401, new JsonObject { ["error"] = "unauthorized" }); return; }
        foreach (var (part, fault) in _faults)
        {
            if (fault.count > 0 && path.Contains(part, StringComparison.Ordinal) && (fault.method is null || fault.method == ctx.Request.Method))
            {
                _faults[part] = fault with { count = fault.count - 1 };
                if (fault.retryAfter > 0) ctx.Response.Headers.RetryAfter = fault.retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await Json(ctx, fault.status, new JsonObject { ["error"] = "injected fault" });
                return;
            }
        }
        FakeFly? other = null;
        lock (_gate)
        {
            foreach (var (app, fake) in _apps)
            {
                if (path.StartsWith($"/v1/apps/{app}/", StringComparison.Ordinal) || path == $"/v1/apps/{app}") other = fake;
            }
        }
        if (other is not null)
        {
            other.Log.Enqueue((ctx.Request.Method, path + ctx.Request.QueryString, body, auth));
            await other.Route(ctx, body, path);
            return;
        }
        await Route(ctx, body, path);
    }

    private async Task Route(HttpContext ctx, string body, string path)
    {
        if (path == "/graphql") { await AnswerGraphQl(ctx, body); return; }
        if (path == $"/api/v1/apps/{App}/logs" && ctx.Request.Method == "GET") { await Json(ctx, 200, LogsPage(ctx.Request.Query)); return; }
        if (path == $"/v1/apps/{App}/secrets" && ctx.Request.Method == "POST")
        {
            // fly-go flaps_secrets.go UpdateAppSecrets: {"values":{name: value|null}} → {"secrets":[...],"version":N}.
            var values = JsonNode.Parse(body)?["values"] as JsonObject;
            if (values is null) { await Json(ctx, 400, new JsonObject { ["error"] = "values is required" }); return; }
            long version;
            lock (_gate)
            {
                foreach (var (name, value) in values)
                {
                    if (value is null) Secrets.TryRemove(name, out _);
                    else Secrets[name] = value.GetValue<string>();
                }
                version = ++SecretsVersion;
            }
            await Json(ctx, 200, new JsonObject { ["secrets"] = new JsonArray(values.Select(v => (JsonNode)new JsonObject { ["name"] = v.Key }).ToArray()), ["version"] = version });
            return;
        }
        var prefix = $"/v1/apps/{App}/machines";
        if (!path.StartsWith(prefix, StringComparison.Ordinal)) { await Json(ctx, 404, new JsonObject { ["error"] = "app not found" }); return; }
        var rest = path[prefix.Length..].Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        JsonNode? reply;
        int status;
        lock (_gate) (status, reply) = Machines(ctx.Request.Method, rest, body, ctx.Request.Headers["fly-machine-lease-nonce"].ToString(), ctx.Request.Query);
        await Json(ctx, status, reply);
        if (status == 200 && rest is [var killed, "signal"] && OnKill is { } hook) _ = Task.Run(() => hook(killed));
    }

    private (int, JsonNode?) Machines(string method, string[] rest, string body, string nonce, IQueryCollection query)
    {
        if (rest.Length == 0 && method == "GET") return (200, new JsonArray(_machines.Values.Select(m => (JsonNode)m.DeepClone()).ToArray()));
        if (rest.Length == 0 && method == "POST")
        {
            var create = JsonNode.Parse(body)!.AsObject();
            if (create["config"] is not JsonObject config || config["image"] is null) return (400, new JsonObject { ["error"] = "config.image is required" });
            var newId = "m" + (100 + Interlocked.Increment(ref _instance));
            var region = create["region"]?.GetValue<string>() ?? "iad";
            _machines[newId] = new JsonObject
            {
                ["id"] = newId, ["name"] = "m-" + newId, ["state"] = "started", ["region"] = region, ["instance_id"] = "i" + Interlocked.Increment(ref _instance),
                ["created_at"] = "2026-11-22T12:00:" + (10 + _machines.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) + "Z", ["updated_at"] = "2026-11-22T12:00:00Z",
                ["config"] = config.DeepClone(), ["checks"] = new JsonArray(),
            };
            return (200, _machines[newId].DeepClone());
        }
        if (rest.Length == 0) return (405, new JsonObject { ["error"] = "method not allowed" });
        if (!_machines.TryGetValue(rest[0], out var m)) return (404, new JsonObject { ["error"] = "machine not found" });
        var id = rest[0];
        var action = rest.Length > 1 ? rest[1] : null;
        switch (method, action)
        {
            case ("GET", null):
                return (200, m.DeepClone());
            case ("DELETE", null):
                if (_leases.TryGetValue(id, out var owner) && owner != nonce) return (409, new JsonObject { ["error"] = "machine is leased" });
                if (m["state"]!.GetValue<string>() == "started" && query["kill"] != "true") return (412, new JsonObject { ["error"] = "machine is running; stop it or pass kill=true" });
                _machines.Remove(id);
                _leases.Remove(id);
                return (200, new JsonObject { ["ok"] = true });
            case ("POST", null):
            {
                if (_leases.TryGetValue(id, out var held) && held != nonce) return (409, new JsonObject { ["error"] = "machine is leased; a valid fly-machine-lease-nonce is required" });
                var request = JsonNode.Parse(body)!.AsObject();
                if (request["config"] is not JsonObject config || config["image"] is null) return (400, new JsonObject { ["error"] = "config.image is required: an update takes the full config" });
                // min_secrets_version: the machine boots only with secrets at least that new (LaunchMachineInput).
                if (request["min_secrets_version"] is JsonValue floor)
                {
                    if (floor.GetValue<long>() > SecretsVersion) return (422, new JsonObject { ["error"] = "min_secrets_version is newer than the app's secrets" });
                    m["secrets_version"] = floor.GetValue<long>();
                }
                m["config"] = config.DeepClone();
                m["instance_id"] = "i" + Interlocked.Increment(ref _instance);
                // skip_launch: the Machines API updates the config and leaves the machine as it is (stopped).
                if (request["skip_launch"]?.GetValue<bool>() != true) m["state"] = config["image"]!.GetValue<string>() == NeverStartsImage ? "starting" : "started";
                return (200, m.DeepClone());
            }
            case ("POST", "lease"):
            {
                if (_leases.TryGetValue(id, out var current))
                {
                    var left = current == "someone-else" && _heldFor.TryGetValue(id, out var l) ? l - 1 : int.MaxValue;
                    if (left <= 0) _leases.Remove(id);
                    else
                    {
                        if (current == "someone-else") _heldFor[id] = left;
                        return (409, new JsonObject { ["error"] = "lease currently held by another owner" });
                    }
                }
                var n = Guid.NewGuid().ToString("N");
                _leases[id] = n;
                return (201, new JsonObject { ["status"] = "success", ["data"] = new JsonObject { ["nonce"] = n, ["expires_at"] = 1_900_000_000, ["owner"] = "test" } });
            }
            case ("DELETE", "lease"):
            {
                if (!_leases.TryGetValue(id, out var held) || held != nonce) return (400, new JsonObject { ["error"] = "lease nonce does not match" });
                _leases.Remove(id);
                return (200, new JsonObject { ["status"] = "success" });
            }
            case ("GET", "wait"):
                return query["state"] == "started" && m["state"]!.GetValue<string>() == "started"
                    ? (200, new JsonObject { ["ok"] = true })
                    : (408, new JsonObject { ["error"] = "deadline_exceeded: machine failed to reach desired state, started" });
            case ("POST", "signal"):
            {
                // fly-go Kill / flyctl machine kill: {"signal": 9}, no lease taken; the main process dies, the machine stops.
                if (_leases.TryGetValue(id, out var holder) && holder != nonce) return (409, new JsonObject { ["error"] = "machine is leased; a valid fly-machine-lease-nonce is required" });
                if (JsonNode.Parse(body) is not JsonObject signal || signal["signal"] is not JsonValue number || !number.TryGetValue<int>(out var sig) || sig is < 1 or > 31)
                {
                    return (400, new JsonObject { ["error"] = "signal must be a number (9 for SIGKILL)" });
                }
                if (m["state"]!.GetValue<string>() != "started") return (412, new JsonObject { ["error"] = $"machine is {m["state"]!.GetValue<string>()}, not started" });
                if (sig == 9)
                {
                    m["state"] = "stopped";
                    m["updated_at"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
                }
                return (200, new JsonObject { ["ok"] = true });
            }
            case ("POST", "start" or "stop" or "restart") when _leases.TryGetValue(id, out var holder) && holder != nonce:
                return (409, new JsonObject { ["error"] = "machine is leased; a valid fly-machine-lease-nonce is required" });
            case ("POST", "start"):
                m["state"] = m["config"]!["image"]!.GetValue<string>() == NeverStartsImage ? "starting" : "started";
                return (200, new JsonObject { ["previous_state"] = "stopped" });
            case ("POST", "stop"):
                m["state"] = "stopped";
                return (200, new JsonObject { ["ok"] = true });
            case ("POST", "restart"):
                m["instance_id"] = "i" + Interlocked.Increment(ref _instance);
                return (200, new JsonObject { ["ok"] = true });
            default:
                return (404, new JsonObject { ["error"] = "no such route" });
        }
    }

    private async Task AnswerGraphQl(HttpContext ctx, string body)
    {
        var request = JsonNode.Parse(body)!.AsObject();
        var query = request["query"]?.GetValue<string>() ?? "";
        var variables = request["variables"] as JsonObject;
        if (query.Contains("setSecrets(", StringComparison.Ordinal))
        {
            var input = variables?["input"] as JsonObject;
            if (input?["appId"]?.GetValue<string>() != App) { await Json(ctx, 200, new JsonObject { ["data"] = null, ["errors"] = new JsonArray(new JsonObject { ["message"] = "Could not find App" }) }); return; }
            foreach (var secret in input["secrets"]!.AsArray()) Secrets[secret!["key"]!.GetValue<string>()] = secret["value"]!.GetValue<string>();
            await Json(ctx, 200, new JsonObject { ["data"] = new JsonObject { ["setSecrets"] = new JsonObject { ["release"] = new JsonObject { ["id"] = "rel_s", ["version"] = 99 } } } });
            return;
        }
        if (!query.Contains("releasesUnprocessed", StringComparison.Ordinal))
        {
            await Json(ctx, 200, new JsonObject { ["data"] = null, ["errors"] = new JsonArray(new JsonObject { ["message"] = "unknown query" }) });
            return;
        }
        if (variables?["appName"]?.GetValue<string>() != App)
        {
            await Json(ctx, 200, new JsonObject { ["data"] = new JsonObject { ["app"] = null }, ["errors"] = new JsonArray(new JsonObject { ["message"] = "Could not find App" }) });
            return;
        }
        var limit = variables["limit"]?.GetValue<int>() ?? 25;
        JsonArray nodes;
        lock (_gate) nodes = new JsonArray(_releases.OrderByDescending(r => r["version"]!.GetValue<int>()).Take(limit).Select(r => (JsonNode)r.DeepClone()).ToArray());
        await Json(ctx, 200, new JsonObject { ["data"] = new JsonObject { ["app"] = new JsonObject { ["releases"] = new JsonObject { ["nodes"] = nodes } } } });
    }

    private static Task Json(HttpContext ctx, int status, JsonNode? body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.Headers["fly-request-id"] = Guid.NewGuid().ToString("N");
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body?.ToJsonString() ?? "");
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
