using System.Diagnostics;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Deploy;

/// <summary>What the deployment cmdlets do, so they stay thin.</summary>
public static class DeploymentOperations
{
    /// <summary>The environment's provider (runbook.json "deploy"), with its token resolved.</summary>
    public static async Task<IDeploymentProvider> ProviderAsync(EnvironmentConfig env, OperationContext context, string? configPath = null)
    {
        var (secrets, redactor, ct) = (context.Secrets, context.Redactor, context.Cancellation);
        var deploy = env.Deploy ?? throw new ArgumentException(
            $"environment '{env.Name}' has no \"deploy\" in runbook.json; add e.g. \"deploy\": {{ \"provider\": \"fly\", \"app\": \"paintbox-app\", \"token\": \"env:FLY_API_TOKEN\" }}");
        switch (deploy.Provider)
        {
            case "fly":
            {
                var app = deploy.Settings.TryGetValue("app", out var a) ? a : throw new ArgumentException($"environment '{env.Name}': \"deploy\".\"app\" names the Fly app");
                var token = deploy.Token is null
                    ? System.Environment.GetEnvironmentVariable("FLY_API_TOKEN") ?? throw new ArgumentException($"environment '{env.Name}': set \"deploy\".\"token\" (e.g. \"env:FLY_API_TOKEN\") or $env:FLY_API_TOKEN")
                    : await deploy.Token.ResolveAsync(secrets, ct).ConfigureAwait(false);
                var settings = new FlySettings { App = app };
                if (deploy.Settings.TryGetValue("machinesApi", out var m)) settings = settings with { MachinesApi = MachinesApi(m) };
                if (deploy.Settings.TryGetValue("graphqlApi", out var g)) settings = settings with { GraphQl = new Uri(EnvTemplate.Expand(g)) };
                return new FlyProvider(settings, token, redactor);
            }
            case "railway":
            {
                string Need(string key) => deploy.Settings.TryGetValue(key, out var v) ? EnvTemplate.Expand(v)
                    : throw new ArgumentException($"environment '{env.Name}': \"deploy\".\"{key}\" is required for Railway (the {key} id, from the Railway dashboard or `railway status --json`)");
                var kind = deploy.Settings.TryGetValue("tokenKind", out var k) ? k.ToLowerInvariant() switch
                {
                    "account" => RailwayTokenKind.Account,
                    "team" => RailwayTokenKind.Team,
                    "project" => RailwayTokenKind.Project,
                    _ => throw new ArgumentException($"environment '{env.Name}': \"deploy\".\"tokenKind\" is account, team or project, not '{k}'"),
                } : RailwayTokenKind.Project;
                var token = deploy.Token is null
                    ? System.Environment.GetEnvironmentVariable(kind == RailwayTokenKind.Project ? "RAILWAY_TOKEN" : "RAILWAY_API_TOKEN")
                        ?? throw new ArgumentException($"environment '{env.Name}': set \"deploy\".\"token\" (e.g. \"env:RAILWAY_TOKEN\")")
                    : await deploy.Token.ResolveAsync(secrets, ct).ConfigureAwait(false);
                var settings = new RailwaySettings { ProjectId = Need("project"), ServiceId = Need("service"), EnvironmentId = Need("environment"), TokenKind = kind };
                if (deploy.Settings.TryGetValue("api", out var api)) settings = settings with { Api = new Uri(EnvTemplate.Expand(api)) };
                return new RailwayProvider(settings, token, redactor);
            }
            case "compose":
            {
                var file = deploy.Settings.TryGetValue("file", out var f) ? EnvTemplate.Expand(f) : "docker-compose.yml";
                if (!Path.IsPathRooted(file)) file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath ?? "."))!, file);
                var service = deploy.Settings.TryGetValue("service", out var svc) ? svc
                    : throw new ArgumentException($"environment '{env.Name}': \"deploy\".\"service\" names the compose service to roll back");
                var settings = new ComposeSettings { File = file, Service = service, Project = deploy.Settings.GetValueOrDefault("project") };
                if (deploy.Settings.TryGetValue("imageVariable", out var iv)) settings = settings with { ImageVariable = iv };
                if (deploy.Settings.TryGetValue("docker", out var docker)) settings = settings with { Docker = EnvTemplate.Expand(docker) };
                return new ComposeProvider(settings, redactor);
            }
            case "kubernetes":
            {
                var name = deploy.Settings.TryGetValue("deployment", out var dn) ? dn
                    : throw new ArgumentException($"environment '{env.Name}': \"deploy\".\"deployment\" names the Kubernetes Deployment");
                string? Opt(string key) => deploy.Settings.TryGetValue(key, out var v) ? EnvTemplate.Expand(v) : null;
                return new KubernetesProvider(new KubernetesSettings
                {
                    Deployment = name, Namespace = Opt("namespace"), Context = Opt("context"), Kubeconfig = Opt("kubeconfig"), Server = Opt("server"),
                    Kubectl = Opt("kubectl") ?? "kubectl", SecretName = Opt("secret"),
                }, redactor);
            }
            default:
                throw new ArgumentException($"'{deploy.Provider}' is not a deployment provider; use fly, railway, compose or kubernetes");
        }
    }

    /// <summary>
    /// The Machines API of a Fly Postgres cluster app: <paramref name="app"/>, else the environment's "database"."fly"."app";
    /// the token from "database"."fly"."token", else the Fly deploy's token, else $env:FLY_API_TOKEN; the API base likewise.
    /// </summary>
    public static async Task<FlyProvider> FlyPostgresAsync(EnvironmentConfig? env, string? app, OperationContext context)
    {
        var fly = env?.Database?.Fly;
        app ??= fly?.App ?? throw new ArgumentException(env is null
            ? "give -FlyApp (the Fly Postgres cluster's app)"
            : $"environment '{env.Name}' names no Fly Postgres app: add \"database\": {{ \"fly\": {{ \"app\": \"cardmint-db\" }} }} to runbook.json, or give -FlyApp");
        var deploy = env?.Deploy is { Provider: "fly" } d ? d : null;
        var setting = fly?.Token is not null ? "\"database\".\"fly\".\"token\"" : deploy?.Token is not null ? "\"deploy\".\"token\"" : "$env:FLY_API_TOKEN";
        var token = (fly?.Token ?? deploy?.Token) is { } reference
            ? await reference.ResolveAsync(context.Secrets, context.Cancellation).ConfigureAwait(false)
            : System.Environment.GetEnvironmentVariable("FLY_API_TOKEN")
              ?? throw new ArgumentException($"no Fly token for app '{app}': set \"database\".\"fly\".\"token\" (e.g. \"env:FLY_API_TOKEN\") in runbook.json, or $env:FLY_API_TOKEN");
        var api = fly?.MachinesApi ?? (deploy is not null && deploy.Settings.TryGetValue("machinesApi", out var m) ? m : null);
        var settings = new FlySettings { App = app, TokenSetting = $"{setting} (a token that may manage the cluster's machines: fly tokens create deploy -a {app})" };
        if (api is not null) settings = settings with { MachinesApi = MachinesApi(api) };
        return new FlyProvider(settings, token, context.Redactor);
    }

    /// <summary>A Machines API base from runbook.json (${VAR} expanded), ending in "/" so paths append.</summary>
    private static Uri MachinesApi(string setting) => new(EnvTemplate.Expand(setting).TrimEnd('/') + "/");

    /// <summary>The instances, labelled with the environment.</summary>
    public static async Task<IReadOnlyList<DeploymentInstance>> StatusAsync(IDeploymentProvider provider, string? environment, CancellationToken ct)
    {
        var instances = await provider.GetInstancesAsync(ct).ConfigureAwait(false);
        foreach (var i in instances) i.Environment = environment;
        return instances;
    }

    /// <summary>The releases, newest first, labelled with the environment.</summary>
    public static async Task<IReadOnlyList<DeploymentRelease>> ReleasesAsync(IDeploymentProvider provider, string? environment, int limit, CancellationToken ct)
    {
        var releases = await provider.GetReleasesAsync(limit, ct).ConfigureAwait(false);
        foreach (var r in releases) r.Environment = environment;
        return releases;
    }

    /// <summary>Restart, Stop or Start, timed; <paramref name="planOnly"/> (-WhatIf) only counts the instances it would touch.</summary>
    public static async Task<DeploymentActionResult> ActAsync(IDeploymentProvider provider, string? environment, string action, bool rolling, bool planOnly,
        Action<string> progress, CancellationToken ct)
    {
        var steps = new List<string>();
        void Step(string s)
        {
            steps.Add(s);
            progress(s);
        }
        if (planOnly)
        {
            var instances = await provider.GetInstancesAsync(ct).ConfigureAwait(false);
            return new DeploymentActionResult { Environment = environment, Provider = provider.Name, Action = action, Status = "Planned", Instances = instances.Count };
        }
        var sw = Stopwatch.StartNew();
        var count = action switch
        {
            "Restart" => await provider.RestartAsync(rolling, Step, ct).ConfigureAwait(false),
            "Stop" => await provider.StopAsync(Step, ct).ConfigureAwait(false),
            "Start" => await provider.StartAsync(Step, ct).ConfigureAwait(false),
            _ => throw new ArgumentException($"unknown action '{action}'"),
        };
        return new DeploymentActionResult { Environment = environment, Provider = provider.Name, Action = action, Status = "Succeeded", Instances = count, Duration = sw.Elapsed, Steps = steps };
    }

    /// <summary>Set-DeploymentSecret: the names only under -WhatIf; values are never part of the result.</summary>
    public static async Task<DeploymentActionResult> SetSecretsAsync(IDeploymentProvider provider, string? environment, IReadOnlyDictionary<string, string> values, bool redeploy,
        bool planOnly, Action<string> progress, CancellationToken ct)
    {
        if (values.Count == 0) throw new ArgumentException("there are no values to set");
        if (planOnly)
        {
            return new DeploymentActionResult { Environment = environment, Provider = provider.Name, Action = "SetSecret", Status = "Planned", Instances = 0, Steps = new string[] { $"set {string.Join(", ", values.Keys)}" } };
        }
        var steps = new List<string>();
        var sw = Stopwatch.StartNew();
        var count = await provider.SetSecretsAsync(values, redeploy, s =>
        {
            steps.Add(s);
            progress(s);
        }, ct).ConfigureAwait(false);
        return new DeploymentActionResult { Environment = environment, Provider = provider.Name, Action = "SetSecret", Status = "Succeeded", Instances = count, Duration = sw.Elapsed, Steps = steps };
    }

    /// <summary>
    /// After Invoke-SecretRotation: reads the secret's AWSCURRENT value from Secrets Manager (it never leaves the Engine)
    /// and sets it as <paramref name="variable"/> on the platform.
    /// </summary>
    public static async Task<DeploymentActionResult> PushSecretAsync(IDeploymentProvider provider, string? environment, Clients.Aws.SecretsManagerClient secrets,
        string secretId, string variable, bool redeploy, Action<string> progress, CancellationToken ct)
    {
        var value = await secrets.GetSecretStringAsync(secretId, ct).ConfigureAwait(false);
        return await SetSecretsAsync(provider, environment, new Dictionary<string, string> { [variable] = value }, redeploy, false, progress, ct).ConfigureAwait(false);
    }

    /// <summary>Set-DeploymentScale: <paramref name="planOnly"/> (-WhatIf) only counts the instances now.</summary>
    public static async Task<DeploymentActionResult> ScaleAsync(IDeploymentProvider provider, string? environment, ScaleRequest request, bool planOnly,
        Action<string> progress, CancellationToken ct)
    {
        if (request.Count is null && request.MemoryMb is null) throw new ArgumentException("give -Count and/or -Memory");
        if (request.Count is < 0) throw new ArgumentException("-Count cannot be negative");
        var steps = new List<string>();
        if (planOnly)
        {
            var now = await provider.GetInstancesAsync(ct).ConfigureAwait(false);
            return new DeploymentActionResult { Environment = environment, Provider = provider.Name, Action = "Scale", Status = "Planned", Instances = now.Count };
        }
        var sw = Stopwatch.StartNew();
        var count = await provider.ScaleAsync(request, s =>
        {
            steps.Add(s);
            progress(s);
        }, ct).ConfigureAwait(false);
        return new DeploymentActionResult { Environment = environment, Provider = provider.Name, Action = "Scale", Status = "Succeeded", Instances = count, Duration = sw.Elapsed, Steps = steps };
    }

    /// <summary>
    /// Rolls back to <paramref name="release"/> (id or version) or the previous good release; with
    /// <paramref name="healthTargets"/>, waits until they are all healthy (a timeout is an error naming what still fails).
    /// -WhatIf (<paramref name="planOnly"/>) reads releases and returns the plan.
    /// </summary>
    public static async Task<RollbackResult> RollbackAsync(IDeploymentProvider provider, string? environment, string? release, bool planOnly,
        IReadOnlyList<HealthCheckTarget>? healthTargets, SecretResolver secrets, TimeSpan healthTimeout, Action<string> progress, CancellationToken ct,
        bool unhealthyIsData = false)
    {
        var releases = await ReleasesAsync(provider, environment, 25, ct).ConfigureAwait(false);
        var from = releases.FirstOrDefault(r => r.IsCurrent);
        var to = ReleasePicker.Pick(releases, release, provider.Name);
        var steps = new List<string>();
        void Step(string s)
        {
            steps.Add(s);
            progress(s);
        }
        if (planOnly)
        {
            return new RollbackResult
            {
                Environment = environment, Provider = provider.Name, From = from, To = to, Status = "Planned",
                Steps = new string[] { $"move every instance from {from?.Image ?? "?"} to {to.Image} ({to})", healthTargets is { Count: > 0 } ? $"then wait for {healthTargets.Count} health checks" : "then wait for the instances to start" },
            };
        }
        var sw = Stopwatch.StartNew();
        var updated = await provider.RollbackAsync(to, Step, ct).ConfigureAwait(false);
        HealthReport? last = null;
        if (healthTargets is { Count: > 0 })
        {
            try
            {
                await foreach (var report in HealthWait.RunAsync(healthTargets, new HealthCheckOptions(), secrets, HealthStatus.Healthy, healthTimeout, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false))
                {
                    last = report;
                    Step($"health round {report.Round}: {report.Healthy} of {report.Entries.Count} healthy");
                }
            }
            catch (HealthWaitTimeoutException timeout) when (unhealthyIsData)
            {
                // The rollback happened; the environment is still not healthy. The caller reports that as data.
                last = timeout.LastReport;
                Step(timeout.Message);
            }
        }
        return new RollbackResult
        {
            Environment = environment, Provider = provider.Name, From = from, To = to, Status = "Succeeded", InstancesUpdated = updated, Duration = sw.Elapsed, Steps = steps,
            FinalHealth = last?.Status, FinalFailing = last?.Entries.Where(e => e.Status != HealthStatus.Healthy).Select(e => $"{e.Name}: {e.Reason}").ToList() ?? [],
        };
    }
}
