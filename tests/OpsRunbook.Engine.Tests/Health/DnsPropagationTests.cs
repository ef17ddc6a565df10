using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.Engine.Tests;

/// <summary>Test-DnsPropagation's engine against two real dnsmasq servers that answer differently, then converge.</summary>
public sealed class DnsPropagationTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("opsrunbook-dns").FullName;
    private readonly List<Process> _servers = [];

    private static string? Dnsmasq() => new[] { "/usr/sbin/dnsmasq", "/usr/bin/dnsmasq" }.FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>A dnsmasq answering from a hosts file (re-read on SIGHUP), nothing else.</summary>
    private (string Resolver, string Hosts, Process Server) Start(string address)
    {
        var port = FreePort();
        var hosts = Path.Combine(_dir, $"hosts-{port}");
        File.WriteAllText(hosts, $"{address} shop.opsrunbook.test\n");
        var psi = new ProcessStartInfo(Dnsmasq()!) { UseShellExecute = false };
        foreach (var a in (string[])["--keep-in-foreground", $"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
            $"--addn-hosts={hosts}", $"--user={Environment.UserName}", $"--pid-file={Path.Combine(_dir, $"pid-{port}")}", "--local=/opsrunbook.test/"])
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        _servers.Add(p);
        return ($"127.0.0.1:{port}", hosts, p);
    }

    public void Dispose()
    {
        foreach (var p in _servers)
        {
            if (!p.HasExited) p.Kill();
            p.Dispose();
        }
        Directory.Delete(_dir, true);
    }

    private static async Task Ready(string resolver)
    {
        for (var i = 0; i < 50; i++)
        {
            var r = await DnsPropagation.CheckAsync("shop.opsrunbook.test", "A", ["0.0.0.0"], [resolver], TimeSpan.FromSeconds(1), Ct);
            if (r.Resolvers[0].Error is null) return;
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Counts_the_resolvers_that_answer_the_new_record_and_waits_until_they_all_do()
    {
        Assert.SkipWhen(Dnsmasq() is null && !TestServers.Required, "dnsmasq is not installed (tests/servers.sh install)");
        var moved = Start("127.0.0.10");
        var stale = Start("127.0.0.20");
        await Ready(moved.Resolver);
        await Ready(stale.Resolver);
        var now = await DnsPropagation.CheckAsync("shop.opsrunbook.test", "A", ["127.0.0.10"], [moved.Resolver, stale.Resolver], TimeSpan.FromSeconds(2), Ct);
        Assert.Equal((1, 2, HealthStatus.Degraded, false), (now.Agreeing, now.Total, now.Status, now.Propagated));
        Assert.Contains($"{stale.Resolver}: NOERROR 127.0.0.20", now.Reason);

        // The stale server catches up while the check waits: dnsmasq re-reads its hosts file on SIGHUP.
        var converge = Task.Run(async () =>
        {
            await Task.Delay(600, Ct);
            File.WriteAllText(stale.Hosts, "127.0.0.10 shop.opsrunbook.test\n");
            Process.Start("kill", ["-HUP", stale.Server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        }, Ct);
        var waited = await DnsPropagation.WaitAsync("shop.opsrunbook.test", "A", ["127.0.0.10"], [moved.Resolver, stale.Resolver], TimeSpan.FromSeconds(2),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200), null, Ct);
        await converge;
        Assert.True(waited.Propagated, waited.Reason);
        Assert.True(waited.Rounds > 1, "the first rounds saw the stale answer");
        Assert.Equal(HealthStatus.Healthy, waited.Status);
    }

    [Fact]
    public async Task A_resolver_that_does_not_answer_is_a_disagreeing_answer_with_its_error()
    {
        var r = await DnsPropagation.CheckAsync("shop.opsrunbook.test", "A", ["127.0.0.10"], [$"127.0.0.1:{FreePort()}"], TimeSpan.FromMilliseconds(500), Ct);
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.NotNull(r.Resolvers[0].Error);
        Assert.Throws<ArgumentException>(() => DnsPropagation.ParseResolver("dns.example"));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("1.1.1.1"), 53), DnsPropagation.ParseResolver("1.1.1.1"));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 5353), DnsPropagation.ParseResolver("[::1]:5353"));
        await Assert.ThrowsAsync<ArgumentException>(() => DnsPropagation.CheckAsync("x", "SOA", ["a"], ["1.1.1.1"], TimeSpan.FromSeconds(1), Ct));
    }
}
