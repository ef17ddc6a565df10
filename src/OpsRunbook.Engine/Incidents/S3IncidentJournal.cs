using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using OpsRunbook.Engine.Clients.Aws;

namespace OpsRunbook.Engine.Incidents;

/// <summary>
/// Incidents in S3: one object per event, <c>prefix/INC-…/yyyyMMddTHHmmss.fffZ-random.json</c>. Every event is a new
/// key, so writers in several jobs never overwrite each other without any lock; keys sort by time, and the incident is
/// computed from all of them. Objects are written once and never changed.
/// </summary>
public sealed class S3IncidentJournal : IIncidentJournal, IDisposable
{
    private readonly S3Requests _s3;
    private readonly string _bucket, _prefix;

    private S3IncidentJournal(S3Requests s3, string bucket, string prefix)
    {
        _s3 = s3;
        (_bucket, _prefix) = (bucket, prefix);
    }

    /// <inheritdoc />
    public string Location => $"s3://{_bucket}/{_prefix}";

    /// <summary>A journal at s3://bucket/prefix/ with the environment's AWS settings (from the context).</summary>
    public static async Task<S3IncidentJournal> OpenAsync(string url, OperationContext context)
    {
        var (bucket, prefix) = Health.Checks.S3Check.Parse(url.EndsWith('/') ? url : url + "/");
        var s3 = await S3ClientFactory.CreateRequestsAsync(context.Aws ?? new AwsSettings(), context.Secrets, context.Redactor, context.Cancellation).ConfigureAwait(false);
        return new S3IncidentJournal(s3, bucket, prefix);
    }

    /// <inheritdoc />
    public async Task AppendAsync(IncidentEvent e, CancellationToken ct)
    {
        var id = IncidentJournal.CheckId(e.IncidentId);
        if (e.Type != IncidentEventType.Declared && !await ExistsAsync(id, ct).ConfigureAwait(false))
        {
            throw new IncidentNotFoundException($"no incident {id} in {Location}");
        }
        var put = new PutObjectRequest
        {
            BucketName = _bucket, Key = $"{_prefix}{id}/{e.Id}.json", ContentType = "application/json",
            ContentBody = JsonSerializer.Serialize(e, IncidentJournal.EventJson),
        };
        await _s3.PutAsync(put, ct).ConfigureAwait(false);
    }

    private async Task<bool> ExistsAsync(string id, CancellationToken ct)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = $"{_prefix}{id}/", MaxKeys = 1 };
        var page = await _s3.SendAsync($"a listing of {Location}{id}/", (c, t) => c.ListObjectsV2Async(request, t), ct).ConfigureAwait(false);
        return page.S3Objects is { Count: > 0 };
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<IncidentEvent>> ReadAsync(string incidentId, CancellationToken ct)
    {
        var id = IncidentJournal.CheckId(incidentId);
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = $"{_prefix}{id}/" };
        ListObjectsV2Response page;
        do
        {
            page = await _s3.SendAsync($"a listing of {Location}{id}/", (c, t) => c.ListObjectsV2Async(request, t), ct).ConfigureAwait(false);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key).Where(k => k.EndsWith(".json", StringComparison.Ordinal)));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        if (keys.Count == 0) throw new IncidentNotFoundException($"no incident {id} in {Location}");
        var events = new IncidentEvent[keys.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, keys.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (n, t) =>
        {
            using var response = await _s3.SendAsync($"GET {keys[n]}", (c, tt) => c.GetObjectAsync(_bucket, keys[n], tt), t).ConfigureAwait(false);
            using var reader = new StreamReader(response.ResponseStream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(t).ConfigureAwait(false);
            try
            {
                events[n] = JsonSerializer.Deserialize<IncidentEvent>(text, IncidentJournal.EventJson) ?? throw new JsonException("null");
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"s3://{_bucket}/{keys[n]} is not an incident event ({ex.Message})", ex);
            }
        }).ConfigureAwait(false);
        return events;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken ct)
    {
        var ids = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix, Delimiter = "/" };
        ListObjectsV2Response page;
        do
        {
            page = await _s3.SendAsync($"a listing of {Location}", (c, t) => c.ListObjectsV2Async(request, t), ct).ConfigureAwait(false);
            ids.AddRange((page.CommonPrefixes ?? []).Select(p => p[_prefix.Length..].TrimEnd('/')).Where(p => p.StartsWith("INC-", StringComparison.Ordinal)));
            request.ContinuationToken = page.NextContinuationToken;
        }
        while (page.IsTruncated == true);
        return ids.OrderDescending(StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public void Dispose() => _s3.Dispose();
}
