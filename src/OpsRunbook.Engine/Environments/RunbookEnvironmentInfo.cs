using OpsRunbook.Engine.Health;

namespace OpsRunbook.Engine.Environments;

/// <summary>
/// An environment as <c>Get-RunbookEnvironment</c> shows it: every setting, with each secret shown as its reference
/// (<c>env:DATABASE_URL</c>) or masked (<c>postgres://app:***@db/app</c>), never its value.
/// </summary>
public sealed class RunbookEnvironmentInfo
{
    /// <summary>The environment's name (binds to <c>-Environment</c> of the next cmdlet).</summary>
    public required string Environment { get; init; }
    /// <summary>The system it belongs to.</summary>
    public required string System { get; init; }
    /// <summary>The file it came from (binds to <c>-ConfigPath</c>).</summary>
    public required string ConfigPath { get; init; }
    /// <summary>Endpoints with their conditions.</summary>
    public IReadOnlyList<EndpointInfo> Endpoints { get; init; } = [];
    /// <summary>The primary database connection, redacted.</summary>
    public string? Database { get; init; }
    /// <summary>The replica connection, redacted.</summary>
    public string? DatabaseReplica { get; init; }
    /// <summary>The Redis connection, redacted.</summary>
    public string? Redis { get; init; }
    /// <summary>Backup destination.</summary>
    public string? BackupDestination { get; init; }
    /// <summary>Backup retention in days.</summary>
    public int? BackupRetentionDays { get; init; }
    /// <summary>Deployment provider (fly, railway, compose, kubernetes).</summary>
    public string? DeployProvider { get; init; }
    /// <summary>Provider settings (app, project, service...) and the token reference.</summary>
    public IReadOnlyDictionary<string, string> Deploy { get; init; } = new Dictionary<string, string>();
    /// <summary>Threshold table.</summary>
    public IReadOnlyDictionary<string, ThresholdConfig> Thresholds { get; init; } = new Dictionary<string, ThresholdConfig>();
    /// <summary>Notification targets, redacted.</summary>
    public IReadOnlyDictionary<string, string> Notify { get; init; } = new Dictionary<string, string>();
    /// <summary>Names of the health-check targets the environment defines.</summary>
    public IReadOnlyList<string> HealthCheckTargets { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() => Environment;

    /// <summary>Builds the redacted view.</summary>
    public static RunbookEnvironmentInfo From(RunbookConfig config, EnvironmentConfig env)
    {
        var deploy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (env.Deploy is { } d)
        {
            foreach (var (k, v) in d.Settings) deploy[k] = v;
            if (d.Token is not null) deploy["token"] = d.Token.Display;
        }
        var targets = new List<string>(env.Endpoints.Select(e => e.Name));
        if (env.Database is not null) targets.Add("database");
        if (env.Database?.Replica is not null) targets.Add("database-replica");
        if (env.Redis is not null) targets.Add("redis");
        return new RunbookEnvironmentInfo
        {
            Environment = env.Name,
            System = env.System,
            ConfigPath = config.Path,
            Endpoints = env.Endpoints.Select(e => new EndpointInfo(e.Name, e.Kind, e.Url, e.Timeout, e.Expect)).ToList(),
            Database = env.Database?.Connection.Display,
            DatabaseReplica = env.Database?.Replica?.Display,
            Redis = env.Redis?.Connection.Display,
            BackupDestination = env.Backup?.Destination,
            BackupRetentionDays = env.Backup?.RetentionDays,
            DeployProvider = env.Deploy?.Provider,
            Deploy = deploy,
            Thresholds = env.Thresholds,
            Notify = env.Notify.ToDictionary(n => n.Channel.ToString(), n => n.Address.Display, StringComparer.OrdinalIgnoreCase),
            HealthCheckTargets = targets,
        };
    }
}

/// <summary>An endpoint as configured (URL templates unexpanded).</summary>
public sealed record EndpointInfo(string Name, TargetKind Kind, string Url, TimeSpan? Timeout, IReadOnlyList<string> Expect);
