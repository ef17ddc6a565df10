using System.Collections.Concurrent;
using System.Security.Cryptography;
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
    private readonly object _gate = new();
    private readonly Dictionary<string, Secret> _secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string type, int status, int count)> _faults = new(StringComparer.Ordinal);
    private int _throttleNext;

    private readonly string _accessKey;
    private readonly string _secretKey;

    private FakeSecretsManager(FakeHttpServer server, string accessKey, string secretKey)
    {
        _server = server;
        _accessKey = accessKey;
        _secretKey = secretKey;
    }

    /// <summary>A secret: its versions (id → value) and which version each staging label is on.</summary>
    private sealed class Secret(string name)
    {
        public string Name { get; } = name;
        public string Arn { get; } = $"arn:aws:secretsmanager:{Region}:123456789012:secret:{name}-AbCdEf";
        public Dictionary<string, (string Value, double Created)> Versions { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);
        public double? LastRotated { get; set; }
        public int? RotationDays { get; set; }
        public double LastChanged { get; set; }

        public JsonObject Stages(string mapName)
        {
            var map = new JsonObject();
            foreach (var v in Versions.Keys)
            {
                var labels = Labels.Where(l => l.Value == v).Select(l => (JsonNode)l.Key!).ToArray();
                if (labels.Length > 0) map[v] = new JsonArray(labels);
            }
            return new JsonObject { [mapName] = map };
        }
    }

    public string Endpoint => _server.BaseUrl + "/";
    public ConcurrentQueue<(string Operation, string Body, IHeaderDictionary Headers)> Log { get; } = new();

    /// <summary>Pages of ListSecrets start with an empty page (the service may do that).</summary>
    public bool EmptyFirstPage { get; set; } = true;

    public void Add(string name, string value, IReadOnlyDictionary<string, string>? tags = null, double? lastRotated = null, int? rotationDays = 30)
    {
        lock (_gate)
        {
            var s = new Secret(name) { LastRotated = lastRotated, LastChanged = lastRotated ?? 1.7e9, RotationDays = rotationDays };
            var v = Guid.NewGuid().ToString();
            s.Versions[v] = (value, 1.7e9);
            s.Labels["AWSCURRENT"] = v;
            foreach (var (k, val) in tags ?? new Dictionary<string, string>()) s.Tags[k] = val;
            _secrets[name] = s;
        }
    }

    /// <summary>The value a staging label is on (what an application would read).</summary>
    public string? ValueOf(string name, string stage = "AWSCURRENT")
    {
        lock (_gate) return _secrets.TryGetValue(name, out var s) && s.Labels.TryGetValue(stage, out var v) ? s.Versions[v].Value : null;
    }

    /// <summary>Version id → labels, for assertions.</summary>
    public Dictionary<string, string[]> StagesOf(string name)
    {
        lock (_gate) return _secrets[name].Versions.Keys.ToDictionary(v => v, v => _secrets[name].Labels.Where(l => l.Value == v).Select(l => l.Key).ToArray());
    }

    /// <summary>
    /// Awaited before a request is applied (operation, request): holds a request the way a slow network does. The request
    /// is applied when it returns, even if the client gave up meanwhile, as a request already sent is.
    /// </summary>
    public Func<string, JsonObject, Task>? Hold { get; set; }

    public void ThrottleNext(int count) => _throttleNext = count;

    /// <summary>The next <paramref name="count"/> calls of <paramref name="operation"/> fail with the error type (ThrottlingException 400, InternalServiceError 500...).</summary>
    public void Fail(string operation, string type, int status, int count) => _faults[operation] = (type, status, count);

    /// <summary>Starts on 127.0.0.1 (a free port unless one is given), accepting requests signed with the given key pair.</summary>
    public static async Task<FakeSecretsManager> StartAsync(int port = 0, string accessKey = AccessKey, string secretKey = SecretKey)
    {
        FakeSecretsManager? self = null;
        var server = await FakeHttpServer.StartAsync((ctx, _) => self!.Handle(ctx), port: port);
        self = new FakeSecretsManager(server, accessKey, secretKey);
        return self;
    }

    private async Task Handle(HttpContext ctx)
    {
        var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        var target = ctx.Request.Headers["X-Amz-Target"].ToString();
        var operation = target.StartsWith("secretsmanager.", StringComparison.Ordinal) ? target["secretsmanager.".Length..] : "";
        Log.Enqueue((operation, body, ctx.Request.Headers));
        if (ctx.Request.ContentType != "application/x-amz-json-1.1") { await Error(ctx, 400, "SerializationException", "wrong content type"); return; }
        if (!SigV4.Valid(ctx.Request, body, _accessKey, _secretKey, "secretsmanager", Region, ["host", "x-amz-date", "x-amz-target"], out var why)) { await Error(ctx, 403, "InvalidSignatureException", why); return; }
        if (Interlocked.Decrement(ref _throttleNext) >= 0) { await Error(ctx, 400, "ThrottlingException", "Rate exceeded"); return; }
        if (_faults.TryGetValue(operation, out var fault) && fault.count > 0)
        {
            _faults[operation] = fault with { count = fault.count - 1 };
            await Error(ctx, fault.status, fault.type, "injected fault");
            return;
        }
        var request = JsonNode.Parse(body)!.AsObject();
        if (Hold is { } hold) await hold(operation, request);
        JsonObject response;
        try
        {
            lock (_gate) response = Dispatch(operation, request);
        }
        catch (AwsFault f)
        {
            await Error(ctx, f.Status, f.Type, f.Message);
            return;
        }
        ctx.Response.ContentType = "application/x-amz-json-1.1";
        await ctx.Response.WriteAsync(response.ToJsonString());
    }

    private sealed class AwsFault(string type, string message, int status = 400) : Exception(message)
    {
        public string Type { get; } = type;
        public int Status { get; } = status;
    }

    private Secret Find(JsonObject request)
    {
        var id = request["SecretId"]?.GetValue<string>() ?? throw new AwsFault("InvalidParameterException", "SecretId is required");
        return _secrets.Values.FirstOrDefault(s => s.Name == id || s.Arn == id) ?? throw new AwsFault("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");
    }

    /// <summary>Moves a label to a version; moving AWSCURRENT moves AWSPREVIOUS to the version it left.</summary>
    private static void Attach(Secret s, string label, string version)
    {
        if (label == "AWSCURRENT" && s.Labels.TryGetValue("AWSCURRENT", out var old) && old != version) s.Labels["AWSPREVIOUS"] = old;
        s.Labels[label] = version;
    }

    private JsonObject Dispatch(string operation, JsonObject request)
    {
        switch (operation)
        {
            case "DescribeSecret":
            {
                var s = Find(request);
                var r = new JsonObject
                {
                    ["ARN"] = s.Arn, ["Name"] = s.Name, ["RotationEnabled"] = s.RotationDays is not null, ["LastChangedDate"] = s.LastChanged, ["CreatedDate"] = 1.6e9,
                    ["Tags"] = new JsonArray(s.Tags.Select(t => (JsonNode)new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value }).ToArray()),
                    ["VersionIdsToStages"] = s.Stages("x")["x"]!.DeepClone(),
                };
                if (s.LastRotated is { } lr) r["LastRotatedDate"] = lr;
                if (s.RotationDays is { } days) r["RotationRules"] = new JsonObject { ["AutomaticallyAfterDays"] = days };
                return r;
            }
            case "GetSecretValue":
            {
                var s = Find(request);
                var versionId = request["VersionId"]?.GetValue<string>();
                var stage = request["VersionStage"]?.GetValue<string>() ?? (versionId is null ? "AWSCURRENT" : null);
                if (stage is not null && !s.Labels.TryGetValue(stage, out versionId)) throw new AwsFault("ResourceNotFoundException", $"Secrets Manager can't find the specified secret value for staging label: {stage}");
                if (versionId is null || !s.Versions.TryGetValue(versionId, out var v)) throw new AwsFault("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId");
                return new JsonObject
                {
                    ["ARN"] = s.Arn, ["Name"] = s.Name, ["VersionId"] = versionId, ["SecretString"] = v.Value, ["CreatedDate"] = v.Created,
                    ["VersionStages"] = new JsonArray(s.Labels.Where(l => l.Value == versionId).Select(l => (JsonNode)l.Key!).ToArray()),
                };
            }
            case "PutSecretValue":
            {
                var s = Find(request);
                var token = request["ClientRequestToken"]?.GetValue<string>() ?? "";
                if (token.Length is < 32 or > 64) throw new AwsFault("InvalidParameterException", "ClientRequestToken must be 32 to 64 characters");
                var value = request["SecretString"]?.GetValue<string>() ?? throw new AwsFault("InvalidParameterException", "SecretString is required");
                var stages = request["VersionStages"]?.AsArray().Select(x => x!.GetValue<string>()).ToList() ?? ["AWSCURRENT"];
                if (s.Versions.TryGetValue(token, out var existing))
                {
                    if (existing.Value != value) throw new AwsFault("ResourceExistsException", "You can't modify an existing version, you can only create a new version.");
                }
                else
                {
                    s.Versions[token] = (value, 1.8e9);
                    s.LastChanged = 1.8e9;
                }
                foreach (var stage in stages) Attach(s, stage, token);
                return new JsonObject { ["ARN"] = s.Arn, ["Name"] = s.Name, ["VersionId"] = token, ["VersionStages"] = new JsonArray(stages.Select(x => (JsonNode)x!).ToArray()) };
            }
            case "UpdateSecretVersionStage":
            {
                var s = Find(request);
                var stage = request["VersionStage"]!.GetValue<string>();
                var moveTo = request["MoveToVersionId"]?.GetValue<string>();
                var removeFrom = request["RemoveFromVersionId"]?.GetValue<string>();
                s.Labels.TryGetValue(stage, out var currentHolder);
                if (moveTo is not null && !s.Versions.ContainsKey(moveTo)) throw new AwsFault("ResourceNotFoundException", "MoveToVersionId not found");
                if (currentHolder is not null && currentHolder != moveTo && currentHolder != removeFrom)
                {
                    throw new AwsFault("InvalidParameterException", $"The staging label {stage} is currently attached to version {currentHolder}, so you must explicitly reference that version in RemoveFromVersionId.");
                }
                if (removeFrom is not null && currentHolder != removeFrom) throw new AwsFault("InvalidParameterException", $"{stage} is not attached to {removeFrom}");
                if (moveTo is null)
                {
                    if (stage == "AWSCURRENT") throw new AwsFault("InvalidParameterException", "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.");
                    s.Labels.Remove(stage);
                }
                else
                {
                    Attach(s, stage, moveTo);
                    if (stage == "AWSCURRENT") s.LastRotated = 1.8e9;
                }
                return new JsonObject { ["ARN"] = s.Arn, ["Name"] = s.Name };
            }
            case "ListSecrets":
            {
                var max = request["MaxResults"]?.GetValue<int>() ?? 100;
                var next = request["NextToken"]?.GetValue<string>();
                var prefix = request["Filters"]?.AsArray().FirstOrDefault()?["Values"]?.AsArray().FirstOrDefault()?.GetValue<string>();
                var all = _secrets.Values.Where(s => prefix is null || s.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(s => s.Name).ToList();
                if (next is null && EmptyFirstPage) return new JsonObject { ["SecretList"] = new JsonArray(), ["NextToken"] = "0" };
                var start = next is null ? 0 : int.TryParse(next, out var n) ? n : throw new AwsFault("InvalidNextTokenException", "The NextToken value is invalid.");
                var page = all.Skip(start).Take(max).ToList();
                var r = new JsonObject
                {
                    ["SecretList"] = new JsonArray(page.Select(s =>
                    {
                        var o = new JsonObject { ["ARN"] = s.Arn, ["Name"] = s.Name, ["LastChangedDate"] = s.LastChanged, ["SecretVersionsToStages"] = s.Stages("x")["x"]!.DeepClone(),
                            ["Tags"] = new JsonArray(s.Tags.Select(t => (JsonNode)new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value }).ToArray()) };
                        if (s.LastRotated is { } lr) o["LastRotatedDate"] = lr;
                        return (JsonNode)o;
                    }).ToArray()),
                };
                if (start + max < all.Count) r["NextToken"] = (start + max).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return r;
            }
            case "CreateSecret":
            {
                var name = request["Name"]!.GetValue<string>();
                var token = request["ClientRequestToken"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
                if (_secrets.TryGetValue(name, out var existing))
                {
                    if (existing.Versions.ContainsKey(token)) return new JsonObject { ["ARN"] = existing.Arn, ["Name"] = name, ["VersionId"] = token };
                    throw new AwsFault("ResourceExistsException", $"The operation failed because the secret {name} already exists.");
                }
                var s = new Secret(name);
                s.Versions[token] = (request["SecretString"]!.GetValue<string>(), 1.8e9);
                s.Labels["AWSCURRENT"] = token;
                foreach (var t in request["Tags"]?.AsArray() ?? []) s.Tags[t!["Key"]!.GetValue<string>()] = t["Value"]!.GetValue<string>();
                _secrets[name] = s;
                return new JsonObject { ["ARN"] = s.Arn, ["Name"] = name, ["VersionId"] = token };
            }
            case "GetRandomPassword":
            {
                var length = request["PasswordLength"]?.GetValue<int>() ?? 32;
                var exclude = request["ExcludeCharacters"]?.GetValue<string>() ?? "";
                var alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + (request["ExcludePunctuation"]?.GetValue<bool>() == true ? "" : "!#$%&*+-=?^_~");
                alphabet = new string(alphabet.Where(c => !exclude.Contains(c)).ToArray());
                return new JsonObject { ["RandomPassword"] = new string(Enumerable.Range(0, length).Select(_ => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)]).ToArray()) };
            }
            default:
                throw new AwsFault("UnknownOperationException", "unknown operation");
        }
    }

    private static Task Error(HttpContext ctx, int status, string type, string message)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/x-amz-json-1.1";
        return ctx.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = "com.amazonaws.secretsmanager#" + type, ["Message"] = message }));
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
