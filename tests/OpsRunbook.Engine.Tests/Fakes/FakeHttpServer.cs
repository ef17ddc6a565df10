using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>A real Kestrel server on 127.0.0.1:0 whose answers a test scripts, with a request log and a concurrency gauge.</summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _inFlight;
    private int _maxInFlight;
    private int _requests;

    private FakeHttpServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";
    public int MaxConcurrent => Volatile.Read(ref _maxInFlight);
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<FakeHttpServer> StartAsync(Func<HttpContext, int, Task> handler, X509Certificate2? certificate = null, int port = 0,
        X509Certificate2Collection? chain = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port, o =>
            {
                o.Protocols = HttpProtocols.Http1;
                if (certificate is not null && chain is null) o.UseHttps(certificate);
                // A server that presents its intermediates too, as production servers do.
                else if (certificate is not null) o.UseHttps(new Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions { ServerCertificate = certificate, ServerCertificateChain = chain });
            });
            k.Limits.MaxConcurrentConnections = null;
        });
        var app = builder.Build();
        var server = new FakeHttpServer(app);
        app.Run(async ctx =>
        {
            var n = Interlocked.Increment(ref server._requests);
            var now = Interlocked.Increment(ref server._inFlight);
            int seen;
            while (now > (seen = Volatile.Read(ref server._maxInFlight)) && Interlocked.CompareExchange(ref server._maxInFlight, now, seen) != seen) { }
            try
            {
                await handler(ctx, n);
            }
            finally
            {
                Interlocked.Decrement(ref server._inFlight);
            }
        });
        await app.StartAsync();
        var address = app.Urls.First();
        server.BaseUrl = address.Replace("127.0.0.1", certificate is null ? "127.0.0.1" : "localhost", StringComparison.Ordinal).TrimEnd('/');
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
