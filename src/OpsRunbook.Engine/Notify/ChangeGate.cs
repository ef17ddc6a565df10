using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRunbook.Engine.Notify;

/// <summary>A subject that changed since the state was last written.</summary>
public sealed record Transition(NotificationItem Item, bool Recovered, DateTimeOffset? BadSince);

/// <summary>The -OnChange state of one run: held for the run, read at the start, written at the end.</summary>
public interface IChangeGate : IAsyncDisposable
{
    /// <summary>Where the state is (a file, or s3://bucket/key).</summary>
    string Location { get; }

    /// <summary>The items whose state differs from the last run's.</summary>
    IReadOnlyList<Transition> Changes(IEnumerable<NotificationItem> items);

    /// <summary>Records what each item is now.</summary>
    void Record(IEnumerable<NotificationItem> items, DateTimeOffset now);
}

/// <summary>
/// What every state store shares: the subjects' last known tones, the transition rule, and the JSON form
/// ({ "version": 1, "subjects": { key: { tone, status, since, seen } } }).
/// </summary>
public abstract class ChangeState(JsonObject subjects) : IChangeGate
{
    /// <inheritdoc />
    public abstract string Location { get; }

    /// <summary>The subjects, as read and as recorded since.</summary>
    protected JsonObject Subjects { get; } = subjects;

    /// <summary>The subjects of a state document; an unreadable one is a <see cref="NotifyStateException"/> naming <paramref name="where"/>.</summary>
    protected static JsonObject Parse(string? text, string where)
    {
        if (string.IsNullOrWhiteSpace(text)) return new JsonObject();
        try
        {
            return (JsonNode.Parse(text)?["subjects"] as JsonObject)?.DeepClone().AsObject() ?? new JsonObject();
        }
        catch (JsonException)
        {
            throw new NotifyStateException($"the -OnChange state {where} is not OpsRunbook's JSON; delete it to start afresh (every subject then counts as new)", busy: false);
        }
    }

    /// <summary>The state document to write.</summary>
    protected string Serialize() =>
        new JsonObject { ["version"] = 1, ["subjects"] = Subjects.DeepClone() }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>
    /// The items whose state differs from the last run's: turned bad (Critical or Warning, or from Warning to Critical)
    /// or recovered (Good after bad). An item first seen Good is not news; one first seen bad is.
    /// </summary>
    public IReadOnlyList<Transition> Changes(IEnumerable<NotificationItem> items)
    {
        var changes = new List<Transition>();
        foreach (var item in items)
        {
            var before = Subjects[item.Key] as JsonObject;
            var was = before?["tone"]?.GetValue<string>() is { } t && Enum.TryParse<NotificationTone>(t, out var tone) ? tone : (NotificationTone?)null;
            var since = before?["since"]?.GetValue<DateTimeOffset>();
            var bad = item.Tone is NotificationTone.Critical or NotificationTone.Warning;
            var wasBad = was is NotificationTone.Critical or NotificationTone.Warning;
            if (bad && (!wasBad || item.Tone > was)) changes.Add(new Transition(item, false, since));
            else if (item.Tone == NotificationTone.Good && wasBad) changes.Add(new Transition(item, true, since));
        }
        return changes;
    }

    /// <summary>Records what each item is now (after its notification went out, or for items that did not change).</summary>
    public void Record(IEnumerable<NotificationItem> items, DateTimeOffset now)
    {
        foreach (var item in items)
        {
            var before = Subjects[item.Key] as JsonObject;
            var same = before?["tone"]?.GetValue<string>() == item.Tone.ToString();
            Subjects[item.Key] = new JsonObject
            {
                ["tone"] = item.Tone.ToString(),
                ["status"] = item.Status,
                ["since"] = same && before?["since"] is { } s ? s.DeepClone() : JsonValue.Create(now),
                ["seen"] = JsonValue.Create(now),
            };
        }
    }

    /// <summary>Writes the state and releases the hold on it.</summary>
    public abstract ValueTask DisposeAsync();
}

/// <summary>
/// Sends only transitions (-OnChange): a stateless scheduled run reads, under an exclusive lock, what each subject
/// (system/environment/kind/subject) was at the last run, passes on the subjects that turned bad (Critical or
/// Warning) and those that recovered, and writes the new state after the sends. Two runs that overlap on one state
/// file take turns, so the second sees what the first sent and sends nothing for it.
/// </summary>
public sealed class ChangeGate : ChangeState
{
    private readonly FileStream? _file;
    private readonly string _path;

    private ChangeGate(FileStream? file, string path, JsonObject subjects) : base(subjects) => (_file, _path) = (file, path);

    /// <inheritdoc />
    public override string Location => _path;

    /// <summary>
    /// Opens (creating it and its folder) and locks the state file, waiting up to <paramref name="lockTimeout"/> for
    /// another run. <paramref name="readOnly"/> (-WhatIf) only reads what is there: no lock, no file made, nothing written.
    /// </summary>
    public static async Task<ChangeGate> OpenAsync(string path, TimeSpan lockTimeout, CancellationToken ct, bool readOnly = false)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (readOnly)
        {
            return new ChangeGate(null, full, Parse(File.Exists(full) ? await File.ReadAllTextAsync(full, ct).ConfigureAwait(false) : null, full));
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var deadline = DateTimeOffset.UtcNow + lockTimeout;
        while (true)
        {
            try
            {
                var file = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                try
                {
                    using var reader = new StreamReader(file, leaveOpen: true);
                    return new ChangeGate(file, full, Parse(await reader.ReadToEndAsync(ct).ConfigureAwait(false), full));
                }
                catch
                {
                    await file.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
            catch (IOException) when (DateTimeOffset.UtcNow < deadline)
            {
                // Another run holds it: wait for its turn.
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                throw new NotifyStateException($"the -OnChange state file {full} stayed locked by another run for {lockTimeout.TotalSeconds:0} s ({ex.Message})", busy: true);
            }
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (_file is null) return;
        try
        {
            _file.SetLength(0);
            _file.Position = 0;
            var bytes = System.Text.Encoding.UTF8.GetBytes(Serialize());
            await _file.WriteAsync(bytes).ConfigureAwait(false);
            await _file.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>The -OnChange state cannot be used: locked by another run too long (<see cref="Busy"/>), or not readable.</summary>
public sealed class NotifyStateException(string message, bool busy) : Exception(message)
{
    /// <summary>True when another run held the state too long.</summary>
    public bool Busy { get; } = busy;
}
