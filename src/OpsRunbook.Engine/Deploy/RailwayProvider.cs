using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Secrets;

using static OpsRunbook.Engine.Deploy.JsonFields;

namespace OpsRunbook.Engine.Deploy;

/// <summary>
/// The kinds of Railway token and the header each goes in, as the Railway CLI sends them (railwayapp/cli, src/client.rs,
/// GQLClient::new_authorized): RAILWAY_TOKEN, a project token, in <c>project-access-token</c>; RAILWAY_API_TOKEN, an
/// account or a team/workspace token, as <c>Authorization: Bearer</c>. There is no Team-Access-Token header.
/// </summary>
public enum RailwayTokenKind
{
    /// <summary>Account token: Authorization: Bearer.</summary>
    Account,
    /// <summary>Team (workspace) token: Authorization: Bearer, like an account token.</summary>
    Team,
    /// <summary>Project token: Project-Access-Token.</summary>
    Project,
}

/// <summary>Where and how to reach Railway (runbook.json "deploy": { "provider": "railway", "project", "service", "environment", "tokenKind" }).</summary>
public sealed record RailwaySettings
{
    public required string ProjectId { get; init; }
    public required string ServiceId { get; init; }
    public required string EnvironmentId { get; init; }
    public RailwayTokenKind TokenKind { get; init; } = RailwayTokenKind.Project;
    public Uri Api { get; init; } = new("https://backboard.railway.com/graphql/v2");
    /// <summary>How long a rollback deployment may take to reach SUCCESS.</summary>
    public TimeSpan DeployTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);
    public int MaxRetries { get; init; } = 5;
}

/// <summary>
/// Railway through its public GraphQL API, as the Railway CLI uses it: deployments with Relay paging, and
/// <c>deploymentRollback(id)</c> (a Boolean; the docs' selection set is wrong) followed by polling until the new
/// deployment is SUCCESS. GraphQL errors inside HTTP 200 are errors; 429 honours Retry-After.
/// </summary>
public sealed class RailwayProvider : IDeploymentProvider, IDeploymentLogSource, IDisposable
{
    private static readonly string[] Starting = ["BUILDING", "DEPLOYING", "INITIALIZING", "QUEUED", "WAITING", "NEEDS_APPROVAL"];
    private static readonly string[] Failed = ["CRASHED", "FAILED"];
    private readonly RailwaySettings _settings;
    private readonly string _token;
    private readonly SecretRedactor _redactor;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly ProviderHttp _retry;

    public RailwayProvider(RailwaySettings settings, string token, SecretRedactor redactor)
    {
        _settings = settings;
        _token = token.Trim();
        _redactor = redactor;
        redactor.Add(_token);
        _retry = new ProviderHttp(_http, settings.MaxRetries);
    }

    public string Name => "railway";

    internal Func<TimeSpan, CancellationToken, Task> Delay
    {
        get => _retry.Delay;
        set => _retry.Delay = value;
    }

    /// <summary>The deployment serving traffic (the newest SUCCESS), plus newer ones still starting or failed.</summary>
    public async Task<IReadOnlyList<DeploymentInstance>> GetInstancesAsync(CancellationToken ct)
    {
        var deployments = await DeploymentsAsync(20, ct).ConfigureAwait(false);
        var active = deployments.FindIndex(d => Str(d, "status") == "SUCCESS");
        var relevant = active < 0 ? deployments.Take(1) : deployments.Take(active + 1).Where(d => Str(d, "status") is not ("REMOVED" or "REMOVING" or "SKIPPED"));
        return relevant.Select(d =>
        {
            var status = Str(d, "status") ?? "UNKNOWN";
            return new DeploymentInstance
            {
                Provider = Name, Id = Str(d, "id")!, Name = Str(d, "staticUrl") ?? Str(d, "url"), State = status,
                Health = status switch
                {
                    "SUCCESS" => InstanceHealth.Healthy,
                    "SLEEPING" => InstanceHealth.Stopped,
                    _ when Starting.Contains(status) => InstanceHealth.Starting,
                    _ when Failed.Contains(status) => InstanceHealth.Unhealthy,
                    _ => InstanceHealth.Unknown,
                },
                Image = ImageOf(d), Group = _settings.ServiceId,
                StartedAt = DateTimeOffset.TryParse(Str(d, "createdAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null,
            };
        }).ToList();
    }

    /// <summary>Deployments newest first; the newest SUCCESS is current; Good = Railway says it can roll back to it.</summary>
    public async Task<IReadOnlyList<DeploymentRelease>> GetReleasesAsync(int limit, CancellationToken ct)
    {
        var deployments = await DeploymentsAsync(limit, ct).ConfigureAwait(false);
        var current = deployments.FirstOrDefault(d => Str(d, "status") == "SUCCESS");
        return deployments.Select(d => new DeploymentRelease
        {
            Provider = Name, Id = Str(d, "id")!, Image = ImageOf(d), Status = Str(d, "status") ?? "UNKNOWN",
            Good = d["canRollback"] is JsonValue v && v.TryGetValue<bool>(out var can) && can,
            Description = d["meta"]?["commitMessage"] is JsonValue m && m.TryGetValue<string>(out var msg) ? msg : null,
            CreatedAt = DateTimeOffset.TryParse(Str(d, "createdAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var c) ? c : null,
            IsCurrent = ReferenceEquals(d, current),
        }).ToList();
    }

    public async Task<int> RollbackAsync(DeploymentRelease target, Action<string> step, CancellationToken ct)
    {
        var before = (await DeploymentsAsync(1, ct).ConfigureAwait(false)).FirstOrDefault();
        var data = await GraphQlAsync("mutation($id: String!) { deploymentRollback(id: $id) }", new JsonObject { ["id"] = target.Id }, ct).ConfigureAwait(false);
        if (data["deploymentRollback"] is not JsonValue ok || !ok.TryGetValue<bool>(out var accepted) || !accepted)
        {
            throw new DeploymentProviderException(Name, $"Railway did not accept the rollback to deployment {target.Id}");
        }
        step($"rollback to deployment {target.Id} accepted");
        return await WaitForNewDeploymentAsync(before, "rollback", step, ct).ConfigureAwait(false);
    }

    /// <summary>Polls until a deployment newer than <paramref name="before"/> is SUCCESS; one that ends CRASHED/FAILED is an error.</summary>
    private async Task<int> WaitForNewDeploymentAsync(JsonObject? before, string what, Action<string> step, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + _settings.DeployTimeout;
        while (true)
        {
            var newest = (await DeploymentsAsync(1, ct).ConfigureAwait(false)).FirstOrDefault();
            var status = newest is null ? null : Str(newest, "status");
            if (newest is not null && Str(newest, "id") != (before is null ? null : Str(before, "id")))
            {
                if (status == "SUCCESS")
                {
                    step($"deployment {Str(newest, "id")} is SUCCESS");
                    return 1;
                }
                if (status is not null && Failed.Contains(status))
                {
                    throw new DeploymentProviderException(Name, $"the {what} deployment {Str(newest, "id")} ended {status}; see its logs in Railway");
                }
                step($"deployment {Str(newest, "id")} is {status}");
            }
            if (DateTime.UtcNow >= deadline)
            {
                throw new DeploymentProviderException(Name, $"the {what} deployment did not reach SUCCESS within {_settings.DeployTimeout.TotalMinutes:0} minutes (last: {status ?? "not created"})", 408);
            }
            await Delay(_settings.PollInterval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>deploymentRestart of the running deployment (Railway restarts its replicas itself; there is no rolling choice).</summary>
    public async Task<int> RestartAsync(bool rolling, Action<string> step, CancellationToken ct)
    {
        var current = (await DeploymentsAsync(20, ct).ConfigureAwait(false)).FirstOrDefault(d => Str(d, "status") == "SUCCESS")
            ?? throw new DeploymentProviderException(Name, "no deployment is running (none is SUCCESS), so there is nothing to restart");
        var data = await GraphQlAsync("mutation($id: String!) { deploymentRestart(id: $id) }", new JsonObject { ["id"] = Str(current, "id") }, ct).ConfigureAwait(false);
        if (data["deploymentRestart"] is not JsonValue ok || !ok.TryGetValue<bool>(out var accepted) || !accepted)
        {
            throw new DeploymentProviderException(Name, $"Railway did not accept the restart of deployment {Str(current, "id")}");
        }
        step($"deployment {Str(current, "id")} restarted");
        return 1;
    }

    /// <summary>
    /// One variableCollectionUpsert with every value (the mutation `railway variables --set` sends: railwayapp/cli
    /// src/gql/mutations/strings/VariableCollectionUpsert.graphql): all are set or none, and Railway redeploys once,
    /// unless skipDeploys. One variableUpsert per value redeployed once per value, and could leave half a set.
    /// </summary>
    public async Task<int> SetSecretsAsync(IReadOnlyDictionary<string, string> values, bool redeploy, Action<string> step, CancellationToken ct)
    {
        foreach (var v in values.Values) _redactor.Add(v);
        var variables = new JsonObject();
        foreach (var (name, value) in values) variables[name] = value;
        var input = new JsonObject
        {
            ["projectId"] = _settings.ProjectId, ["environmentId"] = _settings.EnvironmentId, ["serviceId"] = _settings.ServiceId,
            ["variables"] = variables, ["skipDeploys"] = !redeploy,
        };
        var data = await GraphQlAsync("mutation($input: VariableCollectionUpsertInput!) { variableCollectionUpsert(input: $input) }", new JsonObject { ["input"] = input }, ct).ConfigureAwait(false);
        if (data["variableCollectionUpsert"] is not JsonValue ok || !ok.TryGetValue<bool>(out var accepted) || !accepted)
        {
            throw new DeploymentProviderException(Name, $"Railway did not accept the variables {string.Join(", ", values.Keys)}");
        }
        step($"{string.Join(", ", values.Keys)} set{(redeploy ? " (Railway redeploys the service once)" : "")}");
        return values.Count;
    }

    public Task<int> ScaleAsync(ScaleRequest request, Action<string> step, CancellationToken ct) =>
        throw new DeploymentProviderException(Name, "replicas and resources are service settings in Railway: change them in the service's Settings (or railway.json's deploy.numReplicas) and redeploy");

    /// <summary>deploymentStop of the running deployment (Railway's schema: deploymentStop(id: String!): Boolean!).</summary>
    public async Task<int> StopAsync(Action<string> step, CancellationToken ct)
    {
        var current = (await DeploymentsAsync(20, ct).ConfigureAwait(false)).FirstOrDefault(d => Str(d, "status") == "SUCCESS");
        if (current is null)
        {
            step("no deployment is running (none is SUCCESS): nothing to stop");
            return 0;
        }
        var data = await GraphQlAsync("mutation($id: String!) { deploymentStop(id: $id) }", new JsonObject { ["id"] = Str(current, "id") }, ct).ConfigureAwait(false);
        if (data["deploymentStop"] is not JsonValue ok || !ok.TryGetValue<bool>(out var accepted) || !accepted)
        {
            throw new DeploymentProviderException(Name, $"Railway did not accept the stop of deployment {Str(current, "id")}");
        }
        step($"deployment {Str(current, "id")} stopped");
        return 1;
    }

    /// <summary>
    /// Starts a stopped service: deploymentRedeploy of its newest deployment with usePreviousImageTag (the same image,
    /// not a rebuild), then waits until the new deployment is SUCCESS. A service already running is left alone.
    /// </summary>
    public async Task<int> StartAsync(Action<string> step, CancellationToken ct)
    {
        var deployments = await DeploymentsAsync(20, ct).ConfigureAwait(false);
        if (deployments.Any(d => Str(d, "status") == "SUCCESS"))
        {
            step("a deployment is already running (SUCCESS): nothing to start");
            return 1;
        }
        var newest = deployments.FirstOrDefault() ?? throw new DeploymentProviderException(Name, "the service has no deployment to start again: deploy it first (`railway up`)");
        var data = await GraphQlAsync("mutation($id: String!) { deploymentRedeploy(id: $id, usePreviousImageTag: true) { id status } }", new JsonObject { ["id"] = Str(newest, "id") }, ct).ConfigureAwait(false);
        if (data["deploymentRedeploy"] is not JsonObject)
        {
            throw new DeploymentProviderException(Name, $"Railway did not accept the redeploy of deployment {Str(newest, "id")}");
        }
        step($"deployment {Str(newest, "id")} redeployed with its image");
        return await WaitForNewDeploymentAsync(newest, "start", step, ct).ConfigureAwait(false);
    }

    /// <summary>Deployments of the service in the environment, newest first, following Relay pages until <paramref name="limit"/>.</summary>
    private async Task<List<JsonObject>> DeploymentsAsync(int limit, CancellationToken ct)
    {
        const string query = "query($input: DeploymentListInput!, $first: Int, $after: String) { deployments(input: $input, first: $first, after: $after) { edges { cursor node { id status createdAt updatedAt canRollback canRedeploy meta url staticUrl serviceId environmentId } } pageInfo { hasNextPage endCursor } } }";
        var all = new List<JsonObject>();
        string? after = null;
        while (all.Count < limit)
        {
            var variables = new JsonObject
            {
                ["input"] = new JsonObject { ["projectId"] = _settings.ProjectId, ["serviceId"] = _settings.ServiceId, ["environmentId"] = _settings.EnvironmentId },
                ["first"] = Math.Min(50, limit - all.Count),
                ["after"] = after,
            };
            var data = await GraphQlAsync(query, variables, ct).ConfigureAwait(false);
            var connection = data["deployments"] as JsonObject ?? throw new DeploymentProviderException(Name, "the deployments query answered without a connection");
            all.AddRange((connection["edges"] as JsonArray ?? []).Select(e => e?["node"]).OfType<JsonObject>());
            var page = connection["pageInfo"];
            if (page?["hasNextPage"] is not JsonValue more || !more.TryGetValue<bool>(out var hasMore) || !hasMore) break;
            after = page["endCursor"]?.GetValue<string>();
            if (after is null) break;
        }
        return all.OrderByDescending(d => Str(d, "createdAt"), StringComparer.Ordinal).ToList();
    }

    private static string? ImageOf(JsonObject d) =>
        d["meta"]?["image"] is JsonValue i && i.TryGetValue<string>(out var image) ? image
        : d["meta"]?["commitHash"] is JsonValue h && h.TryGetValue<string>(out var hash) ? "commit " + hash : null;

    private static readonly string Agent = "OpsRunbook/" + typeof(RailwayProvider).Assembly.GetName().Version?.ToString(3);

    private async Task<JsonObject> GraphQlAsync(string query, JsonObject variables, CancellationToken ct)
    {
        var body = new JsonObject { ["query"] = query, ["variables"] = variables }.ToJsonString();
        var (status, _, json) = await _retry.SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, _settings.Api) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (_settings.TokenKind == RailwayTokenKind.Project) request.Headers.Add("Project-Access-Token", _token);
            else request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            // The CLI names itself in User-Agent and x-source ("CLI <version>", src/consts.rs); so does OpsRunbook.
            request.Headers.UserAgent.ParseAdd(Agent);
            request.Headers.Add("x-source", Agent);
            return request;
        }, ct).ConfigureAwait(false);
        var errors = json?["errors"] as JsonArray;
        if (status is < 200 or >= 300 || errors is { Count: > 0 })
        {
            var messages = errors?.Select(e => e?["message"] is JsonValue m && m.TryGetValue<string>(out var s) ? s : null).Where(s => s is not null).ToList() ?? [];
            var what = messages.Count > 0 ? string.Join("; ", messages) : $"HTTP {status}";
            if (messages.Any(m => m!.Contains("Not Authorized", StringComparison.OrdinalIgnoreCase)) || status is 401 or 403)
            {
                what += $" — the {_settings.TokenKind.ToString().ToLowerInvariant()} token was refused: check \"deploy\".\"token\" and \"tokenKind\" (account, team or project)";
            }
            throw new DeploymentProviderException(Name, _redactor.Scrub(what), status is >= 200 and < 300 ? null : status);
        }
        return json?["data"] as JsonObject ?? throw new DeploymentProviderException(Name, "GraphQL answered without data");
    }

    /// <summary>How long a follow waits between polls.</summary>
    internal TimeSpan FollowInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The service's logs as the Railway CLI fetches them (src/controllers/deployment.rs): the deployment is the newest
    /// SUCCESS one, else the newest (src/commands/logs.rs); deploymentLogs(deploymentId, limit, filter, startDate,
    /// endDate) with the CLI's default limit of 500, keeping the last N (the API returns one more than asked); or, with
    /// Http, httpLogs(deploymentId, beforeLimit, beforeDate = -Since, anchorDate = -Until) for request durations. The
    /// CLI follows through a GraphQL subscription; here a follow polls deploymentLogs from the newest record seen,
    /// every two seconds. A read that comes back full says there may be more.
    /// </summary>
    public async IAsyncEnumerable<LogRecord> ReadLogsAsync(DeploymentLogRequest request, Action<string> notice, [EnumeratorCancellation] CancellationToken ct)
    {
        var deployments = await DeploymentsAsync(20, ct).ConfigureAwait(false);
        var deployment = deployments.FirstOrDefault(d => Str(d, "status") == "SUCCESS") ?? deployments.FirstOrDefault()
            ?? throw new DeploymentProviderException(Name, "the service has no deployment yet, so it has no logs");
        var id = Str(deployment, "id")!;
        var limit = request.Tail > 0 ? request.Tail : 500;
        static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        if (request.Http)
        {
            const string httpQuery = "query($deploymentId: String!, $filter: String, $beforeLimit: Int!, $beforeDate: String, $anchorDate: String, $afterDate: String, $afterLimit: Int) { httpLogs(deploymentId: $deploymentId, filter: $filter, beforeLimit: $beforeLimit, beforeDate: $beforeDate, anchorDate: $anchorDate, afterDate: $afterDate, afterLimit: $afterLimit) { timestamp method path httpStatus totalDuration requestId host clientUa srcIp edgeRegion upstreamRqDuration } }";
            var http = await GraphQlAsync(httpQuery, new JsonObject
            {
                ["deploymentId"] = id, ["beforeLimit"] = limit,
                ["beforeDate"] = request.Since is { } s ? Iso(s) : null, ["anchorDate"] = request.Until is { } u ? Iso(u) : null,
            }, ct).ConfigureAwait(false);
            var rows = (http["httpLogs"] as JsonArray ?? []).OfType<JsonObject>().TakeLast(limit).ToList();
            if (rows.Count == limit && request.Tail == 0) notice($"Railway returned {limit} request logs, the most one read takes: there may be more; narrow -Since/-Until.");
            foreach (var row in rows) yield return HttpRecord(row, id);
            yield break;
        }
        const string query = "query($deploymentId: String!, $limit: Int, $filter: String, $startDate: DateTime, $endDate: DateTime) { deploymentLogs(deploymentId: $deploymentId, limit: $limit, filter: $filter, startDate: $startDate, endDate: $endDate) { timestamp message severity attributes { key value } } }";
        var since = request.Since;
        var seen = new HashSet<(string, string)>();
        var first = true;
        while (true)
        {
            var data = await GraphQlAsync(query, new JsonObject
            {
                ["deploymentId"] = id, ["limit"] = limit,
                ["startDate"] = since is { } s ? Iso(s) : null, ["endDate"] = request.Until is { } u && !request.Follow ? Iso(u) : null,
            }, ct).ConfigureAwait(false);
            var logs = (data["deploymentLogs"] as JsonArray ?? []).OfType<JsonObject>().TakeLast(limit).ToList();
            if (first && logs.Count == limit && request.Tail == 0) notice($"Railway returned {limit} log lines, the most one read takes: there may be more; narrow -Since/-Until.");
            first = false;
            foreach (var log in logs)
            {
                var key = (Str(log, "timestamp") ?? "", Str(log, "message") ?? "");
                if (!seen.Add(key)) continue;
                var record = LogRecordOf(log, id);
                if (request.Follow && request.Until is { } end && record.Timestamp >= end) yield break;
                if (record.Timestamp is { } t && (since is null || t > since)) since = t;
                yield return record;
            }
            if (!request.Follow) yield break;
            if (request.Until is { } stop && DateTimeOffset.UtcNow >= stop) yield break;
            await Delay(FollowInterval, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A Log (timestamp, message, severity, attributes whose values are JSON) as a record; the message is read again for the app's own fields.</summary>
    private LogRecord LogRecordOf(JsonObject log, string deploymentId)
    {
        var message = LogReader.Scrub(Str(log, "message") ?? "", _redactor.ScrubKnown);
        var inner = LogLineParser.Parse(message);
        var fields = new Dictionary<string, string>(inner.Fields, StringComparer.Ordinal);
        foreach (var a in (log["attributes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var value = Str(a, "value") ?? "";
            // Railway sends each attribute value as JSON text: "\"info\"" is the string info.
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = JsonNode.Parse(value)?.GetValue<string>() ?? value;
            if (Str(a, "key") is { } key) fields[key] = LogReader.Scrub(value, _redactor.ScrubKnown);
        }
        return inner with
        {
            Timestamp = DateTimeOffset.TryParse(Str(log, "timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : inner.Timestamp,
            Level = LogLineParser.NormalLevel(fields.GetValueOrDefault("level")) ?? inner.Level ?? LogLineParser.NormalLevel(Str(log, "severity")),
            Fields = fields,
            Instance = deploymentId,
            Service = _settings.ServiceId,
            Source = "railway:" + _settings.ServiceId,
        };
    }

    /// <summary>An HttpLog as a record: level from the status, "GET /path 200 123ms" as the message, every field kept.</summary>
    private LogRecord HttpRecord(JsonObject row, string deploymentId)
    {
        var fields = row.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => LogReader.Scrub(Str(row, p.Key) ?? "", _redactor.ScrubKnown), StringComparer.Ordinal);
        var status = int.TryParse(fields.GetValueOrDefault("httpStatus"), NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : 0;
        var message = $"{fields.GetValueOrDefault("method")} {fields.GetValueOrDefault("path")} {status} {fields.GetValueOrDefault("totalDuration")}ms";
        return new LogRecord
        {
            Timestamp = DateTimeOffset.TryParse(fields.GetValueOrDefault("timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : null,
            Level = status >= 500 ? "ERROR" : status >= 400 ? "WARN" : "INFO",
            Message = message,
            Fields = fields,
            Instance = deploymentId,
            Region = fields.GetValueOrDefault("edgeRegion"),
            Service = _settings.ServiceId,
            Source = "railway:" + _settings.ServiceId + ":http",
            Raw = message,
        };
    }

    public void Dispose() => _http.Dispose();
}
