using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.S3.Model;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Deploy;

/// <summary>One change of an environment's maintenance mode, as recorded.</summary>
public sealed record MaintenanceEvent
{
    /// <summary>Sorts by time: yyyyMMddTHHmmss.fffZ-random.</summary>
    public required string Id { get; init; }
    /// <summary>Started or Ended.</summary>
    public required string Type { get; init; }
    /// <summary>The system (runbook.json's "system").</summary>
    public required string System { get; init; }
    /// <summary>The environment.</summary>
    public required string Environment { get; init; }
    /// <summary>When (UTC).</summary>
    public required DateTimeOffset Time { get; init; }
    /// <summary>When a started window ends by itself (alerts are silenced until then at most); null: until ended.</summary>
    public DateTimeOffset? Until { get; init; }
    /// <summary>Why.</summary>
    public string? Reason { get; init; }
    /// <summary>Who (the OS user).</summary>
    public string? Actor { get; init; }
    /// <summary>The platform variable that was set (MAINTENANCE_MODE), or null when the platform was not touched.</summary>
    public string? Variable { get; init; }
}

/// <summary>
/// An environment's maintenance window: when it started, why, until when, whether it is still on. While a window is
/// active, Send-RunbookAlert does not page for the environment (what is broken during maintenance is expected).
/// </summary>
public sealed class MaintenanceWindow : IReportable
{
    /// <summary>The system.</summary>
    public required string System { get; init; }
    /// <summary>The environment.</summary>
    public required string Environment { get; init; }
    /// <summary>When it started.</summary>
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>When it ends by itself, if it was given a duration.</summary>
    public DateTimeOffset? Until { get; init; }
    /// <summary>When it was ended (Disable-MaintenanceMode).</summary>
    public DateTimeOffset? EndedAt { get; init; }
    /// <summary>Why.</summary>
    public string? Reason { get; init; }
    /// <summary>Who started it.</summary>
    public string? StartedBy { get; init; }
    /// <summary>The platform variable set for it, if any.</summary>
    public string? Variable { get; init; }
    /// <summary>Where the window is recorded.</summary>
    public string? Location { get; init; }
    /// <summary>The platform change (the variable pushed and the redeploy), when there was one.</summary>
    public DeploymentActionResult? Deployment { get; init; }

    /// <summary>On now: not ended, and not past its end time.</summary>
    public bool Active => IsActiveAt(DateTimeOffset.UtcNow);

    /// <summary>Whether the window silences alerts at <paramref name="time"/>.</summary>
    public bool IsActiveAt(DateTimeOffset time) => time >= StartedAt && (EndedAt is null || time < EndedAt) && (Until is null || time < Until);

    /// <summary>How long it lasted (or has lasted so far).</summary>
    public TimeSpan Duration => (EndedAt ?? (Until is { } u && u < DateTimeOffset.UtcNow ? u : DateTimeOffset.UtcNow)) - StartedAt;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Environment}: maintenance {(Active ? "on" : "off")} since {StartedAt:u}{(Until is { } u ? $" until {u:u}" : "")}{(Reason is null ? "" : $" ({Reason})")}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var message = $"{(Active ? "on" : "ended")}: {StartedAt:u} to {(EndedAt ?? Until)?.ToString("u", CultureInfo.InvariantCulture) ?? "open"}, {Math.Round(Duration.TotalMinutes)} min{(Reason is null ? "" : $"; {Reason}")}";
        yield return new ReportRow("Maintenance", Environment, Active ? ReportOutcome.Warn : ReportOutcome.Info, Active ? "InMaintenance" : "Ended", Environment, message,
            new KeyValuePair<string, string>[] { new("StartedAt", StartedAt.ToString("u", CultureInfo.InvariantCulture)), new("Variable", Variable ?? "-") }, EndedAt ?? StartedAt, Duration.TotalMilliseconds);
    }
}

/// <summary>
/// Where maintenance windows are recorded: beside the environment's incidents (a folder, or s3://), under
/// maintenance/SYSTEM/ENVIRONMENT/, one object per change, never rewritten — so jobs on several machines record and
/// read windows without a lock, and the window is the last change.
/// </summary>
public sealed class MaintenanceLog : IDisposable
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false };
    private readonly string? _directory;
    private readonly S3Requests? _s3;
    private readonly string _bucket = "", _prefix = "";

    private MaintenanceLog(string directory) => (_directory, Location) = (Path.GetFullPath(directory), Path.GetFullPath(directory));

    private MaintenanceLog(S3Requests s3, string bucket, string prefix) => (_s3, _bucket, _prefix, Location) = (s3, bucket, prefix, $"s3://{bucket}/{prefix}");

    /// <summary>The folder or s3:// location.</summary>
    public string Location { get; }

    /// <summary>The log at <paramref name="location"/> (a folder, or s3://bucket/prefix/ with the context's AWS settings).</summary>
    public static async Task<MaintenanceLog> OpenAsync(string location, OperationContext context)
    {
        if (!location.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)) return new MaintenanceLog(location);
        var (bucket, prefix) = Health.Checks.S3Check.Parse(location.EndsWith('/') ? location : location + "/");
        var s3 = await S3ClientFactory.CreateRequestsAsync(context.Aws ?? new AwsSettings(), context.Secrets, context.Redactor, context.Cancellation).ConfigureAwait(false);
        return new MaintenanceLog(s3, bucket, prefix);
    }

    private static string Folder(string system, string environment) => $"{Safe(system)}/{Safe(environment)}/";

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));

    /// <summary>Records a change.</summary>
    public async Task AppendAsync(MaintenanceEvent e, CancellationToken ct)
    {
        var body = JsonSerializer.Serialize(e, Json);
        var key = $"{Folder(e.System, e.Environment)}{e.Id}.json";
        if (_s3 is not null)
        {
            await _s3.PutAsync(new PutObjectRequest { BucketName = _bucket, Key = _prefix + key, ContentType = "application/json", ContentBody = body }, ct).ConfigureAwait(false);
            return;
        }
        var path = Path.Combine(_directory!, key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, body, ct).ConfigureAwait(false);
    }

    /// <summary>The changes of one environment, oldest first.</summary>
    public async Task<IReadOnlyList<MaintenanceEvent>> ReadAsync(string system, string environment, CancellationToken ct)
    {
        var texts = new List<string>();
        var folder = Folder(system, environment);
        if (_s3 is not null)
        {
            var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix + folder };
            var keys = new List<string>();
            ListObjectsV2Response page;
            do
            {
                page = await _s3.SendAsync($"a listing of {Location}{folder}", (c, t) => c.ListObjectsV2Async(request, t), ct).ConfigureAwait(false);
                keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
                request.ContinuationToken = page.NextContinuationToken;
            }
            while (page.IsTruncated == true);
            foreach (var key in keys.Order(StringComparer.Ordinal))
            {
                using var response = await _s3.SendAsync($"GET {key}", (c, t) => c.GetObjectAsync(_bucket, key, t), ct).ConfigureAwait(false);
                using var reader = new StreamReader(response.ResponseStream);
                texts.Add(await reader.ReadToEndAsync(ct).ConfigureAwait(false));
            }
        }
        else
        {
            var dir = Path.Combine(_directory!, folder);
            if (Directory.Exists(dir))
            {
                foreach (var file in Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal)) texts.Add(await File.ReadAllTextAsync(file, ct).ConfigureAwait(false));
            }
        }
        return texts.Select(t => JsonSerializer.Deserialize<MaintenanceEvent>(t, Json)!).OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>The environment's last window (null when it never had one).</summary>
    public async Task<MaintenanceWindow?> LastWindowAsync(string system, string environment, CancellationToken ct) => Window(await ReadAsync(system, environment, ct).ConfigureAwait(false), Location);

    /// <summary>The environment's last window in the log at <paramref name="location"/> (null when it never had one).</summary>
    public static async Task<MaintenanceWindow?> LastWindowAsync(string location, OperationContext context, string system, string environment, CancellationToken ct)
    {
        using var log = await OpenAsync(location, context).ConfigureAwait(false);
        return await log.LastWindowAsync(system, environment, ct).ConfigureAwait(false);
    }

    /// <summary>Records <paramref name="e"/> in the log at <paramref name="location"/> and reads the window back (null when the environment never had one).</summary>
    public static async Task<MaintenanceWindow?> RecordAsync(string location, OperationContext context, MaintenanceEvent e, CancellationToken ct)
    {
        using var log = await OpenAsync(location, context).ConfigureAwait(false);
        await log.AppendAsync(e, ct).ConfigureAwait(false);
        return await log.LastWindowAsync(e.System, e.Environment, ct).ConfigureAwait(false);
    }

    /// <summary>The last window a list of changes describes.</summary>
    public static MaintenanceWindow? Window(IReadOnlyList<MaintenanceEvent> events, string? location)
    {
        var start = events.LastOrDefault(e => e.Type == "Started");
        if (start is null) return null;
        var end = events.FirstOrDefault(e => e.Type == "Ended" && string.CompareOrdinal(e.Id, start.Id) > 0);
        return new MaintenanceWindow
        {
            System = start.System, Environment = start.Environment, StartedAt = start.Time, Until = start.Until, EndedAt = end?.Time,
            Reason = start.Reason, StartedBy = start.Actor, Variable = start.Variable, Location = location,
        };
    }

    /// <summary>A new event id that sorts by time (<see cref="SortableId"/>).</summary>
    public static string NewId(DateTimeOffset time) => SortableId.New(time);

    /// <inheritdoc />
    public void Dispose() => _s3?.Dispose();
}
