using System.Management.Automation;
using OpsRunbook.Engine.Cache;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.PowerShell;

/// <summary>What the Redis cmdlets share: which server (an environment's "redis" or -Connection) and readable errors.</summary>
public abstract class RedisCmdlet : EnvironmentCmdlet
{
    private RedisSession? _session;
    private string? _sessionKey;

    /// <summary>A connection instead of an environment: a reference (env:REDIS_URL, vault:...) or a redis:// / rediss:// URL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Connection { get; set; }

    /// <summary>Accept any TLS certificate (rediss://). For test servers only.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>The environment's thresholds, when there is one.</summary>
    protected ThresholdProfile? Thresholds { get; private set; }

    /// <summary>The session for this record's server.</summary>
    protected RedisSession Session()
    {
        var key = $"{Connection}|{Environment}";
        if (_session is not null && _sessionKey == key) return _session;
        SecretValue connection;
        string? ca = null;
        string? target = null;
        var environment = string.IsNullOrEmpty(Environment) ? null : Environment;
        try
        {
            if (Connection is not null)
            {
                connection = SecretValue.Parse(Connection);
            }
            else
            {
                if (environment is null) throw new ArgumentException("give -Environment (an environment with \"redis\" in runbook.json) or -Connection");
                var env = ResolveEnvironment(EnvironmentNeed.Required, environment)!;
                var redis = env.Redis ?? throw new ArgumentException($"environment '{env.Name}' has no \"redis\" section in runbook.json");
                connection = redis.Connection;
                ca = redis.CaCertificate;
                target = "redis";
                Thresholds = env.GetThresholdProfile();
            }
        }
        catch (RunbookConfigException ex)
        {
            ThrowTerminatingError(ConfigError(ex));
            throw;
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.RedisMissing, ErrorCategory.InvalidArgument, null));
            throw;
        }
        SupplyVaultSecret(Secrets, connection);
        _session = Run(() => RedisSession.OpenAsync(connection, ca, SkipCertificateCheck, target, ContextOf(null) with { Environment = environment }), "Redis");
        _sessionKey = key;
        return _session;
    }

    /// <summary>Runs Engine work; connection and server errors become terminating errors with a readable message.</summary>
    protected T Run<T>(Func<Task<T>> work, string where) => RunEngine(work, where, ErrorIds.RedisError);

    /// <summary>Runs work against this record's session.</summary>
    protected T Run<T>(Func<RedisSession, CancellationToken, Task<T>> work)
    {
        var session = Session();
        return Run(() => work(session, Cancellation), session.Target);
    }
}
