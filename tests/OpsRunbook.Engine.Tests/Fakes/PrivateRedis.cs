using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>A real redis-server of the test's own (free port, temp dir), for operations that would disturb the shared one (FLUSHALL, CONFIG SET).</summary>
public sealed class PrivateRedis : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    public PrivateRedis(string password)
    {
        _dir = Directory.CreateTempSubdirectory("opsrunbook-redis").FullName;
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        Port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var conf = ConfigPath = Path.Combine(_dir, "redis.conf");
        File.WriteAllText(conf, $"port {Port}\nbind 127.0.0.1\nsave \"\"\nappendonly no\ndir {_dir}\nrequirepass {password}\nmaxmemory 32mb\n");
        _process = Process.Start(new ProcessStartInfo("redis-server", conf) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
        Url = $"redis://:{password}@127.0.0.1:{Port}";
    }

    public int Port { get; }
    public string Url { get; }
    /// <summary>The server's config file (CONFIG REWRITE writes here).</summary>
    public string ConfigPath { get; }

    public void Dispose()
    {
        try { _process.Kill(); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        _process.Dispose();
        Directory.Delete(_dir, true);
    }
}
