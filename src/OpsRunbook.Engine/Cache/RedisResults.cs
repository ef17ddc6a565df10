namespace OpsRunbook.Engine.Cache;

/// <summary>INFO as a typed object (runbook 000's `redis-cli INFO memory` and 001's cache hit check).</summary>
public sealed class RedisInfo
{
    /// <summary>The environment, if any.</summary>
    public string? Environment { get; init; }
    /// <summary>The target (redis, or host:port/db).</summary>
    public string Target { get; init; } = "";
    /// <summary>redis_version.</summary>
    public string? Version { get; init; }
    /// <summary>master or slave.</summary>
    public string? Role { get; init; }
    /// <summary>used_memory.</summary>
    public long UsedMemoryBytes { get; init; }
    /// <summary>maxmemory (0: unlimited).</summary>
    public long MaxMemoryBytes { get; init; }
    /// <summary>used / max, % (null without maxmemory).</summary>
    public double? MemoryPercent { get; init; }
    /// <summary>Normal, Warning or Critical against the Redis memory thresholds (runbook 000: 80 % / 90 %).</summary>
    public string MemorySeverity { get; init; } = "Normal";
    /// <summary>maxmemory-policy.</summary>
    public string? EvictionPolicy { get; init; }
    /// <summary>keyspace_hits.</summary>
    public long KeyspaceHits { get; init; }
    /// <summary>keyspace_misses.</summary>
    public long KeyspaceMisses { get; init; }
    /// <summary>hits / (hits + misses), % (null before any lookup).</summary>
    public double? HitRatePercent { get; init; }
    /// <summary>evicted_keys.</summary>
    public long EvictedKeys { get; init; }
    /// <summary>expired_keys.</summary>
    public long ExpiredKeys { get; init; }
    /// <summary>connected_clients.</summary>
    public long ConnectedClients { get; init; }
    /// <summary>blocked_clients.</summary>
    public long BlockedClients { get; init; }
    /// <summary>instantaneous_ops_per_sec.</summary>
    public long OpsPerSecond { get; init; }
    /// <summary>Keys in all databases.</summary>
    public long Keys { get; init; }
    /// <summary>master_link_status on a replica.</summary>
    public string? MasterLinkStatus { get; init; }
    /// <summary>connected_slaves on a primary.</summary>
    public long ConnectedReplicas { get; init; }
    /// <summary>uptime_in_seconds.</summary>
    public long UptimeSeconds { get; init; }
    /// <summary>Every INFO field, for what the typed properties leave out.</summary>
    public IReadOnlyDictionary<string, string> Raw { get; init; } = new Dictionary<string, string>();
}

/// <summary>What Clear-RedisDatabase did.</summary>
public sealed class RedisFlushResult
{
    /// <summary>The environment, if any.</summary>
    public string? Environment { get; init; }
    /// <summary>The target.</summary>
    public string Target { get; init; } = "";
    /// <summary>"database N" or "all databases".</summary>
    public required string Scope { get; init; }
    /// <summary>FLUSHDB or FLUSHALL, with ASYNC when asked.</summary>
    public required string Command { get; init; }
    /// <summary>Keys before.</summary>
    public long KeysBefore { get; init; }
    /// <summary>Keys removed (before minus after; with ASYNC, what was scheduled).</summary>
    public long KeysRemoved { get; init; }
}

/// <summary>One SLOWLOG entry; credentials in its arguments are masked.</summary>
public sealed class RedisSlowLogEntry
{
    /// <summary>The environment, if any.</summary>
    public string? Environment { get; init; }
    /// <summary>The target.</summary>
    public string Target { get; init; } = "";
    /// <summary>Entry id.</summary>
    public long Id { get; init; }
    /// <summary>When it ran.</summary>
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>How long it took, µs.</summary>
    public long DurationMicroseconds { get; init; }
    /// <summary>The command and its arguments (passwords masked).</summary>
    public required string Command { get; init; }
    /// <summary>Client address.</summary>
    public string? Client { get; init; }
    /// <summary>Client name.</summary>
    public string? ClientName { get; init; }
}

/// <summary>One connection from CLIENT LIST.</summary>
public sealed class RedisClientInfo
{
    /// <summary>The environment, if any.</summary>
    public string? Environment { get; init; }
    /// <summary>The target.</summary>
    public string Target { get; init; } = "";
    /// <summary>Client id.</summary>
    public long Id { get; init; }
    /// <summary>Peer address.</summary>
    public string? Address { get; init; }
    /// <summary>CLIENT SETNAME.</summary>
    public string? Name { get; init; }
    /// <summary>ACL user.</summary>
    public string? User { get; init; }
    /// <summary>Selected database.</summary>
    public int Database { get; init; }
    /// <summary>Connection age.</summary>
    public TimeSpan Age { get; init; }
    /// <summary>Idle time.</summary>
    public TimeSpan Idle { get; init; }
    /// <summary>Flags (N normal, S replica, M master, P pubsub, x multi...).</summary>
    public string? Flags { get; init; }
    /// <summary>Last command.</summary>
    public string? LastCommand { get; init; }
    /// <summary>Every field as Redis printed it.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = new Dictionary<string, string>();
}
