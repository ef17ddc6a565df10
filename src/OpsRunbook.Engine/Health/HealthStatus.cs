namespace OpsRunbook.Engine.Health;

/// <summary>Health of a target, ordered worst first as in ASP.NET Core health checks: the lowest value of a set decides.</summary>
public enum HealthStatus
{
    /// <summary>The target failed its check.</summary>
    Unhealthy = 0,
    /// <summary>The target works but is slow or near a limit.</summary>
    Degraded = 1,
    /// <summary>The target passed every condition.</summary>
    Healthy = 2,
}

/// <summary>What kind of thing a target is, and so how it is checked.</summary>
public enum TargetKind
{
    /// <summary>HTTP(S) request; status, latency, body conditions.</summary>
    Http,
    /// <summary>TCP connect.</summary>
    Tcp,
    /// <summary>PostgreSQL: connect, SELECT 1, version, primary/replica role.</summary>
    Postgres,
    /// <summary>Redis: AUTH, PING, ROLE, memory use against maxmemory.</summary>
    Redis,
    /// <summary>JWKS endpoint: HTTP GET and a valid JSON Web Key Set with at least one key (runbook 002).</summary>
    Jwks,
    /// <summary>DNS: resolve a name, through a given server (the DNS wire protocol) or the system resolver.</summary>
    Dns,
    /// <summary>S3 bucket: reachable (list one key), and writable when a probe is asked for.</summary>
    S3,
    /// <summary>AWS Secrets Manager: the configured secret can be described (no value is fetched).</summary>
    SecretsManager,
}
