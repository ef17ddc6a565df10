using System.Text;
using System.Text.Json;

namespace OpsRunbook.Engine.Incidents;

/// <summary>Where incidents are kept: append-only journals that several processes may write at once.</summary>
public interface IIncidentJournal
{
    /// <summary>Where, for messages: a folder or s3://bucket/prefix/.</summary>
    string Location { get; }

    /// <summary>Appends one event (a Declared event starts a journal; any other needs one).</summary>
    Task AppendAsync(IncidentEvent e, CancellationToken ct);

    /// <summary>Every event of one incident, in order.</summary>
    Task<IReadOnlyList<IncidentEvent>> ReadAsync(string incidentId, CancellationToken ct);

    /// <summary>The ids of the incidents kept here, newest first.</summary>
    Task<IReadOnlyList<string>> ListAsync(CancellationToken ct);
}

/// <summary>
/// Incidents as append-only journals on disk: one JSON-lines file per incident (<c>INC-….jsonl</c>) in a folder. Each
/// event is appended under an exclusive lock (FileShare.None, an flock on Linux), so writers in several processes
/// (CI jobs, an admin's session) add events without losing any; readers take a shared lock. Nothing is rewritten.
/// </summary>
public sealed class IncidentJournal(string directory) : IIncidentJournal
{
    /// <summary>The JSON form of an event (camelCase, nulls left out), shared by every journal.</summary>
    internal static readonly JsonSerializerOptions EventJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>An incident id is INC- and letters, digits and dashes only (it names a file or a key).</summary>
    internal static string CheckId(string incidentId) =>
        incidentId.StartsWith("INC-", StringComparison.Ordinal) && incidentId.Length < 64 && incidentId.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            ? incidentId
            : throw new ArgumentException($"'{incidentId}' is not an incident id (INC-yyyyMMdd-HHmmss-xxxx)");

    private static readonly JsonSerializerOptions Json = EventJson;
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);

    /// <summary>The folder.</summary>
    public string Directory { get; } = Path.GetFullPath(directory);

    /// <inheritdoc />
    public string Location => Directory;

    private string FileOf(string incidentId) => Path.Combine(Directory, CheckId(incidentId) + ".jsonl");

    /// <summary>Appends one event to its incident's journal (creating the folder and the file for a Declared event).</summary>
    public async Task AppendAsync(IncidentEvent e, CancellationToken ct)
    {
        var path = FileOf(e.IncidentId);
        if (e.Type != IncidentEventType.Declared && !File.Exists(path))
        {
            throw new IncidentNotFoundException($"no incident {e.IncidentId} in {Directory}");
        }
        System.IO.Directory.CreateDirectory(Directory);
        var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(e, Json) + "\n");
        await using var file = await OpenAsync(path, FileMode.Append, FileAccess.Write, FileShare.None, ct).ConfigureAwait(false);
        await file.WriteAsync(line, ct).ConfigureAwait(false);
        await file.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Every event of one incident, in order.</summary>
    public async Task<IReadOnlyList<IncidentEvent>> ReadAsync(string incidentId, CancellationToken ct)
    {
        var path = FileOf(incidentId);
        if (!File.Exists(path)) throw new IncidentNotFoundException($"no incident {incidentId} in {Directory}");
        string text;
        await using (var file = await OpenAsync(path, FileMode.Open, FileAccess.Read, FileShare.Read, ct).ConfigureAwait(false))
        using (var reader = new StreamReader(file, Encoding.UTF8))
        {
            text = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        }
        var events = new List<IncidentEvent>();
        var number = 0;
        foreach (var line in text.Split('\n'))
        {
            number++;
            if (line.Trim().Length == 0) continue;
            try
            {
                events.Add(JsonSerializer.Deserialize<IncidentEvent>(line, Json) ?? throw new JsonException("null"));
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{number} is not an incident event ({ex.Message}); the journal was edited or damaged", ex);
            }
        }
        return events;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>(!System.IO.Directory.Exists(Directory)
        ? []
        : System.IO.Directory.EnumerateFiles(Directory, "INC-*.jsonl").Select(f => Path.GetFileNameWithoutExtension(f)!).OrderDescending(StringComparer.Ordinal).ToList());

    private static async Task<FileStream> OpenAsync(string path, FileMode mode, FileAccess access, FileShare share, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + LockWait;
        while (true)
        {
            try
            {
                return new FileStream(path, mode, access, share, 4096, FileOptions.Asynchronous);
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline && File.Exists(path) | mode == FileMode.Append)
            {
                await Task.Delay(Random.Shared.Next(5, 25), ct).ConfigureAwait(false);
            }
        }
    }
}

/// <summary>No incident with that id where the environment keeps its incidents.</summary>
public sealed class IncidentNotFoundException(string message) : Exception(message);
