using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime.Internal.Auth;
using OpsRunbook.Engine.Secrets;
using Polly;

namespace OpsRunbook.Engine.Clients.Aws;

/// <summary>A secret's metadata, as DescribeSecret returns it (never its value).</summary>
public sealed record SecretDescription(
    string Arn,
    string Name,
    bool RotationEnabled,
    int? RotationDays,
    DateTimeOffset? LastRotatedDate,
    DateTimeOffset? LastChangedDate,
    DateTimeOffset? NextRotationDate,
    DateTimeOffset? CreatedDate,
    IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, IReadOnlyList<string>> VersionIdsToStages);

/// <summary>
/// AWS Secrets Manager over its JSON protocol (awsJson1_1), signed with AWSSDK.Core's SigV4 primitives and credential
/// chain. Written here because AWSSDK.SecretsManager is not in our package source. Throttling and 5xx are retried with
/// backoff; errors are <see cref="AwsServiceException"/>s with the service's own error type. Secret values never reach
/// a message, a log or an exception.
/// </summary>
public sealed class SecretsManagerClient : IDisposable
{
    private const string Service = "secretsmanager";
    private static readonly HashSet<string> Retryable = new(StringComparer.Ordinal) { "ThrottlingException", "InternalServiceError", "ServiceUnavailable", "RequestLimitExceeded" };

    private readonly AwsSettings _settings;
    private readonly ISecretResolver _secrets;
    private readonly SecretRedactor _redactor;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline _retry;

    /// <summary>Creates a client; nothing is resolved or connected until the first call.</summary>
    public SecretsManagerClient(AwsSettings settings, ISecretResolver secrets, SecretRedactor redactor, TimeSpan? timeout = null)
    {
        _settings = settings;
        _secrets = secrets;
        _redactor = redactor;
        _http = new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        _retry = Retries.OnExceptions(3, e => e is HttpRequestException || (e is AwsServiceException a && (Retryable.Contains(a.ErrorType) || a.StatusCode >= 500)));
    }

    /// <summary>The endpoint requests go to.</summary>
    public Uri Endpoint => new(_settings.SecretsManagerEndpoint is { } e ? EnvTemplate.Expand(e) : $"https://secretsmanager.{AwsIdentity.Region(_settings)}.amazonaws.com");

    /// <summary>DescribeSecret: metadata only, no value fetched.</summary>
    public async Task<SecretDescription> DescribeSecretAsync(string secretId, CancellationToken cancellationToken)
    {
        using var doc = await SendAsync("DescribeSecret", new JsonObject { ["SecretId"] = secretId }, cancellationToken).ConfigureAwait(false);
        return Describe(doc.RootElement, "VersionIdsToStages");
    }

    private static SecretDescription Describe(JsonElement r, string stagesName)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (r.TryGetProperty("Tags", out var t) && t.ValueKind == JsonValueKind.Array)
        {
            foreach (var tag in t.EnumerateArray()) tags[tag.GetProperty("Key").GetString()!] = tag.GetProperty("Value").GetString() ?? "";
        }
        var stages = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (r.TryGetProperty(stagesName, out var v) && v.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in v.EnumerateObject()) stages[p.Name] = p.Value.EnumerateArray().Select(x => x.GetString()!).ToList();
        }
        return new SecretDescription(
            Str(r, "ARN") ?? "", Str(r, "Name") ?? "",
            r.TryGetProperty("RotationEnabled", out var re) && re.ValueKind == JsonValueKind.True,
            r.TryGetProperty("RotationRules", out var rr) && rr.TryGetProperty("AutomaticallyAfterDays", out var days) && days.TryGetInt32(out var d) ? d : null,
            Date(r, "LastRotatedDate"), Date(r, "LastChangedDate"), Date(r, "NextRotationDate"), Date(r, "CreatedDate"), tags, stages);
    }

    /// <summary>One page of ListSecrets (metadata only). A page may be empty while NextToken is set.</summary>
    public async Task<(IReadOnlyList<SecretDescription> secrets, string? nextToken)> ListSecretsPageAsync(string? nextToken, string? nameFilter, int maxResults, CancellationToken ct)
    {
        var body = new JsonObject { ["MaxResults"] = maxResults };
        if (nextToken is not null) body["NextToken"] = nextToken;
        if (nameFilter is not null) body["Filters"] = new JsonArray(new JsonObject { ["Key"] = "name", ["Values"] = new JsonArray(nameFilter) });
        using var doc = await SendAsync("ListSecrets", body, ct).ConfigureAwait(false);
        var list = new List<SecretDescription>();
        if (doc.RootElement.TryGetProperty("SecretList", out var items))
        {
            foreach (var e in items.EnumerateArray()) list.Add(Describe(e, "SecretVersionsToStages"));
        }
        return (list, Str(doc.RootElement, "NextToken"));
    }

    /// <summary>Every secret (all pages), optionally those whose names start with <paramref name="nameFilter"/>.</summary>
    public async Task<IReadOnlyList<SecretDescription>> ListSecretsAsync(string? nameFilter, CancellationToken ct)
    {
        var all = new List<SecretDescription>();
        string? token = null;
        do
        {
            (var page, token) = await ListSecretsPageAsync(token, nameFilter, 100, ct).ConfigureAwait(false);
            all.AddRange(page);
        }
        while (token is not null);
        return all;
    }

    /// <summary>PutSecretValue: a new version with <paramref name="stages"/>; idempotent for the same token and value.</summary>
    internal async Task<string> PutSecretValueAsync(string secretId, string clientRequestToken, string value, IReadOnlyList<string> stages, CancellationToken ct)
    {
        _redactor.Add(value);
        var body = new JsonObject
        {
            ["SecretId"] = secretId,
            ["ClientRequestToken"] = clientRequestToken,
            ["SecretString"] = value,
            ["VersionStages"] = new JsonArray(stages.Select(x => (JsonNode)x!).ToArray()),
        };
        using var doc = await SendAsync("PutSecretValue", body, ct).ConfigureAwait(false);
        return Str(doc.RootElement, "VersionId") ?? clientRequestToken;
    }

    /// <summary>UpdateSecretVersionStage: moves <paramref name="stage"/> to a version and/or removes it from one.</summary>
    public async Task UpdateSecretVersionStageAsync(string secretId, string stage, string? moveToVersionId, string? removeFromVersionId, CancellationToken ct)
    {
        var body = new JsonObject { ["SecretId"] = secretId, ["VersionStage"] = stage };
        if (moveToVersionId is not null) body["MoveToVersionId"] = moveToVersionId;
        if (removeFromVersionId is not null) body["RemoveFromVersionId"] = removeFromVersionId;
        using var _ = await SendAsync("UpdateSecretVersionStage", body, ct).ConfigureAwait(false);
    }

    /// <summary>CreateSecret with an initial value (idempotent for the same token).</summary>
    internal async Task<string> CreateSecretAsync(string name, string clientRequestToken, string value, string? description, IReadOnlyDictionary<string, string>? tags, CancellationToken ct)
    {
        _redactor.Add(value);
        var body = new JsonObject { ["Name"] = name, ["ClientRequestToken"] = clientRequestToken, ["SecretString"] = value };
        if (description is not null) body["Description"] = description;
        if (tags is { Count: > 0 }) body["Tags"] = new JsonArray(tags.Select(t => (JsonNode)new JsonObject { ["Key"] = t.Key, ["Value"] = t.Value }).ToArray());
        using var doc = await SendAsync("CreateSecret", body, ct).ConfigureAwait(false);
        return Str(doc.RootElement, "ARN") ?? name;
    }

    /// <summary>GetRandomPassword from the service.</summary>
    internal async Task<string> GetRandomPasswordAsync(int length, string? excludeCharacters, bool excludePunctuation, CancellationToken ct)
    {
        var body = new JsonObject { ["PasswordLength"] = length, ["ExcludePunctuation"] = excludePunctuation };
        if (excludeCharacters is not null) body["ExcludeCharacters"] = excludeCharacters;
        using var doc = await SendAsync("GetRandomPassword", body, ct).ConfigureAwait(false);
        var password = Str(doc.RootElement, "RandomPassword") ?? throw new FormatException("GetRandomPassword returned no RandomPassword");
        _redactor.Add(password);
        return password;
    }

    /// <summary>GetSecretValue of a version id (for resuming a rotation).</summary>
    internal async Task<string> GetSecretVersionStringAsync(string secretId, string versionId, CancellationToken ct)
    {
        using var doc = await SendAsync("GetSecretValue", new JsonObject { ["SecretId"] = secretId, ["VersionId"] = versionId }, ct).ConfigureAwait(false);
        var value = Str(doc.RootElement, "SecretString") ?? throw new SecretResolutionException($"secret {secretId} version {versionId} holds no string");
        _redactor.Add(value);
        return value;
    }

    /// <summary>GetSecretValue (AWSCURRENT unless a stage is named): the SecretString. Internal: values stay in the Engine.</summary>
    internal async Task<string> GetSecretStringAsync(string secretId, CancellationToken cancellationToken, string? versionStage = null)
    {
        var body = new JsonObject { ["SecretId"] = secretId };
        if (versionStage is not null) body["VersionStage"] = versionStage;
        using var doc = await SendAsync("GetSecretValue", body, cancellationToken).ConfigureAwait(false);
        if (!doc.RootElement.TryGetProperty("SecretString", out var s) || s.ValueKind != JsonValueKind.String)
        {
            throw new SecretResolutionException($"secret:aws:{secretId} holds binary data, not a string");
        }
        var value = s.GetString()!;
        _redactor.Add(value);
        return value;
    }

    /// <summary>Sends one operation and returns the response document (the caller disposes it).</summary>
    internal async Task<JsonDocument> SendAsync(string operation, JsonObject body, CancellationToken cancellationToken)
    {
        var credentials = await AwsIdentity.ImmutableAsync(_settings, _secrets, _redactor, cancellationToken).ConfigureAwait(false);
        var region = AwsIdentity.Region(_settings);
        var endpoint = Endpoint;
        var payload = Encoding.UTF8.GetBytes(body.ToJsonString());
        return await _retry.ExecuteAsync(async ct =>
        {
            using var request = Sign(operation, endpoint, region, payload, credentials, DateTime.UtcNow);
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var (type, message) = ParseError(text, response);
                throw new AwsServiceException(Service, type, _redactor.Scrub(message), (int)response.StatusCode);
            }
            return JsonDocument.Parse(text);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Builds a SigV4-signed request (header signing; the SDK's own canonical-request rules).</summary>
    internal static HttpRequestMessage Sign(string operation, Uri endpoint, string region, byte[] payload, Amazon.Runtime.ImmutableCredentials credentials, DateTime now)
    {
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var host = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}";
        var target = $"{Service}.{operation}";
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-amz-json-1.1",
            ["host"] = host,
            ["x-amz-date"] = amzDate,
            ["x-amz-target"] = target,
        };
        if (credentials.UseToken) headers["x-amz-security-token"] = credentials.Token;
        var signedHeaders = string.Join(";", headers.Keys);
        var canonicalHeaders = string.Concat(headers.Select(h => $"{h.Key}:{h.Value.Trim()}\n"));
        var canonicalRequest = $"POST\n{(endpoint.AbsolutePath.Length == 0 ? "/" : endpoint.AbsolutePath)}\n\n{canonicalHeaders}\n{signedHeaders}\n{Convert.ToHexString(SHA256.HashData(payload)).ToLowerInvariant()}";
        var signature = AWS4Signer.ComputeSignature(credentials, region, now, Service, signedHeaders, canonicalRequest);

        var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-amz-json-1.1");
        request.Headers.Host = host;
        request.Headers.Add("X-Amz-Date", amzDate);
        request.Headers.Add("X-Amz-Target", target);
        if (credentials.UseToken) request.Headers.Add("X-Amz-Security-Token", credentials.Token);
        request.Headers.TryAddWithoutValidation("Authorization", signature.ForAuthorizationHeader);
        return request;
    }

    /// <summary>The error type (sanitized as the protocol says: cut at ':', keep what follows '#') and message.</summary>
    internal static (string type, string message) ParseError(string body, HttpResponseMessage response)
    {
        string? type = null, message = null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            type = Str(doc.RootElement, "__type");
            message = Str(doc.RootElement, "Message") ?? Str(doc.RootElement, "message");
        }
        catch (JsonException)
        {
            message = body.Length > 200 ? body[..200] : body;
        }
        if (type is null && response.Headers.TryGetValues("X-Amzn-Errortype", out var values)) type = values.FirstOrDefault();
        type ??= $"HTTP{(int)response.StatusCode}";
        var colon = type.IndexOf(':');
        if (colon >= 0) type = type[..colon];
        var hash = type.LastIndexOf('#');
        if (hash >= 0) type = type[(hash + 1)..];
        return (type, message ?? response.ReasonPhrase ?? "");
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static DateTimeOffset? Date(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? DateTimeOffset.FromUnixTimeMilliseconds((long)(v.GetDouble() * 1000)) : null;

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
