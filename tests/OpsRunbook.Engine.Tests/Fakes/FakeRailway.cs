using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// Railway's public GraphQL API (the parts the provider uses) on Kestrel, as provider-apis.md describes it: the three
/// token headers, deployments as a Relay connection (first/after, pageInfo), deploymentRollback(id): Boolean! (only when
/// canRollback), errors inside HTTP 200, 429 with Retry-After, a request log, and a rollback deployment that goes
/// DEPLOYING → SUCCESS (or CRASHED) over the next polls.
/// </summary>
public sealed class FakeRailway : IAsyncDisposable
{
    private readonly FakeHttpServer _server;
    private readonly object _gate = new();
    private readonly List<JsonObject> _deployments = [];
    private int _throttle;
    private int _sequence;

    private FakeRailway(FakeHttpServer server, string header, string token)
    {
        _server = server;
        Header = header;
        Token = token;
    }

    public const string Project = "proj-1", Service = "svc-1", Environment = "env-1";
    public string Header { get; }
    public string Token { get; }
    public Uri Api => new(_server.BaseUrl + "/graphql/v2");
    public ConcurrentQueue<(string Query, string Variables)> Log { get; } = new();
    public ConcurrentQueue<string> Restarted { get; } = new();
    public ConcurrentQueue<string> Stopped { get; } = new();
    /// <summary>How many variableCollectionUpsert calls were made (each is one redeploy unless skipDeploys).</summary>
    public int Upserts { get; private set; }
    /// <summary>The User-Agent and x-source of every request.</summary>
    public ConcurrentQueue<string> Agents { get; } = new();
    public ConcurrentDictionary<string, (string Value, bool SkipDeploys)> Variables { get; } = new(StringComparer.Ordinal);
    /// <summary>Rollback deployments end CRASHED instead of SUCCESS.</summary>
    public bool RollbacksCrash { get; set; }
    /// <summary>Polls a rollback deployment stays DEPLOYING for.</summary>
    public int DeployingPolls { get; set; } = 2;

    /// <summary>Header is "Authorization" (account and team tokens: Bearer) or "Project-Access-Token" (railwayapp/cli src/client.rs).</summary>
    public static async Task<FakeRailway> StartAsync(string header = "Project-Access-Token", string token = "railway-project-token-0123", int port = 0)
    {
        FakeRailway? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeRailway(server, header, token);
        return self;
    }

    public string AddDeployment(string status, bool canRollback, string image, int minutesAgo)
    {
        lock (_gate)
        {
            var id = "dep-" + Interlocked.Increment(ref _sequence);
            _deployments.Add(New(id, status, canRollback, image, DateTimeOffset.UtcNow.AddMinutes(-minutesAgo)));
            return id;
        }
    }

    private readonly List<(string Deployment, JsonObject Log)> _logs = [];
    private readonly List<(string Deployment, JsonObject Log)> _httpLogs = [];

    /// <summary>A line of a deployment's output, as a Log (timestamp, message, severity, attributes with JSON values).</summary>
    public void AddLog(string deployment, DateTimeOffset at, string message, string severity = "info", params (string Key, string JsonValue)[] attributes)
    {
        lock (_gate)
        {
            _logs.Add((deployment, new JsonObject
            {
                ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture), ["message"] = message, ["severity"] = severity,
                ["attributes"] = new JsonArray(attributes.Select(a => (JsonNode)new JsonObject { ["key"] = a.Key, ["value"] = a.JsonValue }).ToArray()), ["tags"] = new JsonObject { ["deploymentId"] = deployment },
            }));
        }
    }

    /// <summary>A request of a deployment, as an HttpLog.</summary>
    public void AddHttpLog(string deployment, DateTimeOffset at, string method, string path, int status, int totalDuration, string srcIp = "203.0.113.9")
    {
        lock (_gate)
        {
            _httpLogs.Add((deployment, new JsonObject
            {
                ["timestamp"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture), ["method"] = method, ["path"] = path, ["httpStatus"] = status,
                ["totalDuration"] = totalDuration, ["requestId"] = "req-" + _httpLogs.Count, ["host"] = "app.up.railway.app", ["clientUa"] = "curl/8.5.0", ["srcIp"] = srcIp,
                ["edgeRegion"] = "us-east4", ["upstreamRqDuration"] = totalDuration - 1,
            }));
        }
    }

    private static DateTimeOffset? When(JsonNode? value) => value is JsonValue v && v.TryGetValue<string>(out var s) ? DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>deploymentLogs(deploymentId, limit, filter, startDate, endDate): oldest first, and one more than the limit, as the CLI says the API does (deployment.rs take_last_n_logs).</summary>
    private JsonObject DeploymentLogs(JsonObject variables)
    {
        var id = variables["deploymentId"]?.GetValue<string>();
        if (id is null) return Errors("Variable \"$deploymentId\" of required type \"String!\" was not provided.");
        var limit = variables["limit"] is JsonValue l ? l.GetValue<int>() : 500;
        DateTimeOffset? start = When(variables["startDate"]), end = When(variables["endDate"]);
        var rows = _logs.Where(x => x.Deployment == id).Select(x => x.Log)
            .Where(x => (start is null || When(x["timestamp"]) >= start) && (end is null || When(x["timestamp"]) < end)).ToList();
        return new JsonObject { ["data"] = new JsonObject { ["deploymentLogs"] = new JsonArray(rows.TakeLast(limit + 1).Select(r => r.DeepClone()).ToArray()) } };
    }

    /// <summary>httpLogs(deploymentId, beforeLimit!, beforeDate, anchorDate…): the requests between the dates, the last beforeLimit.</summary>
    private JsonObject HttpLogs(JsonObject variables)
    {
        var id = variables["deploymentId"]?.GetValue<string>();
        if (id is null || variables["beforeLimit"] is not JsonValue b) return Errors("Variable \"$beforeLimit\" of required type \"Int!\" was not provided.");
        DateTimeOffset? start = When(variables["beforeDate"]), end = When(variables["anchorDate"]);
        var rows = _httpLogs.Where(x => x.Deployment == id).Select(x => x.Log)
            .Where(x => (start is null || When(x["timestamp"]) >= start) && (end is null || When(x["timestamp"]) < end)).ToList();
        return new JsonObject { ["data"] = new JsonObject { ["httpLogs"] = new JsonArray(rows.TakeLast(b.GetValue<int>()).Select(r => r.DeepClone()).ToArray()) } };
    }

    public void Throttle(int count) => _throttle = count;

    public JsonObject Deployment(string id) { lock (_gate) return (JsonObject)_deployments.Single(d => d["id"]!.GetValue<string>() == id).DeepClone(); }

    private static JsonObject New(string id, string status, bool canRollback, string image, DateTimeOffset created) => new()
    {
        ["id"] = id, ["status"] = status, ["createdAt"] = created.ToString("O"), ["updatedAt"] = created.ToString("O"), ["canRollback"] = canRollback, ["canRedeploy"] = true,
        ["meta"] = new JsonObject { ["image"] = image, ["commitMessage"] = "deploy " + image }, ["url"] = null, ["staticUrl"] = "app.up.railway.app",
        ["serviceId"] = Service, ["environmentId"] = Environment, ["projectId"] = Project, ["pendingPolls"] = 0,
    };

    private async Task Handle(HttpContext ctx)
    {
        var body = JsonNode.Parse(await new StreamReader(ctx.Request.Body).ReadToEndAsync())!.AsObject();
        var query = body["query"]?.GetValue<string>() ?? "";
        var variables = body["variables"] as JsonObject ?? new JsonObject();
        Log.Enqueue((query, variables.ToJsonString()));
        Agents.Enqueue(ctx.Request.Headers.UserAgent.ToString());
        Agents.Enqueue(ctx.Request.Headers["x-source"].ToString());
        var expected = Header == "Authorization" ? "Bearer " + Token : Token;
        if (ctx.Request.Headers[Header].ToString() != expected) { await Reply(ctx, Errors("Not Authorized")); return; }
        if (Interlocked.Decrement(ref _throttle) >= 0)
        {
            ctx.Response.StatusCode = 429;
            ctx.Response.Headers.RetryAfter = "2";
            await ctx.Response.WriteAsync("""{"errors":[{"message":"Rate limit exceeded"}]}""");
            return;
        }
        JsonObject reply;
        lock (_gate)
        {
            if (query.Contains("deploymentRollback", StringComparison.Ordinal))
            {
                if (query.Contains("deploymentRollback(id: $id) {", StringComparison.Ordinal)) reply = Errors("Field \"deploymentRollback\" must not have a selection since type \"Boolean!\" has no subfields.");
                else reply = Rollback(variables["id"]?.GetValue<string>());
            }
            else if (query.Contains("variableCollectionUpsert", StringComparison.Ordinal))
            {
                // Railway's schema (railwayapp/cli src/gql/schema.json): VariableCollectionUpsertInput { projectId!,
                // environmentId!, serviceId, variables: EnvironmentVariables!, replace = false, skipDeploys = false }.
                var input = variables["input"] as JsonObject;
                if (input?["serviceId"]?.GetValue<string>() != Service || input["environmentId"]?.GetValue<string>() != Environment || input["projectId"]?.GetValue<string>() != Project) reply = Errors("Service not found");
                else if (input["variables"] is not JsonObject set) reply = Errors("Variable \"$input\" got invalid value; Field \"variables\" of required type \"EnvironmentVariables!\" was not provided.");
                else
                {
                    var skip = input["skipDeploys"]?.GetValue<bool>() ?? false;
                    foreach (var (name, value) in set) Variables[name] = (value!.GetValue<string>(), skip);
                    Upserts++;
                    reply = new JsonObject { ["data"] = new JsonObject { ["variableCollectionUpsert"] = true } };
                }
            }
            else if (query.Contains("deploymentStop", StringComparison.Ordinal))
            {
                var d = _deployments.FirstOrDefault(x => x["id"]!.GetValue<string>() == variables["id"]?.GetValue<string>());
                if (d is null) reply = Errors("Deployment not found");
                else
                {
                    d["status"] = "REMOVED";
                    Stopped.Enqueue(d["id"]!.GetValue<string>());
                    reply = new JsonObject { ["data"] = new JsonObject { ["deploymentStop"] = true } };
                }
            }
            else if (query.Contains("deploymentRedeploy", StringComparison.Ordinal))
            {
                var d = _deployments.FirstOrDefault(x => x["id"]!.GetValue<string>() == variables["id"]?.GetValue<string>());
                if (d is null) reply = Errors("Deployment not found");
                else
                {
                    var created = New("dep-" + Interlocked.Increment(ref _sequence), "DEPLOYING", false, d["meta"]!["image"]!.GetValue<string>(), DateTimeOffset.UtcNow);
                    created["pendingPolls"] = DeployingPolls;
                    _deployments.Add(created);
                    reply = new JsonObject { ["data"] = new JsonObject { ["deploymentRedeploy"] = new JsonObject { ["id"] = created["id"]!.DeepClone(), ["status"] = "DEPLOYING" } } };
                }
            }
            else if (query.Contains("deploymentRestart", StringComparison.Ordinal))
            {
                var id = variables["id"]?.GetValue<string>();
                var d = _deployments.FirstOrDefault(x => x["id"]!.GetValue<string>() == id);
                reply = d is null ? Errors("Deployment not found") : new JsonObject { ["data"] = new JsonObject { ["deploymentRestart"] = true } };
                if (d is not null) Restarted.Enqueue(id!);
            }
            else if (query.Contains("deploymentLogs(", StringComparison.Ordinal)) reply = DeploymentLogs(variables);
            else if (query.Contains("httpLogs(", StringComparison.Ordinal)) reply = HttpLogs(variables);
            else if (query.Contains("deployments(", StringComparison.Ordinal)) reply = List(variables);
            else reply = Errors("Cannot query field");
        }
        await Reply(ctx, reply);
    }

    private JsonObject Rollback(string? id)
    {
        var target = _deployments.FirstOrDefault(d => d["id"]!.GetValue<string>() == id);
        if (target is null) return Errors("Deployment not found");
        if (target["canRollback"]!.GetValue<bool>() != true) return Errors("Cannot rollback to this deployment");
        foreach (var d in _deployments.Where(d => d["status"]!.GetValue<string>() == "SUCCESS")) d["status"] = "REMOVED";
        var created = New("dep-" + Interlocked.Increment(ref _sequence), "DEPLOYING", false, target["meta"]!["image"]!.GetValue<string>(), DateTimeOffset.UtcNow);
        created["pendingPolls"] = DeployingPolls;
        _deployments.Add(created);
        return new JsonObject { ["data"] = new JsonObject { ["deploymentRollback"] = true } };
    }

    private JsonObject List(JsonObject variables)
    {
        var input = variables["input"] as JsonObject;
        if (input?["serviceId"]?.GetValue<string>() != Service || input["environmentId"]?.GetValue<string>() != Environment) return Errors("Service not found");
        var first = variables["first"]?.GetValue<int>() ?? 20;
        var after = variables["after"]?.GetValue<string>();
        var ordered = _deployments.OrderByDescending(d => d["createdAt"]!.GetValue<string>(), StringComparer.Ordinal).ToList();
        // A deployment in progress advances one step per listing.
        foreach (var d in ordered.Where(d => d["status"]!.GetValue<string>() == "DEPLOYING"))
        {
            var left = d["pendingPolls"]!.GetValue<int>();
            if (left <= 0) d["status"] = RollbacksCrash ? "CRASHED" : "SUCCESS";
            else d["pendingPolls"] = left - 1;
        }
        var start = after is null ? 0 : int.Parse(after[1..], System.Globalization.CultureInfo.InvariantCulture) + 1;
        var page = ordered.Skip(start).Take(first).ToList();
        var edges = new JsonArray(page.Select((d, i) =>
        {
            var node = (JsonObject)d.DeepClone();
            node.Remove("pendingPolls");
            node.Remove("projectId");
            return (JsonNode)new JsonObject { ["cursor"] = "c" + (start + i), ["node"] = node };
        }).ToArray());
        return new JsonObject
        {
            ["data"] = new JsonObject
            {
                ["deployments"] = new JsonObject
                {
                    ["edges"] = edges,
                    ["pageInfo"] = new JsonObject { ["hasNextPage"] = start + first < ordered.Count, ["endCursor"] = page.Count == 0 ? null : "c" + (start + page.Count - 1) },
                },
            },
        };
    }

    private static JsonObject Errors(string message) => new() { ["data"] = null, ["errors"] = new JsonArray(new JsonObject { ["message"] = message }) };

    private static Task Reply(HttpContext ctx, JsonObject body)
    {
        ctx.Response.StatusCode = 200; // GraphQL errors come inside HTTP 200
        ctx.Response.ContentType = "application/json";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
