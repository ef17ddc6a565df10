using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// S3's conditional writes, which s3rver lacks, on Kestrel, path-style: PUT with If-None-Match: * (fails 412
/// PreconditionFailed when the key exists) or If-Match: ETag (412 when it differs), GET (404 NoSuchKey), DELETE with
/// If-Match (412 when it differs). As docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html and
/// conditional-deletes.html describe them; ETags are quoted MD5 hex. Signatures are not checked (s3rver's tests cover
/// them). Every request is logged.
/// </summary>
public sealed class FakeConditionalS3 : IAsyncDisposable
{
    private readonly FakeHttpServer _server;
    private readonly object _gate = new();

    private FakeConditionalS3(FakeHttpServer server) => _server = server;

    public string Endpoint => _server.BaseUrl;
    public ConcurrentDictionary<string, (byte[] Body, string ETag)> Objects { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<(string Method, string Key, int Status)> Log { get; } = new();

    public static async Task<FakeConditionalS3> StartAsync(int port = 0)
    {
        FakeConditionalS3? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeConditionalS3(server);
        return self;
    }

    private async Task Handle(HttpContext ctx)
    {
        var key = Uri.UnescapeDataString((ctx.Request.Path.Value ?? "/").TrimStart('/')); // bucket/key
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        string? ifNoneMatch = ctx.Request.Headers.IfNoneMatch.ToString() is { Length: > 0 } inm ? inm : null;
        string? ifMatch = ctx.Request.Headers.IfMatch.ToString() is { Length: > 0 } im ? im : null;
        int status;
        byte[] reply = [];
        lock (_gate)
        {
            var exists = Objects.TryGetValue(key, out var current);
            switch (ctx.Request.Method)
            {
                case "PUT" when (ifNoneMatch == "*" && exists) || (ifMatch is not null && (!exists || ifMatch != current.ETag)):
                case "DELETE" when ifMatch is not null && (!exists || ifMatch != current.ETag):
                    status = 412;
                    reply = Xml("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
                    break;
                case "PUT":
                    var etag = "\"" + Convert.ToHexString(MD5.HashData(body)).ToLowerInvariant() + "\"";
                    Objects[key] = (body, etag);
                    ctx.Response.Headers.ETag = etag;
                    status = 200;
                    break;
                case "GET" or "HEAD" when exists:
                    ctx.Response.Headers.ETag = current.ETag;
                    ctx.Response.ContentType = "application/json";
                    status = 200;
                    reply = ctx.Request.Method == "GET" ? current.Body : [];
                    break;
                case "GET" or "HEAD":
                    status = 404;
                    reply = Xml("NoSuchKey", "The specified key does not exist.");
                    break;
                case "DELETE":
                    Objects.TryRemove(key, out _);
                    status = 204;
                    break;
                default:
                    status = 405;
                    break;
            }
        }
        Log.Enqueue((ctx.Request.Method, key, status));
        ctx.Response.StatusCode = status;
        if (status is 404 or 412) ctx.Response.ContentType = "application/xml";
        if (reply.Length > 0) await ctx.Response.Body.WriteAsync(reply);
    }

    private static byte[] Xml(string code, string message) =>
        System.Text.Encoding.UTF8.GetBytes($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>fake</RequestId></Error>");

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
