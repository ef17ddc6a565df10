using System.Text;
using OpsRunbook.Engine.Clients.Redis;

namespace OpsRunbook.Engine.Tests;

/// <summary>The RESP client against the real redis-server of tests/servers.sh.</summary>
public class RedisConnectionTests(TestServers servers)
{
    private RedisEndpoint Endpoint(bool tls = false, string? user = "opsrunbook", string? password = null, string? ca = null, bool skip = false) => new()
    {
        Host = tls ? "localhost" : "127.0.0.1",
        Port = int.Parse(servers[tls ? "OPSRUNBOOK_REDIS_TLS_PORT" : "OPSRUNBOOK_REDIS_PORT"]),
        User = user,
        Password = password ?? servers["OPSRUNBOOK_REDIS_PASSWORD"],
        Tls = tls,
        CaCertificatePath = ca,
        SkipCertificateCheck = skip,
    };

    [Fact]
    public async Task Authenticates_as_an_acl_user_and_round_trips_every_reply_type()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var c = await RedisConnection.ConnectAsync(Endpoint(), ct);
        var key = "opsrunbook:test:" + Guid.NewGuid().ToString("N");
        var replies = await c.PipelineAsync(ct,
            ["PING"], ["SET", key, "héllo\r\nworld"], ["GET", key], ["INCR", key + ":n"], ["GET", key + ":missing"], ["MGET", key, key + ":missing"], ["DEL", key, key + ":n"]);
        Assert.Equal(new RedisReply(RedisReplyType.SimpleString, "PONG"), replies[0]);
        Assert.Equal("OK", replies[1].Text);
        Assert.Equal("héllo\r\nworld", replies[2].Text);
        Assert.Equal(1, replies[3].Integer);
        Assert.Equal(RedisReplyType.Null, replies[4].Type);
        Assert.Equal(RedisReplyType.Array, replies[5].Type);
        Assert.Equal(["héllo\r\nworld", "(nil)"], replies[5].Items!.Select(i => i.ToString()));
        Assert.Equal(2, replies[6].Integer);
        var whoami = await c.ExecuteAsync(ct, "ACL", "WHOAMI");
        Assert.Equal("opsrunbook", whoami.Text);
    }

    [Fact]
    public async Task Reads_replies_larger_than_its_buffer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var c = await RedisConnection.ConnectAsync(Endpoint(), ct);
        var key = "opsrunbook:test:big:" + Guid.NewGuid().ToString("N");
        var big = new string('x', 100_000) + "end";
        await c.ExecuteAsync(ct, "SET", key, big);
        Assert.Equal(big, (await c.ExecuteAsync(ct, "GET", key)).Text);
        await c.ExecuteAsync(ct, "DEL", key);
    }

    [Fact]
    public async Task A_wrong_password_is_a_server_error_without_the_password()
    {
        var ex = await Assert.ThrowsAsync<RedisServerException>(() => RedisConnection.ConnectAsync(Endpoint(password: "not-the-password-42"), TestContext.Current.CancellationToken));
        Assert.Equal("WRONGPASS", ex.Kind);
        Assert.DoesNotContain("not-the-password-42", ex.Message);
    }

    [Fact]
    public async Task The_default_user_authenticates_with_requirepass()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var c = await RedisConnection.ConnectAsync(Endpoint(user: null, password: servers["OPSRUNBOOK_REDIS_DEFAULT_PASSWORD"]), ct);
        Assert.Equal("default", (await c.ExecuteAsync(ct, "ACL", "WHOAMI")).Text);
    }

    [Fact]
    public async Task Without_auth_the_server_refuses()
    {
        // StackExchange.Redis sends its handshake at connect: the server's NOAUTH comes back there.
        var ct = TestContext.Current.CancellationToken;
        var ep = Endpoint();
        var ex = await Assert.ThrowsAsync<RedisServerException>(() => RedisConnection.ConnectAsync(new RedisEndpoint { Host = ep.Host, Port = ep.Port }, ct));
        Assert.Equal("NOAUTH", ex.Kind);
    }

    [Fact]
    public async Task Speaks_tls_verified_against_a_private_ca()
    {
        var ct = TestContext.Current.CancellationToken;
        await using (var c = await RedisConnection.ConnectAsync(Endpoint(tls: true, ca: servers["OPSRUNBOOK_CA_CERT"]), ct))
        {
            Assert.Equal("PONG", (await c.ExecuteAsync(ct, "PING")).Text);
        }
        await using (var c = await RedisConnection.ConnectAsync(Endpoint(tls: true, skip: true), ct))
        {
            Assert.Equal("PONG", (await c.ExecuteAsync(ct, "PING")).Text);
        }
        await Assert.ThrowsAsync<System.Security.Authentication.AuthenticationException>(() => RedisConnection.ConnectAsync(Endpoint(tls: true), ct));
    }

    [Fact]
    public void Parses_redis_urls()
    {
        var e = RedisEndpoint.Parse("rediss://app:p%40ss@cache.internal:6380/2?ssl_cert_reqs=none");
        Assert.Equal(("cache.internal", 6380, "app", "p@ss", 2, true, true), (e.Host, e.Port, e.User, e.Password, e.Database, e.Tls, e.SkipCertificateCheck));
        var legacy = RedisEndpoint.Parse("redis://:only-password@127.0.0.1");
        Assert.Equal((null, "only-password", 6379), (legacy.User, legacy.Password, legacy.Port));
        Assert.DoesNotContain("p@ss", e.Display);
        Assert.DoesNotContain("p@ss", e.ToString());
        Assert.DoesNotContain("p@ss", $"{e with { Database = 3 }}");
        Assert.Throws<ArgumentException>(() => RedisEndpoint.Parse("http://x"));
        Assert.Throws<ArgumentException>(() => RedisEndpoint.Parse("redis://x/abc"));
    }

    [Fact]
    public void Parses_info()
    {
        var info = RedisConnection.ParseInfo("# Server\r\nredis_version:7.0.15\r\n\r\n# Memory\r\nused_memory:1024\r\nmaxmemory:0\r\n");
        Assert.Equal("7.0.15", info["redis_version"]);
        Assert.Equal("1024", info["used_memory"]);
        Assert.Equal(3, info.Count);
    }
}
