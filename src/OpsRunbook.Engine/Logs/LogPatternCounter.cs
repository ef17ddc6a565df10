using System.Runtime.CompilerServices;
namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Counts the records a <see cref="LogQuery"/> selects, per template (mined with <see cref="TemplateMiner"/> after
/// <see cref="LogMasker"/>) or per grouped value, keeping for each the first and last time, the levels and the first
/// line. Counters of separate parts of a file merge in order (<see cref="Merge"/>), so a parallel scan gives the same
/// answer as a sequential one over the same parts. Memory grows with the number of templates or values, not of lines.
/// </summary>
public sealed class LogPatternCounter
{
    private sealed class Tally
    {
        public long Count;
        public DateTimeOffset? First, Last;
        // Levels are few (ERROR, FATAL…) and their names the parser's own strings: a short list beats a dictionary.
        private string[] _levels = new string[4];
        private long[] _levelCounts = new long[4];
        private int _levelsUsed;
        public string? Example;

        public IEnumerable<KeyValuePair<string, long>> Levels => Enumerable.Range(0, _levelsUsed).Select(i => KeyValuePair.Create(_levels[i], _levelCounts[i]));

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void AddLevel(string level, long n)
        {
            for (var i = 0; i < _levelsUsed; i++)
            {
                if (ReferenceEquals(_levels[i], level) || string.Equals(_levels[i], level, StringComparison.Ordinal))
                {
                    _levelCounts[i] += n;
                    return;
                }
            }
            if (_levelsUsed == _levels.Length)
            {
                Array.Resize(ref _levels, _levels.Length * 2);
                Array.Resize(ref _levelCounts, _levelCounts.Length * 2);
            }
            _levels[_levelsUsed] = level;
            _levelCounts[_levelsUsed++] = n;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Add(LogRecord record)
        {
            Count++;
            if (record.Timestamp is { } t)
            {
                if (First is null || t < First) First = t;
                if (Last is null || t > Last) Last = t;
            }
            AddLevel(record.Level ?? "-", 1);
            Example ??= record.Raw;
        }

        public void Merge(Tally other)
        {
            Count += other.Count;
            if (other.First is { } f && (First is null || f < First)) First = f;
            if (other.Last is { } l && (Last is null || l > Last)) Last = l;
            for (var i = 0; i < other._levelsUsed; i++) AddLevel(other._levels[i], other._levelCounts[i]);
            Example ??= other.Example;
        }
    }

    private readonly LogQuery _query;
    private readonly LogGrouping _grouping;
    private readonly TemplateMiner? _miner;
    private readonly Dictionary<LogCluster, Tally> _clusters = [];
    private readonly Dictionary<string, Tally> _values = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    // Masked messages seen before, by their hash (chained on a collision): a repeat is found without a string made of it.
    private sealed class Seen(string masked, LogCluster cluster, Tally tally, Seen? next)
    {
        public readonly string Masked = masked;
        public readonly LogCluster Cluster = cluster;
        public readonly Tally Tally = tally;
        public readonly Seen? Next = next;
    }
    private readonly Dictionary<int, Seen> _seen = [];
    private int _seenCount;
    private const int MaxSeen = 50_000;

    /// <summary>A counter for <paramref name="query"/>.</summary>
    public LogPatternCounter(LogQuery query)
    {
        _query = query;
        _grouping = query.Grouping;
        if (_grouping.Kind == LogGroupKind.Template) _miner = new TemplateMiner();
    }

    /// <summary>Lines read (counted or not).</summary>
    public long Lines { get; internal set; }

    /// <summary>Records the query selected.</summary>
    public long Matched { get; private set; }

    /// <summary>Counts one more record read (a line of its own) and the record, if the query selects it.</summary>
    public bool Read(LogRecord record)
    {
        Lines++;
        return Add(record);
    }

    /// <summary>Counts <paramref name="record"/> if the query selects it (its line counted by the caller); true when it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Add(LogRecord record)
    {
        if (!_query.Matches(record)) return false;
        Matched++;
        Tally? tally;
        if (_miner is not null)
        {
            // A masked message seen before joins its cluster again without a new search (most repeat once masked).
            var masked = LogMasker.MaskSpan(record.Message.Length > 0 ? record.Message : record.Raw, out _);
            var hash = string.GetHashCode(masked);
            var seen = _seen.GetValueOrDefault(hash);
            while (seen is not null && !masked.SequenceEqual(seen.Masked)) seen = seen.Next;
            if (seen is not null)
            {
                seen.Cluster.Size++;
                tally = seen.Tally;
            }
            else
            {
                var text = masked.ToString();
                var cluster = _miner.Add(text);
                if (!_clusters.TryGetValue(cluster, out tally)) _clusters[cluster] = tally = new Tally();
                if (_seenCount >= MaxSeen)
                {
                    _seen.Clear();
                    _seenCount = 0;
                }
                _seen[hash] = new Seen(text, cluster, tally, _seen.GetValueOrDefault(hash));
                _seenCount++;
            }
        }
        else
        {
            var key = _query.Key(record, _grouping);
            if (!_values.TryGetValue(key, out tally))
            {
                _values[key] = tally = new Tally();
                _order.Add(key);
            }
        }
        tally.Add(record);
        return true;
    }

    /// <summary>Adds what <paramref name="later"/> counted over the part that follows this counter's.</summary>
    public void Merge(LogPatternCounter later)
    {
        Lines += later.Lines;
        Matched += later.Matched;
        if (_miner is not null)
        {
            foreach (var cluster in later._miner!.Clusters)
            {
                var into = _miner.Add(cluster.Tokens, cluster.Size);
                if (!_clusters.TryGetValue(into, out var tally)) _clusters[into] = tally = new Tally();
                tally.Merge(later._clusters[cluster]);
            }
            return;
        }
        foreach (var key in later._order)
        {
            if (!_values.TryGetValue(key, out var tally))
            {
                _values[key] = tally = new Tally();
                _order.Add(key);
            }
            tally.Merge(later._values[key]);
        }
    }

    /// <summary>The patterns, most frequent first (ties in order of appearance), at most <paramref name="top"/> (0: all); text passes <paramref name="scrub"/>.</summary>
    public IReadOnlyList<LogPattern> Result(int top, Func<string, string> scrub, string? source)
    {
        IEnumerable<(string Pattern, Tally Tally)> groups = _miner is not null
            ? _miner.Clusters.Select(c => (c.Template, _clusters[c]))
            : _order.Select(k => (k, _values[k]));
        var ranked = groups.Select((g, i) => (g.Pattern, g.Tally, Index: i)).OrderByDescending(g => g.Tally.Count).ThenBy(g => g.Index);
        var list = (top > 0 ? ranked.Take(top) : ranked).Select(g => new LogPattern
        {
            Pattern = scrub(g.Pattern),
            GroupBy = _grouping.ToString(),
            Count = g.Tally.Count,
            Percent = Matched == 0 ? 0 : Math.Round(100.0 * g.Tally.Count / Matched, 2),
            FirstSeen = g.Tally.First,
            LastSeen = g.Tally.Last,
            Levels = new Dictionary<string, long>(g.Tally.Levels),
            Example = g.Tally.Example is { } e ? scrub(e) : null,
            Source = source,
            Preset = _query.Preset,
        });
        return list.ToList();
    }
}
