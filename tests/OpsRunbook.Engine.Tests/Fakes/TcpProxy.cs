using System.Net;
using System.Net.Sockets;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// A TCP forwarder on 127.0.0.1 in front of a real server, that can be taken down (connections refused, open ones cut)
/// and brought back on the same port: "the database is down" without stopping the shared server; or pointed at another
/// server, as an address that follows the primary does.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private volatile int _targetPort;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource _cts = new();

    public TcpProxy(int targetPort, int port = 0)
    {
        _targetPort = targetPort;
        if (port == 0)
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
        }
        Port = port;
        Up();
    }

    public int Port { get; }

    public void Up()
    {
        _cts = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptLoop(_listener, _cts.Token);
    }

    /// <summary>Sends new connections to another port and cuts the open ones: a service address that follows the primary (Fly's port 5432 after a failover).</summary>
    public void Retarget(int port)
    {
        _targetPort = port;
        lock (_open)
        {
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
    }

    public void Down()
    {
        _cts.Cancel();
        _listener?.Stop();
        lock (_open)
        {
            foreach (var c in _open) c.Dispose();
            _open.Clear();
        }
    }

    private async Task AcceptLoop(TcpListener listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(ct);
            }
            catch (Exception)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using var outbound = new TcpClient();
                lock (_open) _open.AddRange([inbound, outbound]);
                try
                {
                    await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, ct);
                    using var a = inbound.GetStream();
                    using var b = outbound.GetStream();
                    await Task.WhenAny(a.CopyToAsync(b, ct), b.CopyToAsync(a, ct));
                }
                catch (Exception)
                {
                    // cut: the client sees the connection drop
                }
                finally
                {
                    inbound.Dispose();
                }
            }, CancellationToken.None);
        }
    }

    public ValueTask DisposeAsync()
    {
        Down();
        return ValueTask.CompletedTask;
    }
}
