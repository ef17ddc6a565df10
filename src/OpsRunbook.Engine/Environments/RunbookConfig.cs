using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Environments;

/// <summary>A loaded <c>runbook.json</c>: one system and its environments.</summary>
public sealed class RunbookConfig
{
    /// <summary>The file it was read from.</summary>
    public required string Path { get; init; }
    /// <summary>The system's name (e.g. <c>paintbox</c>).</summary>
    public required string System { get; init; }
    /// <summary>Whether literal passwords were explicitly allowed in this file.</summary>
    public bool AllowPlaintextSecrets { get; init; }
    /// <summary>Environments by name (case-insensitive), in file order.</summary>
    public required IReadOnlyList<EnvironmentConfig> Environments { get; init; }

    /// <summary>Environments whose names match <paramref name="patterns"/>; a pattern without wildcards must match one.</summary>
    public IReadOnlyList<EnvironmentConfig> FindEnvironments(IReadOnlyCollection<string>? patterns)
    {
        foreach (var p in patterns ?? [])
        {
            if (!NamePattern.HasWildcard(p)) GetEnvironment(p);
        }
        return Environments.Where(e => NamePattern.MatchesAny(e.Name, patterns)).ToList();
    }

    /// <summary>Finds an environment or throws <see cref="RunbookConfigException"/> listing the known names.</summary>
    public EnvironmentConfig GetEnvironment(string name)
    {
        var env = Environments.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
        return env ?? throw new RunbookConfigException(
            $"{Path}: there is no environment '{name}'. Known environments: {string.Join(", ", Environments.Select(e => e.Name))}.",
            Path, null, "environments." + name);
    }
}

/// <summary>One environment (production, staging, sandbox...).</summary>
public sealed class EnvironmentConfig
{
    /// <summary>The environment's name.</summary>
    public required string Name { get; init; }
    /// <summary>The system it belongs to.</summary>
    public required string System { get; init; }
    /// <summary>HTTP(S) and TCP endpoints to check.</summary>
    public IReadOnlyList<EndpointConfig> Endpoints { get; init; } = [];
    /// <summary>AWS settings (region, endpoints, credentials) for S3 and Secrets Manager; null uses the SDK's chains.</summary>
    public Clients.Aws.AwsSettings? Aws { get; init; }
    /// <summary>Metrics endpoints (Prometheus text or JSON) for Get-ServiceMetric.</summary>
    public IReadOnlyList<MetricsEndpointConfig> Metrics { get; init; } = [];
    /// <summary>PostgreSQL primary and replica, if any.</summary>
    public DatabaseConfig? Database { get; init; }
    /// <summary>Redis, if any.</summary>
    public RedisConfig? Redis { get; init; }
    /// <summary>Where backups go and how long they are kept.</summary>
    public BackupConfig? Backup { get; init; }
    /// <summary>The deployment platform.</summary>
    public DeployConfig? Deploy { get; init; }
    /// <summary>Threshold table: metric name → warning/critical.</summary>
    public IReadOnlyDictionary<string, ThresholdConfig> Thresholds { get; init; } = new Dictionary<string, ThresholdConfig>();
    /// <summary>A built-in threshold profile the table overrides (paintbox, formula-pm, cardmint, sentia).</summary>
    public string? ThresholdProfile { get; init; }

    /// <summary>
    /// The environment's thresholds: its named built-in profile (or the defaults), with its own table over it.
    /// </summary>
    public global::OpsRunbook.Engine.Metrics.ThresholdProfile GetThresholdProfile()
    {
        var baseProfile = ThresholdProfile is null ? global::OpsRunbook.Engine.Metrics.ThresholdProfile.Defaults : global::OpsRunbook.Engine.Metrics.ThresholdProfile.Get(ThresholdProfile);
        return baseProfile.With(Name, Thresholds.Select(t => new global::OpsRunbook.Engine.Metrics.ThresholdRule(t.Key, t.Value.Warning, t.Value.Critical,
            t.Value.Below ? global::OpsRunbook.Engine.Metrics.ThresholdDirection.Below : global::OpsRunbook.Engine.Metrics.ThresholdDirection.Above, Source: $"runbook.json environments.{Name}.thresholds.{t.Key}")));
    }
    /// <summary>Where this environment's incidents are kept and whose rules apply ("incidents" section); null for the defaults.</summary>
    public IncidentsConfig? Incidents { get; init; }

    /// <summary>Where this environment's notifications and alerts go ("notify" section); empty when it has none.</summary>
    public IReadOnlyList<NotifyTarget> Notify { get; init; } = [];

    /// <summary>The secrets this environment rotates ("secrets" section), by short name (database, redis, jwt, …).</summary>
    public IReadOnlyList<ManagedSecretConfig> Secrets { get; init; } = [];

    /// <summary>
    /// The health-check targets this environment defines (endpoints, then database primary/replica, then Redis),
    /// limited to names matching <paramref name="namePatterns"/>. A pattern without wildcards that matches nothing is an
    /// error listing the names there are.
    /// </summary>
    public IReadOnlyList<HealthCheckTarget> GetHealthCheckTargets(IReadOnlyCollection<string>? namePatterns)
    {
        var all = GetHealthCheckTargets();
        foreach (var p in namePatterns ?? [])
        {
            if (!NamePattern.HasWildcard(p) && !all.Any(t => string.Equals(t.Name, p, StringComparison.OrdinalIgnoreCase)))
            {
                throw new RunbookConfigException(
                    $"environment '{Name}' has no health-check target '{p}'. Its targets: {string.Join(", ", all.Select(t => t.Name))}.", null, null, null);
            }
        }
        return all.Where(t => NamePattern.MatchesAny(t.Name, namePatterns)).ToList();
    }

    /// <summary>Every health-check target this environment defines: endpoints, then database primary/replica, then Redis.</summary>
    public IReadOnlyList<HealthCheckTarget> GetHealthCheckTargets()
    {
        var thresholds = GetThresholdProfile();
        var targets = new List<HealthCheckTarget>();
        foreach (var e in Endpoints)
        {
            var (url, display, secrets) = ExpandUrl(e);
            targets.Add(new HealthCheckTarget
            {
                Name = e.Name,
                Kind = e.Kind,
                Address = url,
                AddressTemplate = display == url ? null : display,
                SubstitutedValues = secrets,
                Environment = Name,
                System = System,
                Conditions = e.Expect,
                Timeout = e.Timeout,
                DegradedAfter = e.DegradedAfter,
                Method = e.Method,
                SkipCertificateCheck = e.SkipCertificateCheck,
                CheckCertificate = e.CheckCertificate,
                WriteProbe = e.WriteProbe,
                Aws = Aws,
                CaCertificatePath = e.CaCertificate,
                Tags = e.Tags,
                Thresholds = thresholds,
            });
        }
        if (Database is { } db)
        {
            targets.Add(DataTarget("database", TargetKind.Postgres, db.Connection, "primary", db.Timeout, db.CaCertificate));
            if (db.Replica is not null)
            {
                targets.Add(DataTarget("database-replica", TargetKind.Postgres, db.Replica, "replica", db.Timeout, db.CaCertificate));
            }
        }
        if (Redis is { } redis)
        {
            targets.Add(DataTarget("redis", TargetKind.Redis, redis.Connection, null, redis.Timeout, redis.CaCertificate));
        }
        foreach (var t in targets) t.Thresholds = thresholds;
        return targets;
    }

    private (string Url, string Display, IReadOnlyList<string> Secrets) ExpandUrl(EndpointConfig e)
    {
        try
        {
            return EnvTemplate.ExpandUrl(e.Url);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new RunbookConfigException($"environment '{Name}', endpoint '{e.Name}': url: {ex.Message}", null, null, $"environments.{Name}.endpoints.{e.Name}.url", ex);
        }
    }

    private HealthCheckTarget DataTarget(string name, TargetKind kind, SecretValue connection, string? role, TimeSpan? timeout, string? ca) => new()
    {
        Name = name,
        Kind = kind,
        Address = connection.Display,
        Connection = connection,
        ExpectedRole = role,
        Environment = Name,
        System = System,
        Timeout = timeout,
        CaCertificatePath = ca,
    };
}

/// <summary>An HTTP(S) or TCP endpoint with Gatus-style conditions.</summary>
public sealed class EndpointConfig
{
    /// <summary>Name shown in results.</summary>
    public required string Name { get; init; }
    /// <summary>http://, https://, tcp://host:port or dns://SERVER/NAME.</summary>
    public required string Url { get; init; }
    /// <summary>Http, Tcp, Dns (from the URL scheme) or Jwks (declared with "kind").</summary>
    public TargetKind Kind { get; init; } = TargetKind.Http;
    /// <summary>Per-attempt timeout.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Latency above which a passing check is Degraded.</summary>
    public TimeSpan? DegradedAfter { get; init; }
    /// <summary>HTTP method (GET by default).</summary>
    public string Method { get; init; } = "GET";
    /// <summary>Conditions such as <c>[STATUS] == 200</c>.</summary>
    public IReadOnlyList<string> Expect { get; init; } = [];
    /// <summary>Accept any TLS certificate (test endpoints only).</summary>
    public bool SkipCertificateCheck { get; init; }
    /// <summary>Inspect the certificate (expiry, chain, host name) on every check.</summary>
    public bool CheckCertificate { get; init; }
    /// <summary>S3 endpoints: also write, read back and delete a probe object.</summary>
    public bool WriteProbe { get; init; }
    /// <summary>PEM file of a private CA that signs the endpoint's certificate.</summary>
    public string? CaCertificate { get; init; }
    /// <summary>Free-form tags for filtering.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>A metrics endpoint: Prometheus text exposition or JSON.</summary>
public sealed record MetricsEndpointConfig(string Name, string Url, TimeSpan? Timeout)
{
    /// <summary>The URL with ${VAR} expanded.</summary>
    public Uri ExpandedUri() => new(EnvTemplate.Expand(Url));
}

/// <summary>PostgreSQL: primary connection and optional streaming replica.</summary>
public sealed class DatabaseConfig
{
    /// <summary>Primary connection: a reference or a postgres:// URL / key=value string.</summary>
    public required SecretValue Connection { get; init; }
    /// <summary>Replica connection, if any.</summary>
    public SecretValue? Replica { get; init; }
    /// <summary>Per-attempt timeout.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>PEM file of the CA for sslmode=verify-ca/verify-full.</summary>
    public string? CaCertificate { get; init; }
    /// <summary>The Fly Postgres cluster app the database runs on, if it does (failover drills kill its primary machine).</summary>
    public FlyPostgresConfig? Fly { get; init; }
}

/// <summary>A Fly Postgres cluster app ("database": { "fly": { "app": "cardmint-db" } }).</summary>
public sealed class FlyPostgresConfig
{
    /// <summary>The cluster's app name (fly postgres list).</summary>
    public required string App { get; init; }
    /// <summary>A token that may manage that app's machines (default: the Fly deploy token, else $env:FLY_API_TOKEN).</summary>
    public SecretValue? Token { get; init; }
    /// <summary>Machines API base (default: the deploy's, else https://api.machines.dev/v1).</summary>
    public string? MachinesApi { get; init; }
}

/// <summary>Redis connection.</summary>
public sealed class RedisConfig
{
    /// <summary>A reference or a redis:// / rediss:// URL.</summary>
    public required SecretValue Connection { get; init; }
    /// <summary>Per-attempt timeout.</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>PEM file of the CA that signs the server certificate (rediss://).</summary>
    public string? CaCertificate { get; init; }
}

/// <summary>Backup destination and retention.</summary>
public sealed class BackupConfig
{
    /// <summary>s3://bucket/prefix/ or a local directory.</summary>
    public required string Destination { get; init; }
    /// <summary>Keep backups this many days.</summary>
    public int? RetentionDays { get; init; }
    /// <summary>Keep at least this many backups.</summary>
    public int? RetentionCount { get; init; }
    /// <summary>The recovery time objective restore checks are measured against (runbook 000: 30 min, 004: 4 h).</summary>
    public TimeSpan? Rto { get; init; }
}

/// <summary>The deployment platform and its settings.</summary>
public sealed class DeployConfig
{
    /// <summary>fly, railway, compose or kubernetes.</summary>
    public required string Provider { get; init; }
    /// <summary>Provider settings that are not secret (app, project, service, namespace, file...).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    /// <summary>API token, if the provider takes one.</summary>
    public SecretValue? Token { get; init; }
}

/// <summary>A warning and a critical level for one metric.</summary>
public sealed record ThresholdConfig(double? Warning, double? Critical, bool Below = false);

/// <summary>A Secrets Manager secret the runbook rotates, and how.</summary>
public sealed record ManagedSecretConfig
{
    /// <summary>The short name used with -Secret (database, redis, jwt).</summary>
    public required string Name { get; init; }
    /// <summary>Secrets Manager name or ARN.</summary>
    public required string SecretId { get; init; }
    public Secrets.Rotation.RotationStrategy Strategy { get; init; }
    public string? AdminSecretId { get; init; }
    /// <summary>Policy: rotate at least every N days (otherwise from the secret's tags or rotation rules, then the strategy's default).</summary>
    public int? RotationDays { get; init; }
    public Secrets.Rotation.PasswordPolicy Password { get; init; } = new();
    public string? Field { get; init; }
    public bool Persist { get; init; } = true;
    /// <summary>The variable the platform's copy lives in (DATABASE_URL), for Set-DeploymentSecret after a rotation.</summary>
    public string? PlatformVariable { get; init; }
}

/// <summary>
/// One notification destination of an environment: a Slack or Teams webhook URL, a generic webhook (URL and its
/// Standard Webhooks signing secret), or PagerDuty (the Events API v2 routing key for alerts, and a change-events key).
/// Every address is a secret.
/// </summary>
public sealed record NotifyTarget(global::OpsRunbook.Engine.Notify.NotificationChannel Channel, SecretValue Address)
{
    /// <summary>Webhook: the whsec_ secret requests are signed with.</summary>
    public SecretValue? SigningSecret { get; init; }
    /// <summary>PagerDuty: the routing key of a Change Events integration (deployments, rollbacks, rotations).</summary>
    public SecretValue? ChangeRoutingKey { get; init; }
    /// <summary>PagerDuty: the Events API base URL, https://events.pagerduty.com unless set (EU: https://events.eu.pagerduty.com).</summary>
    public string? Endpoint { get; init; }
    /// <summary>How the target may be shown.</summary>
    public string Display => $"{Channel}: {Address.Display}";
}

/// <summary>
/// An environment's incidents: the folder of their journals (relative to runbook.json; default .opsrunbook/incidents
/// beside it) and the profile whose severity table and escalation apply (default: the environment's thresholdProfile
/// when it names a runbook with an incident chapter, else "default").
/// </summary>
public sealed record IncidentsConfig(string? Path, string? Profile);
