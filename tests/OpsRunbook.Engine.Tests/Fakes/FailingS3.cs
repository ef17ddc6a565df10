using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>An S3 endpoint that accepts a multipart upload and its first part, then refuses the rest (credentials expired mid-upload).</summary>
public sealed class FailingS3 : IAsyncDisposable
{
    private readonly FakeHttpServer _server;

    private FailingS3(FakeHttpServer server) => _server = server;

    public string Endpoint => _server.BaseUrl;
    public ConcurrentQueue<string> Log { get; } = new();

    public static async Task<FailingS3> StartAsync()
    {
        FailingS3? self = null;
        var server = await FakeHttpServer.StartAsync(async (ctx, _) =>
        {
            var q = ctx.Request.Query;
            var what = ctx.Request.Method + " " + ctx.Request.Path + (q.ContainsKey("uploads") ? " uploads" : "") + (q.ContainsKey("partNumber") ? " part " + q["partNumber"] : "")
                + (q.ContainsKey("uploadId") && !q.ContainsKey("partNumber") ? " uploadId" : "");
            self!.Log.Enqueue(what);
            await ctx.Request.Body.CopyToAsync(Stream.Null);
            ctx.Response.ContentType = "application/xml";
            if (ctx.Request.Method == "POST" && q.ContainsKey("uploads"))
            {
                var parts = ctx.Request.Path.Value!.Trim('/').Split('/', 2);
                await ctx.Response.WriteAsync($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult><Bucket>{parts[0]}</Bucket><Key>{parts[1]}</Key><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>");
                return;
            }
            if (ctx.Request.Method == "PUT" && q["partNumber"] == "1")
            {
                ctx.Response.Headers.ETag = "\"etag-1\"";
                return;
            }
            if (ctx.Request.Method == "DELETE")
            {
                ctx.Response.StatusCode = 204;
                return;
            }
            ctx.Response.StatusCode = 403;
            await ctx.Response.WriteAsync("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>The security token included in the request is expired</Message></Error>");
        });
        self = new FailingS3(server);
        return self;
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
