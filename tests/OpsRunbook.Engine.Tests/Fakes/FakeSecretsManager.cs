using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace OpsRunbook.Engine.Tests.Fakes;

/// <summary>
/// AWS Secrets Manager's JSON protocol on Kestrel: checks Content-Type, X-Amz-Target and the SigV4 signature
/// (recomputed here from the RFC-style algorithm, independently of the SDK), answers DescribeSecret and
/// GetSecretValue from memory with the documented error shapes, and logs every request.
/// </summary>
public sealed class FakeSecretsManager : IAsyncDisposable
{
    public const string AccessKey = "AKIDOPSRUNBOOKTEST";
    public const string SecretKey = "fake/secret+key/for/signing/0123456789";
    public const string Region = "us-east-1";

    private readonly FakeHttpServer _server;
    private readonly ConcurrentDictionary<string, (string Arn, string Value)> _secrets = new();
    private int _throttleNext;

    private FakeSecretsManager(FakeHttpServer server) => _server = server;

    public string Endpoint => _server.BaseUrl + "/";
    public ConcurrentQueue<(string Operation, string Body, IHeaderDictionary Headers)> Log { get; } = new();

    public void Add(string name, string value) => _secrets[name] = ($"arn:aws:secretsmanager:{Region}:123456789012:secret:{name}-AbCdEf", value);

    public void ThrottleNext(int count) => _throttleNext = count;

    public static async Task<FakeSecretsManager> StartAsync()
    {
        FakeSecretsManager? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx));
        self = new FakeSecretsManager(server);
        return self;
    }

    private async Task Handle(HttpContext ctx)
    {
        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        var target = ctx.Request.Headers["X-Amz-Target"].ToString();
        var operation = target.StartsWith("secretsmanager.", StringComparison.Ordinal) ? target["secretsmanager.".Length..] : "";
        Log.Enqueue((operation, body, ctx.Request.Headers));
        if (ctx.Request.ContentType != "application/x-amz-json-1.1") { await Error(ctx, 400, "SerializationException", "wrong content type"); return; }
        if (!SignatureValid(ctx.Request, body, out var why)) { await Error(ctx, 403, "InvalidSignatureException", why); return; }
        if (Interlocked.Decrement(ref _throttleNext) >= 0) { await Error(ctx, 400, "ThrottlingException", "Rate exceeded"); return; }
        var request = JsonNode.Parse(body)!.AsObject();
        var id = request["SecretId"]?.GetValue<string>() ?? "";
        var secret = _secrets.FirstOrDefault(s => s.Key == id || s.Value.Arn == id);
        if (secret.Key is null) { await Error(ctx, 400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."); return; }
        JsonObject response;
        switch (operation)
        {
            case "DescribeSecret":
                response = new JsonObject
                {
                    ["ARN"] = secret.Value.Arn, ["Name"] = secret.Key, ["RotationEnabled"] = true,
                    ["RotationRules"] = new JsonObject { ["AutomaticallyAfterDays"] = 30 },
                    ["LastRotatedDate"] = 1.7e9, ["LastChangedDate"] = 1.7e9, ["CreatedDate"] = 1.6e9,
                    ["Tags"] = new JsonArray(new JsonObject { ["Key"] = "rotation", ["Value"] = "30d" }),
                    ["VersionIdsToStages"] = new JsonObject { ["v1"] = new JsonArray("AWSCURRENT") },
                };
                break;
            case "GetSecretValue":
                response = new JsonObject { ["ARN"] = secret.Value.Arn, ["Name"] = secret.Key, ["VersionId"] = "v1", ["SecretString"] = secret.Value.Value, ["VersionStages"] = new JsonArray("AWSCURRENT"), ["CreatedDate"] = 1.7e9 };
                break;
            default:
                await Error(ctx, 400, "UnknownOperationException", "unknown operation"); return;
        }
        ctx.Response.ContentType = "application/x-amz-json-1.1";
        await ctx.Response.WriteAsync(response.ToJsonString());
    }

    private static Task Error(HttpContext ctx, int status, string type, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/x-amz-json-1.1";
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = "com.amazonaws.secretsmanager#" + type, ["Message"] = message }));
    }

    /// <summary>Recomputes the SigV4 signature of the request with the known secret key.</summary>
    private static bool SignatureValid(HttpRequest r, string body, out string why)
    {
        why = "";
        var auth = r.Headers.Authorization.ToString();
        const string prefix = "AWS4-HMAC-SHA256 ";
        if (!auth.StartsWith(prefix, StringComparison.Ordinal)) { why = "no SigV4 Authorization header"; return false; }
        var parts = auth[prefix.Length..].Split(',', StringSplitOptions.TrimEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var scope = parts["Credential"].Split('/');
        if (scope[0] != AccessKey || scope[2] != Region || scope[3] != "secretsmanager" || scope[4] != "aws4_request") { why = "bad credential scope " + parts["Credential"]; return false; }
        var signed = parts["SignedHeaders"].Split(';');
        if (!signed.Contains("host") || !signed.Contains("x-amz-date") || !signed.Contains("x-amz-target")) { why = "host, x-amz-date and x-amz-target must be signed"; return false; }
        string Header(string name) => name == "host" ? r.Host.Value! : name == "content-type" ? r.ContentType! : r.Headers[name].ToString();
        var canonical = $"{r.Method}\n{r.Path.Value}\n\n{string.Concat(signed.Select(h => $"{h}:{Header(h).Trim()}\n"))}\n{parts["SignedHeaders"]}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(body)))}";
        var amzDate = r.Headers["X-Amz-Date"].ToString();
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope[1]}/{scope[2]}/{scope[3]}/{scope[4]}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("AWS4" + SecretKey), scope[1]), scope[2]), scope[3]), "aws4_request");
        var expected = Hex(Hmac(key, toSign));
        if (expected != parts["Signature"]) { why = "The request signature we calculated does not match the signature you provided."; return false; }
        return true;
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
    private static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
