namespace OpsRunbook.Engine.Metrics;

/// <summary>
/// The metric names OpsRunbook's own results carry and threshold tables use. runbook.json may use the short
/// aliases (cpu, memory, disk, p95_ms, ...) the runbooks and ARCHITECTURE.md use.
/// </summary>
public static class WellKnownMetrics
{
    /// <summary>Host CPU use, %.</summary>
    public const string CpuPercent = "cpu_percent";
    /// <summary>Host memory use, %.</summary>
    public const string MemoryPercent = "memory_percent";
    /// <summary>Disk use per mount, %.</summary>
    public const string DiskPercent = "disk_percent";
    /// <summary>1-minute load average.</summary>
    public const string Load1 = "load_1m";
    /// <summary>A health check's response time, ms.</summary>
    public const string ResponseTimeMs = "response_time_ms";
    /// <summary>p95 response time, ms.</summary>
    public const string ResponseTimeP95Ms = "response_time_p95_ms";
    /// <summary>Error rate, %.</summary>
    public const string ErrorRatePercent = "error_rate_percent";
    /// <summary>Uptime, %.</summary>
    public const string UptimePercent = "uptime_percent";
    /// <summary>API success rate, %.</summary>
    public const string ApiSuccessRatePercent = "api_success_rate_percent";
    /// <summary>Open database connections.</summary>
    public const string DbConnections = "db_connections";
    /// <summary>Database connections as % of what the server allows (pool utilization).</summary>
    public const string DbConnectionUsagePercent = "db_connection_usage_percent";
    /// <summary>Database round-trip latency, ms.</summary>
    public const string DbLatencyMs = "db_latency_ms";
    /// <summary>Replica lag, seconds.</summary>
    public const string ReplicaLagSeconds = "replica_lag_seconds";
    /// <summary>Replica lag, bytes of WAL.</summary>
    public const string ReplicaLagBytes = "replica_lag_bytes";
    /// <summary>Database storage use, %.</summary>
    public const string StoragePercent = "storage_percent";
    /// <summary>Redis memory as % of maxmemory.</summary>
    public const string RedisMemoryPercent = "redis_memory_percent";
    /// <summary>Health status as a metric: 0 healthy, 1 degraded, 2 unhealthy.</summary>
    public const string Health = "health";
    /// <summary>Days until the first certificate of a server's chain expires (Get-EndpointCertificate).</summary>
    public const string CertificateDaysRemaining = "certificate_days_remaining";

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cpu"] = CpuPercent,
        ["memory"] = MemoryPercent,
        ["disk"] = DiskPercent,
        ["load"] = Load1,
        ["p95_ms"] = ResponseTimeP95Ms,
        ["response_time"] = ResponseTimeMs,
        ["latency_ms"] = DbLatencyMs,
        ["error_rate"] = ErrorRatePercent,
        ["uptime"] = UptimePercent,
        ["db_connection_usage"] = DbConnectionUsagePercent,
        ["pool_utilization"] = DbConnectionUsagePercent,
        ["replica_lag"] = ReplicaLagSeconds,
        ["storage"] = StoragePercent,
        ["redis_memory"] = RedisMemoryPercent,
    };

    /// <summary>The canonical name for a threshold key (aliases resolved; any other name is kept as is, e.g. a Prometheus series).</summary>
    public static string Canonical(string name) => Aliases.TryGetValue(name, out var c) ? c : name;
}
