using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRunbook.Engine.Notify;

/// <summary>A subject that changed since the state was last written.</summary>
public sealed record Transition(NotificationItem Item, bool Recovered, DateTimeOffset? BadSince);

/// <summary>
/// Sends only transitions (-OnChange): a stateless scheduled run reads, under an exclusive lock, what each subject
/// (system/environment/kind/subject) was at the last run, passes on the subjects that turned bad (Critical or
/// Warning) and those that recovered, and writes the new state after the sends. Two runs that overlap on one state
/// file take turns, so the second sees what the first sent and sends nothing for it.
/// </summary>
public sealed class ChangeGate : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly JsonObject _subjects;

    private ChangeGate(FileStream file, JsonObject subjects)
    {
        _file = file;
        _subjects = subjects;
    }

    /// <summary>The state file, held exclusively until disposed (waits up to <paramref name="lockTimeout"/> for another run).</summary>
    public string Path => _file.Name;

    /// <summary>Opens (creating it and its folder) and locks the state file.</summary>
    public static async Task<ChangeGate> OpenAsync(string path, TimeSpan lockTimeout, CancellationToken ct)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var deadline = DateTimeOffset.UtcNow + lockTimeout;
        while (true)
        {
            try
            {
                var file = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                JsonObject subjects;
                try
                {
                    subjects = file.Length == 0 ? new JsonObject() : (JsonNode.Parse(file)?["subjects"] as JsonObject)?.DeepClone().AsObject() ?? new JsonObject();
                }
                catch (JsonException)
                {
                    await file.DisposeAsync().ConfigureAwait(false);
                    throw new NotifyStateException($"the -OnChange state file {full} is not OpsRunbook's JSON; delete it to start afresh (every subject then counts as new)", busy: false);
                }
                return new ChangeGate(file, subjects);
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

    /// <summary>
    /// The items whose state differs from the last run's: turned bad (Critical or Warning, or from Warning to Critical)
    /// or recovered (Good after bad). An item first seen Good is not news; one first seen bad is.
    /// </summary>
    public IReadOnlyList<Transition> Changes(IEnumerable<NotificationItem> items)
    {
        var changes = new List<Transition>();
        foreach (var item in items)
        {
            var before = _subjects[item.Key] as JsonObject;
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
            var before = _subjects[item.Key] as JsonObject;
            var same = before?["tone"]?.GetValue<string>() == item.Tone.ToString();
            _subjects[item.Key] = new JsonObject
            {
                ["tone"] = item.Tone.ToString(),
                ["status"] = item.Status,
                ["since"] = same && before?["since"] is { } s ? s.DeepClone() : JsonValue.Create(now),
                ["seen"] = JsonValue.Create(now),
            };
        }
    }

    /// <summary>Writes the state and releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            _file.SetLength(0);
            _file.Position = 0;
            var doc = new JsonObject { ["version"] = 1, ["subjects"] = _subjects.DeepClone() };
            await JsonSerializer.SerializeAsync(_file, doc, new JsonSerializerOptions { WriteIndented = true }).ConfigureAwait(false);
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
