using System.Globalization;
using OpsRunbook.Engine.Clients.Redis;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Cache;

/// <summary>One Redis server for the operations below: the resolved endpoint, a connection per call.</summary>
public sealed class RedisSession
{
    private RedisSession(RedisEndpoint endpoint, string? environment, string target)
    {
        Endpoint = endpoint;
        Environment = environment;
        Target = target;
    }

    internal RedisEndpoint Endpoint { get; }
    /// <summary>The environment, if any.</summary>
    public string? Environment { get; }
    /// <summary>The target name.</summary>
    public string Target { get; }
    /// <summary>The database number the URL selects.</summary>
    public int Database => Endpoint.Database;

    /// <summary>Resolves the connection (a reference or a redis:// URL); registers the password for redaction.</summary>
    public static async Task<RedisSession> OpenAsync(SecretValue connection, string? caCertificatePath, bool skipCertificateCheck, string? target, OperationContext context)
    {
        var value = await connection.ResolveAsync(context.Secrets, context.Cancellation).ConfigureAwait(false);
        var parsed = RedisEndpoint.Parse(value);
        context.Redactor.Add(parsed.Password);
        var endpoint = parsed with
        {
            CaCertificatePath = caCertificatePath ?? parsed.CaCertificatePath,
            SkipCertificateCheck = parsed.SkipCertificateCheck || skipCertificateCheck,
        };
        return new RedisSession(endpoint, context.Environment, target ?? endpoint.Display);
    }

    internal async Task<IReadOnlyList<RedisReply>> RunAsync(CancellationToken ct, params string[][] commands)
    {
        await using var c = await RedisConnection.ConnectAsync(Endpoint, ct).ConfigureAwait(false);
        return await c.PipelineAsync(ct, commands).ConfigureAwait(false);
    }
}

/// <summary>The runbooks' redis-cli snippets as typed procedures. Mutating ones have a read-only plan step for -WhatIf.</summary>
public static class RedisOperations
{
    /// <summary>The maxmemory-policy values Redis accepts.</summary>
    public static readonly IReadOnlyList<string> EvictionPolicies =
        new string[] { "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl" };

    /// <summary>INFO, typed, with the memory severity of <paramref name="profile"/> (runbook 000 by default).</summary>
    public static async Task<RedisInfo> GetInfoAsync(RedisSession session, ThresholdProfile? profile, CancellationToken ct)
    {
        var reply = (await session.RunAsync(ct, ["INFO", "everything"]).ConfigureAwait(false))[0];
        var info = RedisConnection.ParseInfo(reply.Text ?? "");
        long N(string key) => info.TryGetValue(key, out var v) && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;
        var used = N("used_memory");
        var max = N("maxmemory");
        double? percent = max > 0 ? Math.Round(used * 100.0 / max, 1) : null;
        var hits = N("keyspace_hits");
        var misses = N("keyspace_misses");
        var rule = (profile ?? ThresholdProfile.Defaults).RuleFor(WellKnownMetrics.RedisMemoryPercent) ?? ThresholdProfile.Paintbox.RuleFor(WellKnownMetrics.RedisMemoryPercent)!;
        // db0:keys=1,expires=0,avg_ttl=0
        var keys = info.Where(kv => kv.Key.StartsWith("db", StringComparison.Ordinal) && kv.Key.Length > 2 && char.IsAsciiDigit(kv.Key[2]))
            .Sum(kv => long.TryParse(kv.Value.Split(',')[0].Split('=').Last(), NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k : 0);
        return new RedisInfo
        {
            Environment = session.Environment,
            Target = session.Target,
            Version = info.GetValueOrDefault("redis_version"),
            Role = info.GetValueOrDefault("role"),
            UsedMemoryBytes = used,
            MaxMemoryBytes = max,
            MemoryPercent = percent,
            MemorySeverity = percent is { } p ? rule.Classify(p).ToString() : AlertSeverity.Normal.ToString(),
            EvictionPolicy = info.GetValueOrDefault("maxmemory_policy"),
            KeyspaceHits = hits,
            KeyspaceMisses = misses,
            HitRatePercent = hits + misses == 0 ? null : Math.Round(hits * 100.0 / (hits + misses), 2),
            EvictedKeys = N("evicted_keys"),
            ExpiredKeys = N("expired_keys"),
            ConnectedClients = N("connected_clients"),
            BlockedClients = N("blocked_clients"),
            OpsPerSecond = N("instantaneous_ops_per_sec"),
            Keys = keys,
            MasterLinkStatus = info.GetValueOrDefault("master_link_status"),
            ConnectedReplicas = N("connected_slaves"),
            UptimeSeconds = N("uptime_in_seconds"),
            Raw = info,
        };
    }

    /// <summary>Throws when <paramref name="policy"/> is not one Redis accepts, listing them.</summary>
    public static string ValidatePolicy(string policy) =>
        EvictionPolicies.FirstOrDefault(p => string.Equals(p, policy, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"'{policy}' is not an eviction policy; use one of {string.Join(", ", EvictionPolicies)}");

    /// <summary>CONFIG SET maxmemory-policy (runbook 000: allkeys-lru).</summary>
    public static async Task SetEvictionPolicyAsync(RedisSession session, string policy, CancellationToken ct) =>
        await session.RunAsync(ct, ["CONFIG", "SET", "maxmemory-policy", ValidatePolicy(policy)]).ConfigureAwait(false);

    /// <summary>How many keys a flush would remove (read-only: DBSIZE, or INFO keyspace for all databases).</summary>
    public static async Task<long> CountKeysAsync(RedisSession session, bool all, CancellationToken ct)
    {
        if (!all) return (await session.RunAsync(ct, ["DBSIZE"]).ConfigureAwait(false))[0].Integer;
        var info = RedisConnection.ParseInfo((await session.RunAsync(ct, ["INFO", "keyspace"]).ConfigureAwait(false))[0].Text ?? "");
        return info.Values.Sum(v => long.TryParse(v.Split(',')[0].Split('=').Last(), NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k : 0);
    }

    /// <summary>FLUSHDB (the URL's database) or FLUSHALL, optionally ASYNC; reports keys removed.</summary>
    public static async Task<RedisFlushResult> FlushAsync(RedisSession session, bool all, bool async, CancellationToken ct)
    {
        var before = await CountKeysAsync(session, all, ct).ConfigureAwait(false);
        string[] command = [all ? "FLUSHALL" : "FLUSHDB", .. async ? new[] { "ASYNC" } : []];
        await session.RunAsync(ct, command).ConfigureAwait(false);
        var after = async ? 0 : await CountKeysAsync(session, all, ct).ConfigureAwait(false);
        return new RedisFlushResult
        {
            Environment = session.Environment,
            Target = session.Target,
            Scope = all ? "all databases" : $"database {session.Database}",
            Command = string.Join(" ", command),
            KeysBefore = before,
            KeysRemoved = Math.Max(0, before - after),
        };
    }

    /// <summary>SLOWLOG GET, newest first; arguments that carry credentials are masked.</summary>
    public static async Task<IReadOnlyList<RedisSlowLogEntry>> GetSlowLogAsync(RedisSession session, int count, CancellationToken ct)
    {
        var reply = (await session.RunAsync(ct, ["SLOWLOG", "GET", count.ToString(CultureInfo.InvariantCulture)]).ConfigureAwait(false))[0];
        var list = new List<RedisSlowLogEntry>();
        foreach (var e in reply.Items ?? [])
        {
            var f = e.Items!;
            var args = f[3].Items!.Select(a => a.Text ?? "").ToList();
            list.Add(new RedisSlowLogEntry
            {
                Environment = session.Environment,
                Target = session.Target,
                Id = f[0].Integer,
                Timestamp = DateTimeOffset.FromUnixTimeSeconds(f[1].Integer),
                DurationMicroseconds = f[2].Integer,
                Command = string.Join(" ", MaskCredentials(args)),
                Client = f.Count > 4 ? f[4].Text : null,
                ClientName = f.Count > 5 && f[5].Text is { Length: > 0 } n ? n : null,
            });
        }
        return list;
    }

    /// <summary>Masks passwords in a command line: AUTH, HELLO … AUTH, CONFIG SET requirepass/masterauth, ACL SETUSER &gt;pw, MIGRATE … AUTH/AUTH2.</summary>
    public static IReadOnlyList<string> MaskCredentials(IReadOnlyList<string> args)
    {
        var masked = args.ToArray();
        if (masked.Length == 0) return masked;
        var cmd = masked[0].ToUpperInvariant();
        for (var i = 1; i < masked.Length; i++)
        {
            var previous = masked[i - 1].ToUpperInvariant();
            var sensitive = cmd == "AUTH"
                || (cmd == "HELLO" && i >= 2 && masked[i - 2].Equals("AUTH", StringComparison.OrdinalIgnoreCase))
                || (cmd == "CONFIG" && previous is "REQUIREPASS" or "MASTERAUTH")
                || (cmd == "ACL" && (masked[i].StartsWith('>') || masked[i].StartsWith('#')))
                || (cmd == "MIGRATE" && (previous == "AUTH" || (i >= 2 && masked[i - 2].Equals("AUTH2", StringComparison.OrdinalIgnoreCase))));
            if (sensitive) masked[i] = masked[i].StartsWith('>') ? ">***" : "***";
        }
        return masked;
    }

    /// <summary>CLIENT LIST, parsed.</summary>
    public static async Task<IReadOnlyList<RedisClientInfo>> GetClientsAsync(RedisSession session, CancellationToken ct)
    {
        var text = (await session.RunAsync(ct, ["CLIENT", "LIST"]).ConfigureAwait(false))[0].Text ?? "";
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var fields = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            long L(string k) => fields.TryGetValue(k, out var v) && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : 0;
            return new RedisClientInfo
            {
                Environment = session.Environment,
                Target = session.Target,
                Id = L("id"),
                Address = fields.GetValueOrDefault("addr"),
                Name = fields.GetValueOrDefault("name") is { Length: > 0 } name ? name : null,
                User = fields.GetValueOrDefault("user"),
                Database = (int)L("db"),
                Age = TimeSpan.FromSeconds(L("age")),
                Idle = TimeSpan.FromSeconds(L("idle")),
                Flags = fields.GetValueOrDefault("flags"),
                LastCommand = fields.GetValueOrDefault("cmd"),
                Fields = fields,
            };
        }).ToList();
    }
}
