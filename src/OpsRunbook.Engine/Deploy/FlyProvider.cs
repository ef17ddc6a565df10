using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Nodes;
using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Secrets;

using static OpsRunbook.Engine.Deploy.JsonFields;

namespace OpsRunbook.Engine.Deploy;

/// <summary>Where and how to reach Fly.io (runbook.json "deploy": { "provider": "fly", "app": … }).</summary>
public sealed record FlySettings
{
    public required string App { get; init; }
    /// <summary>Machines API base (default https://api.machines.dev/v1).</summary>
    public Uri MachinesApi { get; init; } = new("https://api.machines.dev/v1/");
    /// <summary>GraphQL endpoint for releases (default https://api.fly.io/graphql).</summary>
    public Uri GraphQl { get; init; } = new("https://api.fly.io/graphql");
    /// <summary>How long one machine may take to come up on the new image.</summary>
    public TimeSpan MachineTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How many times a 429/5xx is retried.</summary>
    public int MaxRetries { get; init; } = 5;
    /// <summary>Where the token is set, for the message when it is refused.</summary>
    public string TokenSetting { get; init; } = "the environment's \"deploy\".\"token\" (fly tokens create deploy)";
}

/// <summary>A machine of a Fly Postgres cluster app: its role from its "role" check (primary, replica, error, unknown).</summary>
public sealed record FlyPostgresMember(string Id, string? Name, string? Region, string State, string Role, string? PrivateIp, string? PrimaryRegion)
{
    /// <summary>flyctl isLeader: the role check says primary or leader.</summary>
    public bool IsPrimary => Role is "primary" or "leader";
    /// <summary>The role check says replica or standby.</summary>
    public bool IsReplica => Role is "replica" or "standby";
    /// <summary>machine id (region), for messages.</summary>
    public string Display => Region is null ? $"machine {Id}" : $"machine {Id} ({Region})";
}

/// <summary>
/// Fly.io through its Machines REST API and the GraphQL API for releases, as flyctl uses them: rollback is flyctl's —
/// one machine at a time, lease → update config.image (and fly_release_* metadata) → wait started → release the lease.
/// Leases are always released, also when a machine never comes up. 429 and 5xx are retried (Retry-After honoured).
/// </summary>
public sealed class FlyProvider : IDeploymentProvider, IDeploymentLogSource, IDisposable
{
    private readonly FlySettings _settings;
    private readonly string _token;
    private readonly HttpClient _http;
    private readonly SecretRedactor _redactor;
    private readonly ProviderHttp _retry;

    public FlyProvider(FlySettings settings, string token, SecretRedactor redactor, HttpMessageHandler? handler = null)
    {
        _settings = settings;
        _token = token;
        _redactor = redactor;
        redactor.Add(token);
        _http = handler is null ? new HttpClient { Timeout = TimeSpan.FromSeconds(90) } : new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(90) };
        _retry = new ProviderHttp(_http, settings.MaxRetries);
    }

    public string Name => "fly";

    /// <summary>How retries and polls wait (tests record the delays instead of sleeping).</summary>
    internal Func<TimeSpan, CancellationToken, Task> Delay
    {
        get => _retry.Delay;
        set => _retry.Delay = value;
    }

    /// <summary>flyctl's rule: macaroon tokens (fm1r_, fm1a_, fm2_) go as "FlyV1 …", others as "Bearer …"; a value that names its scheme is sent as is.</summary>
    internal static AuthenticationHeaderValue Authorization(string token)
    {
        token = token.Trim();
        if (token.StartsWith("FlyV1 ", StringComparison.Ordinal)) return new AuthenticationHeaderValue("FlyV1", token[6..]);
        if (token.StartsWith("Bearer ", StringComparison.Ordinal)) return new AuthenticationHeaderValue("Bearer", token[7..]);
        return token.StartsWith("fm1r_", StringComparison.Ordinal) || token.StartsWith("fm1a_", StringComparison.Ordinal) || token.StartsWith("fm2_", StringComparison.Ordinal)
            ? new AuthenticationHeaderValue("FlyV1", token)
            : new AuthenticationHeaderValue("Bearer", token);
    }

    private string MachinesPath(string? rest = null) => $"apps/{Uri.EscapeDataString(_settings.App)}/machines{rest}";

    public async Task<IReadOnlyList<DeploymentInstance>> GetInstancesAsync(CancellationToken ct)
    {
        var machines = await ListMachinesAsync(ct).ConfigureAwait(false);
        return machines.Select(ToInstance).ToList();
    }

    /// <summary>
    /// The app's machines as flyctl's deploys see them (fly-go ListFlyAppsMachines): Fly Launch machines
    /// (config.metadata.fly_platform_version "v2") that are not destroyed or destroying, and neither the release-command
    /// machine (process group fly_app_release_command) nor console machines (fly_app_console).
    /// </summary>
    private async Task<List<JsonObject>> ListMachinesAsync(CancellationToken ct)
    {
        var node = await SendAsync(HttpMethod.Get, MachinesPath(), null, null, ct).ConfigureAwait(false);
        return (node as JsonArray ?? throw new DeploymentProviderException(Name, "the machines list is not a JSON array"))
            .OfType<JsonObject>()
            .Where(IsAppMachine)
            .ToList();
    }

    private static bool IsAppMachine(JsonObject m)
    {
        var metadata = m["config"]?["metadata"] as JsonObject;
        return Str(m, "state") is not ("destroyed" or "destroying" or "replaced" or "migrated")
            && metadata is not null && Str(metadata, "fly_platform_version") == "v2"
            && Str(metadata, "fly_process_group") is not ("fly_app_release_command" or "fly_app_console");
    }

    /// <summary>A machine at rest (stopped or suspended): started by Start, left so by updates (skip_launch).</summary>
    private static bool IsStopped(JsonObject m) => Str(m, "state") is "stopped" or "suspended";

    /// <summary>The process group a machine runs ("app" when it names none).</summary>
    private static string GroupOf(JsonObject m) => m["config"]?["metadata"] is JsonObject md && Str(md, "fly_process_group") is { Length: > 0 } g ? g : "app";

    private DeploymentInstance ToInstance(JsonObject m)
    {
        var state = Str(m, "state") ?? "unknown";
        var checks = m["checks"] as JsonArray;
        var failing = checks?.OfType<JsonObject>().Any(c => Str(c, "status") is "critical" or "warning") == true;
        var health = state switch
        {
            "started" => failing ? InstanceHealth.Unhealthy : InstanceHealth.Healthy,
            "created" or "starting" or "restarting" or "updating" or "replacing" or "creating" or "stopping" => InstanceHealth.Starting,
            "stopped" or "suspended" or "suspending" => InstanceHealth.Stopped,
            "failed" or "launch_failed" => InstanceHealth.Unhealthy,
            _ => InstanceHealth.Unknown,
        };
        var metadata = m["config"]?["metadata"] as JsonObject;
        return new DeploymentInstance
        {
            Provider = Name, Id = Str(m, "id")!, Name = Str(m, "name"), State = state, Health = health, Image = ImageOf(m), Region = Str(m, "region"),
            Group = metadata is null ? null : Str(metadata, "fly_process_group"), ReleaseVersion = metadata is null ? null : Str(metadata, "fly_release_version"),
            StartedAt = DateTimeOffset.TryParse(Str(m, "updated_at") ?? Str(m, "created_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null,
        };
    }

    private static string? ImageOf(JsonObject m)
    {
        if (m["config"]?["image"] is JsonValue v && v.TryGetValue<string>(out var image)) return image;
        if (m["image_ref"] is JsonObject r)
        {
            var repo = $"{Str(r, "registry")}/{Str(r, "repository")}".Trim('/');
            return Str(r, "tag") is { Length: > 0 } tag ? $"{repo}:{tag}" : Str(r, "digest") is { } d ? $"{repo}@{d}" : repo;
        }
        return null;
    }

    public async Task<IReadOnlyList<DeploymentRelease>> GetReleasesAsync(int limit, CancellationToken ct)
    {
        const string query = "query($appName: String!, $limit: Int!) { app(name: $appName) { releases: releasesUnprocessed(first: $limit) { nodes { id version description reason status imageRef stable user { email } createdAt } } } }";
        var data = await GraphQlAsync(query, new JsonObject { ["appName"] = _settings.App, ["limit"] = limit }, ct).ConfigureAwait(false);
        var nodes = data["app"]?["releases"]?["nodes"] as JsonArray ?? throw new DeploymentProviderException(Name, $"app '{_settings.App}' was not found or has no releases (check the app name and the token's organization)");
        var machines = await ListMachinesAsync(ct).ConfigureAwait(false);
        // The release running is the one the machines say they run (flyctl's metadata), else the newest complete one.
        var running = machines.Select(m => m["config"]?["metadata"] is JsonObject md ? Str(md, "fly_release_version") : null).Where(v => v is not null)
            .GroupBy(v => v).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
        var releases = nodes.OfType<JsonObject>().Select(n => new DeploymentRelease
        {
            Provider = Name,
            Id = Str(n, "id")!,
            Version = int.TryParse(Str(n, "version"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ver) ? ver : null,
            Image = Str(n, "imageRef"),
            Status = Str(n, "status") ?? "unknown",
            Good = string.Equals(Str(n, "status"), "complete", StringComparison.OrdinalIgnoreCase) || (n["stable"] is JsonValue s && s.TryGetValue<bool>(out var st) && st),
            Description = Str(n, "description") ?? Str(n, "reason"),
            User = n["user"] is JsonObject u ? Str(u, "email") : null,
            CreatedAt = DateTimeOffset.TryParse(Str(n, "createdAt"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var c) ? c : null,
        }).OrderByDescending(r => r.Version ?? 0).ToList();
        var currentVersion = running ?? releases.FirstOrDefault(r => r.Good)?.Version?.ToString(CultureInfo.InvariantCulture);
        foreach (var r in releases) r.IsCurrent = r.Version?.ToString(CultureInfo.InvariantCulture) == currentVersion;
        return releases;
    }

    public async Task<int> RollbackAsync(DeploymentRelease target, Action<string> step, CancellationToken ct)
    {
        var image = target.Image ?? throw new ArgumentException("the release records no image");
        var machines = await ListMachinesAsync(ct).ConfigureAwait(false);
        if (machines.Count == 0) throw new DeploymentProviderException(Name, $"app '{_settings.App}' has no machines to roll back");
        var updated = 0;
        foreach (var listed in machines)
        {
            var id = Str(listed, "id")!;
            var nonce = await LeaseAsync(id, ct).ConfigureAwait(false);
            try
            {
                var machine = (JsonObject)(await SendAsync(HttpMethod.Get, MachinesPath("/" + id), null, null, ct).ConfigureAwait(false))!;
                var config = machine["config"]?.DeepClone() as JsonObject ?? throw new DeploymentProviderException(Name, $"machine {id} has no config");
                var stopped = IsStopped(machine);
                if (ImageOf(machine) == image && (Str(machine, "state") == "started" || stopped))
                {
                    step($"machine {id} already {(stopped ? "has" : "runs")} {image}");
                    updated++;
                    continue;
                }
                config["image"] = image;
                var metadata = config["metadata"] as JsonObject ?? new JsonObject();
                metadata["fly_release_id"] = target.Id;
                if (target.Version is { } v) metadata["fly_release_version"] = v.ToString(CultureInfo.InvariantCulture);
                config["metadata"] = metadata;
                // The update takes the whole config (there is no partial update), under our lease.
                // A stopped machine stays stopped (skip_launch), as flyctl's deploys leave it: it gets the image for when it
                // is started (fly-proxy's autostart, or Start-Deployment), and nothing waits for it to start.
                var update = new JsonObject { ["config"] = config, ["region"] = Str(machine, "region") };
                if (stopped) update["skip_launch"] = true;
                var result = await SendAsync(HttpMethod.Post, MachinesPath("/" + id), update, nonce, ct).ConfigureAwait(false);
                step($"machine {id} updated to {image}{(stopped ? " (left stopped)" : "")}");
                if (!stopped)
                {
                    await WaitStartedAsync(id, result is JsonObject r ? Str(r, "instance_id") : null, ct).ConfigureAwait(false);
                    step($"machine {id} started");
                }
                updated++;
            }
            catch (DeploymentProviderException e)
            {
                throw new DeploymentProviderException(Name, $"{e.Message.Replace("fly: ", "", StringComparison.Ordinal)} ({updated} of {machines.Count} machines are on {image})", e.StatusCode, e);
            }
            finally
            {
                await ReleaseLeaseAsync(id, nonce).ConfigureAwait(false);
            }
        }
        return updated;
    }

    public async Task<int> RestartAsync(bool rolling, Action<string> step, CancellationToken ct)
    {
        var machines = (await ListMachinesAsync(ct).ConfigureAwait(false)).Where(m => Str(m, "state") == "started").Select(m => Str(m, "id")!).ToList();
        if (rolling)
        {
            foreach (var id in machines)
            {
                await UnderLeaseAsync(id, async nonce =>
                {
                    await SendAsync(HttpMethod.Post, MachinesPath($"/{id}/restart"), null, nonce, ct).ConfigureAwait(false);
                    await WaitStartedAsync(id, null, ct).ConfigureAwait(false);
                    step($"machine {id} restarted");
                }, ct).ConfigureAwait(false);
            }
            return machines.Count;
        }
        foreach (var id in machines) await UnderLeaseAsync(id, nonce => SendAsync(HttpMethod.Post, MachinesPath($"/{id}/restart"), null, nonce, ct), ct).ConfigureAwait(false);
        foreach (var id in machines)
        {
            await WaitStartedAsync(id, null, ct).ConfigureAwait(false);
            step($"machine {id} restarted");
        }
        return machines.Count;
    }

    public async Task<int> StopAsync(Action<string> step, CancellationToken ct)
    {
        var machines = (await ListMachinesAsync(ct).ConfigureAwait(false)).Where(m => Str(m, "state") is "started" or "starting").Select(m => Str(m, "id")!).ToList();
        foreach (var id in machines)
        {
            await UnderLeaseAsync(id, nonce => SendAsync(HttpMethod.Post, MachinesPath($"/{id}/stop"), new JsonObject { ["signal"] = "SIGTERM", ["timeout"] = "30s" }, nonce, ct), ct).ConfigureAwait(false);
            step($"machine {id} stopped");
        }
        return machines.Count;
    }

    public async Task<int> StartAsync(Action<string> step, CancellationToken ct)
    {
        var machines = (await ListMachinesAsync(ct).ConfigureAwait(false)).Where(IsStopped).Select(m => Str(m, "id")!).ToList();
        foreach (var id in machines)
        {
            await UnderLeaseAsync(id, async nonce =>
            {
                await SendAsync(HttpMethod.Post, MachinesPath($"/{id}/start"), null, nonce, ct).ConfigureAwait(false);
                await WaitStartedAsync(id, null, ct).ConfigureAwait(false);
                step($"machine {id} started");
            }, ct).ConfigureAwait(false);
        }
        return machines.Count;
    }

    /// <summary>
    /// fly scale count / memory: new machines copy the config of an existing one (in -Region, else its region); surplus
    /// machines (in -Region first, newest first) are destroyed under their lease; memory is changed one machine at a time.
    /// </summary>
    public async Task<int> ScaleAsync(ScaleRequest request, Action<string> step, CancellationToken ct)
    {
        var machines = await ListMachinesAsync(ct).ConfigureAwait(false);
        if (request.MemoryMb is { } memory)
        {
            foreach (var id in machines.Select(m => Str(m, "id")!))
            {
                await UnderLeaseAsync(id, async nonce =>
                {
                    var machine = (JsonObject)(await SendAsync(HttpMethod.Get, MachinesPath("/" + id), null, null, ct).ConfigureAwait(false))!;
                    var config = machine["config"]!.DeepClone().AsObject();
                    var guest = config["guest"] as JsonObject ?? new JsonObject();
                    guest["memory_mb"] = memory;
                    config["guest"] = guest;
                    var result = await SendAsync(HttpMethod.Post, MachinesPath("/" + id), new JsonObject { ["config"] = config, ["region"] = Str(machine, "region") }, nonce, ct).ConfigureAwait(false);
                    await WaitStartedAsync(id, result is JsonObject r ? Str(r, "instance_id") : null, ct).ConfigureAwait(false);
                    step($"machine {id} now has {memory} MB");
                }, ct).ConfigureAwait(false);
            }
        }
        if (request.Count is not { } count) return machines.Count;
        // fly scale count counts per process group (config.metadata.fly_process_group): the "app" group here; machines
        // of other groups (workers, cron) are neither counted nor destroyed.
        var group = machines.Where(m => GroupOf(m) == "app").ToList();
        var scope = request.Region is null ? group : group.Where(m => Str(m, "region") == request.Region).ToList();
        if (scope.Count < count)
        {
            var template = (scope.Count > 0 ? scope : group).FirstOrDefault()
                ?? throw new DeploymentProviderException(Name, $"app '{_settings.App}' has no machine in process group 'app' to copy the configuration from; deploy once (fly deploy) before scaling");
            if (template["config"]?["mounts"] is JsonArray { Count: > 0 })
            {
                // A mount names one volume, which one machine may use: a copied config would fight over it (or fail).
                // flyctl creates a volume per new machine; do that with `fly scale count`.
                throw new DeploymentProviderException(Name, $"the machines of '{_settings.App}' mount a volume, and each new machine needs a volume of its own: scale with `fly scale count {count}`, which creates them");
            }
            for (var i = scope.Count; i < count; i++)
            {
                // Not retried on 5xx or a timeout: the machine may have been created, and a second POST makes another.
                var created = (JsonObject)(await SendAsync(HttpMethod.Post, MachinesPath(), new JsonObject
                {
                    ["region"] = request.Region ?? Str(template, "region"), ["config"] = template["config"]!.DeepClone(),
                }, null, ct, idempotent: false).ConfigureAwait(false))!;
                var id = Str(created, "id")!;
                await WaitStartedAsync(id, Str(created, "instance_id"), ct).ConfigureAwait(false);
                step($"machine {id} created in {Str(created, "region")}");
            }
        }
        else
        {
            foreach (var surplus in scope.OrderByDescending(m => Str(m, "created_at"), StringComparer.Ordinal).Take(scope.Count - count))
            {
                var id = Str(surplus, "id")!;
                await UnderLeaseAsync(id, nonce => SendAsync(HttpMethod.Delete, MachinesPath($"/{id}?kill=true"), null, nonce, ct), ct).ConfigureAwait(false);
                step($"machine {id} destroyed");
            }
        }
        return (await ListMachinesAsync(ct).ConfigureAwait(false)).Count(m => GroupOf(m) == "app");
    }

    /// <summary>
    /// flyctl secrets set, as flyctl does it now: the values through the Machines API (fly-go flaps_secrets.go
    /// UpdateAppSecrets: POST /v1/apps/{app}/secrets {"values":{...}} → {"version"}), then, unless staged, each app
    /// machine updated in turn under its lease with its own config and min_secrets_version = that version
    /// (LaunchMachineInput.MinSecretsVersion), so it boots with the new values or not at all. A plain restart carries
    /// no such floor: after a password rotation a machine could boot with the old secret. Stopped machines stay stopped.
    /// </summary>
    public async Task<int> SetSecretsAsync(IReadOnlyDictionary<string, string> values, bool redeploy, Action<string> step, CancellationToken ct)
    {
        foreach (var v in values.Values) _redactor.Add(v);
        var set = new JsonObject();
        foreach (var (name, value) in values) set[name] = value;
        var reply = await SendAsync(HttpMethod.Post, $"apps/{Uri.EscapeDataString(_settings.App)}/secrets", new JsonObject { ["values"] = set }, null, ct).ConfigureAwait(false);
        var version = reply?["version"] is JsonValue v2 && v2.TryGetValue<long>(out var n) ? n
            : throw new DeploymentProviderException(Name, "the secrets update answered no version");
        step($"set {string.Join(", ", values.Keys)} on {_settings.App} (secrets version {version.ToString(CultureInfo.InvariantCulture)})");
        if (!redeploy) return values.Count;
        foreach (var listed in await ListMachinesAsync(ct).ConfigureAwait(false))
        {
            var id = Str(listed, "id")!;
            await UnderLeaseAsync(id, async nonce =>
            {
                var machine = (JsonObject)(await SendAsync(HttpMethod.Get, MachinesPath("/" + id), null, null, ct).ConfigureAwait(false))!;
                var stopped = IsStopped(machine);
                var update = new JsonObject { ["config"] = machine["config"]!.DeepClone(), ["region"] = Str(machine, "region"), ["min_secrets_version"] = version };
                if (stopped) update["skip_launch"] = true;
                var result = await SendAsync(HttpMethod.Post, MachinesPath("/" + id), update, nonce, ct).ConfigureAwait(false);
                if (!stopped) await WaitStartedAsync(id, result is JsonObject r ? Str(r, "instance_id") : null, ct).ConfigureAwait(false);
                step($"machine {id} {(stopped ? "updated (left stopped)" : "restarted")} with secrets version {version.ToString(CultureInfo.InvariantCulture)}");
            }, ct).ConfigureAwait(false);
        }
        return values.Count;
    }

    /// <summary>
    /// The members of a Fly Postgres cluster app and their roles, as flyctl's postgres commands see them: every machine
    /// that is not destroyed (fly-go ListActive: neither release-command nor console machines), its role from the check
    /// named "role" (flyctl machineRole: the check's output when it passes — primary/leader, replica/standby — "error"
    /// when it does not, "unknown" without one) and the cluster's PRIMARY_REGION (repmgr promotes only there).
    /// </summary>
    public async Task<IReadOnlyList<FlyPostgresMember>> GetPostgresMembersAsync(CancellationToken ct)
    {
        var node = await SendAsync(HttpMethod.Get, MachinesPath(), null, null, ct).ConfigureAwait(false);
        var machines = node as JsonArray ?? throw new DeploymentProviderException(Name, "the machines list is not a JSON array");
        var members = new List<FlyPostgresMember>();
        foreach (var m in machines.OfType<JsonObject>())
        {
            var metadata = m["config"]?["metadata"] as JsonObject;
            var group = metadata is null ? null : Str(metadata, "fly_process_group") ?? Str(metadata, "process_group");
            if (Str(m, "state") is "destroyed" or "destroying" || group is "fly_app_release_command" or "release_command" or "fly_app_console") continue;
            var role = "unknown";
            if ((m["checks"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => Str(c, "name") == "role") is { } check)
            {
                role = Str(check, "status") == "passing" ? (Str(check, "output") ?? "").Trim() : "error";
            }
            members.Add(new FlyPostgresMember(Str(m, "id")!, Str(m, "name"), Str(m, "region"), Str(m, "state") ?? "unknown", role,
                Str(m, "private_ip"), m["config"]?["env"] is JsonObject env ? Str(env, "PRIMARY_REGION") : null));
        }
        return members;
    }

    /// <summary>
    /// flyctl machine kill: SIGKILL to the machine's main process (fly-go Kill: POST /v1/apps/{app}/machines/{id}/signal
    /// {"signal": 9}, no lease). Not retried: a second kill of a machine that already died is an error of its own.
    /// </summary>
    public Task KillMachineAsync(string id, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, MachinesPath($"/{Uri.EscapeDataString(id)}/signal"), new JsonObject { ["signal"] = 9 }, null, ct, idempotent: false);

    /// <summary>Runs <paramref name="work"/> holding the machine's lease; the lease is released whatever happens.</summary>
    private async Task UnderLeaseAsync(string id, Func<string, Task> work, CancellationToken ct)
    {
        var nonce = await LeaseAsync(id, ct).ConfigureAwait(false);
        try
        {
            await work(nonce).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseLeaseAsync(id, nonce).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the machine's lease. A 409 (held by another owner) is retried for up to a minute, as fly-go does: short
    /// leases are held by fly-proxy or a deploy that is finishing (provider-apis.md). Then it is an error naming the machine.
    /// </summary>
    private async Task<string> LeaseAsync(string id, CancellationToken ct)
    {
        var waited = TimeSpan.Zero;
        var wait = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                var r = await SendAsync(HttpMethod.Post, MachinesPath($"/{id}/lease"), new JsonObject { ["description"] = "OpsRunbook rollback", ["ttl"] = 120 }, null, ct).ConfigureAwait(false);
                return r?["data"]?["nonce"]?.GetValue<string>() ?? throw new DeploymentProviderException(Name, $"the lease on machine {id} came without a nonce");
            }
            catch (DeploymentProviderException e) when (e.StatusCode == 409 && waited < LeaseWait)
            {
                await Delay(wait, ct).ConfigureAwait(false);
                waited += wait;
                wait = TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds * 2, 8));
            }
            catch (DeploymentProviderException e) when (e.StatusCode == 409)
            {
                throw new DeploymentProviderException(Name, $"machine {id} is leased by someone else (a deploy in progress?) and stayed so for {LeaseWait.TotalSeconds:0} s; wait for it to finish, then retry", 409, e);
            }
        }
    }

    /// <summary>How long a lease held by another owner is waited for.</summary>
    internal static readonly TimeSpan LeaseWait = TimeSpan.FromMinutes(1);

    private async Task ReleaseLeaseAsync(string id, string nonce)
    {
        // Released even when the caller gave up (its token may be cancelled): a lease left behind blocks the next deploy.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await SendAsync(HttpMethod.Delete, MachinesPath($"/{id}/lease"), null, nonce, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DeploymentProviderException or HttpRequestException or OperationCanceledException)
        {
            // The lease expires by its ttl; nothing else to do.
        }
    }

    private async Task WaitStartedAsync(string id, string? instanceId, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + _settings.MachineTimeout;
        while (true)
        {
            var seconds = (int)Math.Clamp((deadline - DateTime.UtcNow).TotalSeconds, 1, 60);
            var query = $"/{id}/wait?state=started&timeout={seconds.ToString(CultureInfo.InvariantCulture)}" + (instanceId is null ? "" : "&instance_id=" + Uri.EscapeDataString(instanceId));
            try
            {
                await SendAsync(HttpMethod.Get, MachinesPath(query), null, null, ct).ConfigureAwait(false);
                return;
            }
            catch (DeploymentProviderException e) when (e.StatusCode == 408)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new DeploymentProviderException(Name, $"machine {id} did not reach 'started' within {_settings.MachineTimeout.TotalSeconds:0} s", 408, e);
                }
                // The API holds the request up to its timeout; a server that answers at once must not be hammered.
                await Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<JsonObject> GraphQlAsync(string query, JsonObject variables, CancellationToken ct)
    {
        var node = await SendAsync(HttpMethod.Post, null, new JsonObject { ["query"] = query, ["variables"] = variables }, null, ct, _settings.GraphQl).ConfigureAwait(false);
        if (node?["errors"] is JsonArray { Count: > 0 } errors)
        {
            throw new DeploymentProviderException(Name, "GraphQL: " + string.Join("; ", errors.Select(e => e?["message"]?.GetValue<string>())));
        }
        return node?["data"] as JsonObject ?? throw new DeploymentProviderException(Name, "GraphQL answered without data");
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string? path, JsonObject? body, string? nonce, CancellationToken ct, Uri? absolute = null, bool idempotent = true)
    {
        var uri = absolute ?? new Uri(_settings.MachinesApi, path);
        var (status, _, json) = await _retry.SendAsync(() =>
        {
            var request = new HttpRequestMessage(method, uri);
            request.Headers.Authorization = Authorization(_token);
            if (nonce is not null) request.Headers.Add("fly-machine-lease-nonce", nonce);
            if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            return request;
        }, ct, idempotent).ConfigureAwait(false);
        if (status is >= 200 and < 300) return json;
        var error = json is JsonObject o && o["error"] is JsonValue e && e.TryGetValue<string>(out var message) ? message : null;
        var what = (HttpStatusCode)status switch
        {
            HttpStatusCode.Unauthorized => $"the token was refused (401): set a token for app '{_settings.App}' in {_settings.TokenSetting}",
            HttpStatusCode.Forbidden => "the token may not do this (403): it needs deploy rights on the app",
            HttpStatusCode.NotFound => $"not found (404): {method} {uri.AbsolutePath} — check the app name '{_settings.App}'",
            HttpStatusCode.RequestTimeout => "timed out waiting (408)",
            _ => $"{method} {uri.AbsolutePath} answered {status}",
        };
        throw new DeploymentProviderException(Name, _redactor.Scrub(error is null ? what : $"{what}: {error}"), status);
    }

    /// <summary>
    /// The app's logs through the HTTP polling API flyctl falls back to (fly-go resource_logs.go GetAppLogs, flyctl
    /// logs/polling.go Poll): GET https://api.fly.io/api/v1/apps/{app}/logs?next_token=…[&amp;instance=][&amp;region=],
    /// each page's meta.next_token carried to the next request (an empty one keeps the last), an empty page followed by
    /// flyctl's pause (backoff(minWait) = 128 ms; failures are ProviderHttp's retries). Without Follow the read stops at an empty page, at a repeated
    /// token or at records newer than its start (an app that logs all the time would otherwise never end). Fly keeps
    /// only a short buffer: when -Since asks for more than the oldest record it still has, the notice says so.
    /// The app's own line is read again (its JSON or logfmt level and fields), secrets masked first.
    /// </summary>
    public async IAsyncEnumerable<LogRecord> ReadLogsAsync(DeploymentLogRequest request, Action<string> notice, [EnumeratorCancellation] CancellationToken ct)
    {
        // flyctl: minWait 64 ms; an empty page sets the wait to backoff(minWait) = 128 ms, and it pauses only above minWait.
        var emptyWait = TimeSpan.FromMilliseconds(128);
        var wait = TimeSpan.Zero;
        var token = "";
        var started = DateTimeOffset.UtcNow;
        var first = true;
        var tail = new Queue<LogRecord>();
        while (true)
        {
            if (request.Follow && request.Until is { } end && DateTimeOffset.UtcNow >= end) break;
            if (wait > TimeSpan.Zero) await Delay(wait, ct).ConfigureAwait(false);
            var query = "next_token=" + Uri.EscapeDataString(token)
                + (string.IsNullOrEmpty(request.Instance) ? "" : "&instance=" + Uri.EscapeDataString(request.Instance))
                + (string.IsNullOrEmpty(request.Region) || !string.IsNullOrEmpty(request.Instance) ? "" : "&region=" + Uri.EscapeDataString(request.Region));
            var page = await SendAsync(HttpMethod.Get, null, null, null, ct, new Uri(_settings.GraphQl, $"/api/v1/apps/{Uri.EscapeDataString(_settings.App)}/logs?{query}")).ConfigureAwait(false);
            var entries = page?["data"] as JsonArray ?? [];
            if (entries.Count == 0)
            {
                if (!request.Follow) break;
                wait = emptyWait;
                continue;
            }
            wait = TimeSpan.Zero;
            var next = page?["meta"]?["next_token"] is JsonValue v && v.TryGetValue<string>(out var t) ? t : "";
            var repeated = next.Length == 0 || next == token;
            if (next.Length > 0) token = next;
            var newer = false;
            foreach (var entry in entries.OfType<JsonObject>())
            {
                var record = LogRecordOf(entry["attributes"] as JsonObject ?? entry);
                if (first && request.Since is { } since && record.Timestamp is { } oldest && oldest > since)
                {
                    notice($"Fly.io keeps a short log buffer: the oldest record it still has is from {oldest:u}, so the window from {since:u} is not complete.");
                }
                first = false;
                if (!request.Follow && record.Timestamp is { } at && at > started)
                {
                    newer = true;
                    break;
                }
                if (request.Since is { } from && record.Timestamp is { } ts1 && ts1 < from) continue;
                if (request.Until is { } until && record.Timestamp is { } ts2 && ts2 >= until)
                {
                    if (request.Follow) yield break;
                    continue;
                }
                if (!request.Follow && request.Tail > 0)
                {
                    tail.Enqueue(record);
                    if (tail.Count > request.Tail) tail.Dequeue();
                }
                else
                {
                    yield return record;
                }
            }
            if (!request.Follow && (newer || repeated)) break;
        }
        foreach (var record in tail) yield return record;
    }

    /// <summary>One entry (fly-go LogEntry: timestamp, message, level, instance, region, meta) as a record; the message is the app's line.</summary>
    private LogRecord LogRecordOf(JsonObject entry)
    {
        var message = LogReader.Scrub(Str(entry, "message") ?? "", _redactor.ScrubKnown);
        var inner = LogLineParser.Parse(message);
        return inner with
        {
            Timestamp = DateTimeOffset.TryParse(Str(entry, "timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at) ? at : inner.Timestamp,
            Level = inner.Level ?? LogLineParser.NormalLevel(Str(entry, "level")),
            Instance = Str(entry, "instance"),
            Region = Str(entry, "region"),
            Service = _settings.App,
            Source = "fly:" + _settings.App,
        };
    }

    public void Dispose() => _http.Dispose();
}
