using OpsRunbook.Engine.Cache;
using OpsRunbook.Engine.Clients.Redis;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Redis operations against real redis-servers: the shared one for reads, a private one for flushes and config.</summary>
public class RedisOperationsTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<RedisSession> Session(string url, SecretResolver? resolver = null)
    {
        resolver ??= new SecretResolver(environment: servers.Lookup);
        return await RedisSession.OpenAsync(SecretValue.Parse(url), null, false, null, new OperationContext(resolver, resolver.Redactor) { Environment = "test", Cancellation = Ct });
    }

    private static async Task<long> CommandCalls(RedisSession s, string command)
    {
        var stats = RedisConnection.ParseInfo((await s.RunAsync(Ct, ["INFO", "commandstats"]))[0].Text!);
        return stats.TryGetValue("cmdstat_" + command, out var v) ? long.Parse(v.Split(',')[0].Split('=')[1]) : 0;
    }

    [Fact]
    public async Task Info_is_typed_with_hit_rate_and_memory_severity()
    {
        var s = await Session("env:OPSRUNBOOK_REDIS_URL");
        var key = "opsrunbook:test:" + Guid.NewGuid().ToString("N");
        await s.RunAsync(Ct, ["SET", key, "v"], ["GET", key], ["GET", key + ":missing"], ["DEL", key]);
        var info = await RedisOperations.GetInfoAsync(s, null, Ct);
        Assert.StartsWith("7.", info.Version);
        Assert.Equal("master", info.Role);
        Assert.Equal(64L * 1024 * 1024, info.MaxMemoryBytes);
        Assert.Equal("allkeys-lru", info.EvictionPolicy);
        Assert.True(info.KeyspaceHits >= 1 && info.KeyspaceMisses >= 1);
        Assert.Equal(Math.Round(info.KeyspaceHits * 100.0 / (info.KeyspaceHits + info.KeyspaceMisses), 2), info.HitRatePercent);
        Assert.Equal("Normal", info.MemorySeverity);
        Assert.Equal(1, info.ConnectedReplicas);
        var critical = await RedisOperations.GetInfoAsync(s, ThresholdProfile.Defaults.With("t", [new ThresholdRule("redis_memory", null, 0.0001)]), Ct);
        Assert.Equal("Critical", critical.MemorySeverity);
        var replica = await RedisOperations.GetInfoAsync(await Session("env:OPSRUNBOOK_REDIS_REPLICA_URL"), null, Ct);
        Assert.Equal(("slave", "up"), (replica.Role, replica.MasterLinkStatus));
    }

    [Fact]
    public async Task Flushdb_removes_the_selected_database_only_and_counting_alone_changes_nothing()
    {
        using var redis = new PrivateRedis("pw-" + Guid.NewGuid().ToString("N"));
        var db5 = await Session(redis.Url + "/5");
        var db6 = await Session(redis.Url + "/6");
        await db5.RunAsync(Ct, ["SET", "a", "1"], ["SET", "b", "2"], ["SET", "c", "3"]);
        await db6.RunAsync(Ct, ["SET", "keep", "1"]);
        // What -WhatIf does: count, never flush. The server's own command statistics prove it.
        Assert.Equal(3, await RedisOperations.CountKeysAsync(db5, all: false, Ct));
        Assert.Equal(0, await CommandCalls(db5, "flushdb"));
        var result = await RedisOperations.FlushAsync(db5, all: false, async: false, Ct);
        Assert.Equal(("database 5", "FLUSHDB", 3L, 3L), (result.Scope, result.Command, result.KeysBefore, result.KeysRemoved));
        Assert.Equal(1, await CommandCalls(db5, "flushdb"));
        Assert.Equal(1, await RedisOperations.CountKeysAsync(db6, all: false, Ct));
        var all = await RedisOperations.FlushAsync(db6, all: true, async: true, Ct);
        Assert.Equal(("all databases", "FLUSHALL ASYNC", 1L), (all.Scope, all.Command, all.KeysBefore));
    }

    [Fact]
    public async Task Eviction_policy_is_validated_and_set()
    {
        using var redis = new PrivateRedis("pw-" + Guid.NewGuid().ToString("N"));
        var s = await Session(redis.Url);
        await RedisOperations.SetEvictionPolicyAsync(s, "ALLKEYS-LFU", Ct);
        Assert.Equal("allkeys-lfu", (await RedisOperations.GetInfoAsync(s, null, Ct)).EvictionPolicy);
        var ex = Assert.Throws<ArgumentException>(() => RedisOperations.ValidatePolicy("lru"));
        Assert.Contains("allkeys-lru", ex.Message);
    }

    [Fact]
    public async Task The_slow_log_masks_credentials()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        using var redis = new PrivateRedis(password);
        var s = await Session(redis.Url);
        await s.RunAsync(Ct, ["CONFIG", "SET", "slowlog-log-slower-than", "0"], ["SLOWLOG", "RESET"]);
        await s.RunAsync(Ct, ["SET", "k", "v"], ["ACL", "SETUSER", "app", "on", ">app-secret-1", "~*", "+get"], ["CONFIG", "SET", "masterauth", "primary-secret-2"]);
        var log = await RedisOperations.GetSlowLogAsync(s, 50, Ct);
        Assert.Contains(log, e => e.Command == "SET k v");
        var text = string.Join("\n", log.Select(e => e.Command));
        Assert.DoesNotContain("app-secret-1", text);
        Assert.DoesNotContain("primary-secret-2", text);
        Assert.DoesNotContain(password, text);
        Assert.All(log, e => Assert.True(e.DurationMicroseconds >= 0 && e.Timestamp.Year >= 2024));
    }

    [Theory]
    [InlineData(new[] { "AUTH", "user", "pw" }, "AUTH *** ***")]
    [InlineData(new[] { "HELLO", "3", "AUTH", "user", "pw" }, "HELLO 3 AUTH user ***")]
    [InlineData(new[] { "CONFIG", "SET", "requirepass", "pw", "maxmemory", "1mb" }, "CONFIG SET requirepass *** maxmemory 1mb")]
    [InlineData(new[] { "ACL", "SETUSER", "u", "on", ">pw", "~*" }, "ACL SETUSER u on >*** ~*")]
    [InlineData(new[] { "MIGRATE", "h", "1", "k", "0", "10", "AUTH2", "u", "pw" }, "MIGRATE h 1 k 0 10 AUTH2 u ***")]
    [InlineData(new[] { "GET", "AUTH" }, "GET AUTH")]
    public void Masks_credentials_in_commands(string[] args, string expected) =>
        Assert.Equal(expected, string.Join(" ", RedisOperations.MaskCredentials(args)));

    [Fact]
    public async Task Clients_are_listed_with_their_user_and_database()
    {
        var s = await Session("env:OPSRUNBOOK_REDIS_URL");
        await using var named = await RedisConnection.ConnectAsync(RedisEndpoint.Parse(servers["OPSRUNBOOK_REDIS_URL"]), Ct);
        var name = "opsrunbook-test-" + Guid.NewGuid().ToString("N")[..8];
        await named.ExecuteAsync(Ct, "CLIENT", "SETNAME", name);
        var clients = await RedisOperations.GetClientsAsync(s, Ct);
        var mine = Assert.Single(clients, c => c.Name == name);
        Assert.Equal(("opsrunbook", 0, "client|setname"), (mine.User, mine.Database, mine.LastCommand));
        Assert.Contains(clients, c => c.Flags?.Contains('S') == true); // the replica's link
    }
}
