using System.Collections.Concurrent;
using System.Net;

namespace OpsRunbook.Engine.Clients;

/// <summary>One HttpClient per TLS policy (system trust, private CA, none) for the life of a session: connections are reused across targets.</summary>
internal sealed class HttpClientCache : IDisposable
{
    private readonly ConcurrentDictionary<(bool skip, string? ca), Lazy<HttpClient>> _clients = new();

    public HttpClient Get(bool skipCertificateCheck, string? caPath) =>
        _clients.GetOrAdd((skipCertificateCheck, caPath), key => new Lazy<HttpClient>(() => Create(key.skip, key.ca))).Value;

    private static HttpClient Create(bool skip, string? ca)
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = 5,
            UseCookies = false,
        };
        handler.SslOptions.RemoteCertificateValidationCallback = TlsValidation.Callback(skip, ca);
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("OpsRunbook/" + typeof(HttpClientCache).Assembly.GetName().Version?.ToString(3));
        return client;
    }

    public void Dispose()
    {
        foreach (var c in _clients.Values.Where(c => c.IsValueCreated)) c.Value.Dispose();
    }
}
