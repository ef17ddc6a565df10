using System.Collections.Concurrent;

namespace OpsRunbook.Engine.Secrets;

/// <summary>
/// Remembers every secret value seen in a session and removes them from any text that leaves the Engine
/// (reasons, error messages, verbose lines), together with credentials embedded in URLs and connection strings.
/// </summary>
public sealed class SecretRedactor
{
    /// <summary>What a removed secret is replaced with.</summary>
    public const string Mask = "***";

    private readonly ConcurrentDictionary<string, byte> _values = new(StringComparer.Ordinal);

    /// <summary>The values longest first (so one that contains another is masked whole), rebuilt when one is added: read per line without locks or sorting.</summary>
    private volatile string[] _longestFirst = [];
    private readonly object _rebuild = new();

    /// <summary>
    /// Raised once for each new value registered (from any thread): a CI runner can be told to mask it in its log too
    /// (GitHub Actions' ::add-mask::), which covers what other tools print.
    /// </summary>
    public event Action<string>? Added;

    /// <summary>Registers a value. Very short values (under 4 characters) are not registered: masking them would mangle ordinary text.</summary>
    public void Add(string? value)
    {
        if (value is { Length: >= 4 })
        {
            if (_values.TryAdd(value, 0)) Added?.Invoke(value);
            // URL-encoded forms appear in connection URLs and error messages.
            var escaped = Uri.EscapeDataString(value);
            if (escaped != value)
            {
                _values.TryAdd(escaped, 0);
            }
            // Under a lock, so the last rebuild sees every value added before it (a snapshot without another thread's
            // value written last would leave that secret unmasked).
            lock (_rebuild) _longestFirst = _values.Keys.OrderByDescending(v => v.Length).ThenBy(v => v, StringComparer.Ordinal).ToArray();
        }
    }

    /// <summary>
    /// Returns <paramref name="text"/> with only the registered values masked (no patterns): for a caller that already
    /// masks credentials its own way and runs per line, such as a log scan. Costs nothing while no value is registered.
    /// </summary>
    public string ScrubKnown(string text)
    {
        var values = _longestFirst;
        if (values.Length == 0 || text.Length == 0) return text;
        foreach (var value in values)
        {
            if (text.Contains(value, StringComparison.Ordinal)) text = text.Replace(value, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    /// <summary>Returns <paramref name="text"/> with every registered value and embedded credential masked.</summary>
    public string Scrub(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }
        // Longest first, so a value that contains another is masked whole.
        foreach (var value in _longestFirst)
        {
            if (text.Contains(value, StringComparison.Ordinal))
            {
                text = text.Replace(value, Mask, StringComparison.Ordinal);
            }
        }
        return SecretValue.Redact(text);
    }
}
