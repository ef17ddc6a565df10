using System.Runtime.CompilerServices;
namespace OpsRunbook.Engine.Logs;

/// <summary>One group of messages that share a template, as <see cref="TemplateMiner"/> found it.</summary>
public sealed class LogCluster
{
    internal LogCluster(int id, string[] tokens)
    {
        Id = id;
        Tokens = tokens;
    }

    /// <summary>The cluster's number, in the order clusters were created (1 first).</summary>
    public int Id { get; }

    /// <summary>The template's tokens; a varying position is <see cref="TemplateMiner.Wildcard"/>.</summary>
    public string[] Tokens { get; internal set; }

    /// <summary>How many messages it holds.</summary>
    public long Size { get; internal set; }

    /// <summary>The template, its tokens joined by single spaces.</summary>
    public string Template => string.Join(' ', Tokens);

    /// <inheritdoc />
    public override string ToString() => Template;
}

/// <summary>
/// Mines message templates with Drain (He, Zhu, Zheng and Lyu, "Drain: An Online Log Parsing Approach with Fixed Depth
/// Tree", ICWS 2017), as its maintained implementation logpai/Drain3 (drain3/drain.py) does it: messages are split on
/// whitespace; the tree's first level is the token count, the next levels the first tokens (a token with a digit goes
/// under the wildcard, a node holds at most <c>maxChildren</c> children); in the leaf, the cluster whose template has
/// the most equal tokens wins if that share reaches the similarity threshold, and the positions that differ become
/// <c>&lt;*&gt;</c>. Masking (IPs, numbers…) is the caller's, before <see cref="Add(string, long)"/>.
/// </summary>
public sealed class TemplateMiner
{
    /// <summary>The token that stands for a varying position.</summary>
    public const string Wildcard = "<*>";

    private sealed class Node
    {
        public Dictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);
        public List<LogCluster> Clusters { get; } = [];
    }

    private readonly Node _root = new();
    private readonly int _maxNodeDepth;
    private readonly double _similarity;
    private readonly int _maxChildren;
    private readonly List<LogCluster> _clusters = [];

    /// <summary>A miner with Drain3's defaults: depth 4, similarity 0.4, 100 children per node.</summary>
    /// <param name="depth">The tree's depth, the root and the token-count level included (at least 3).</param>
    /// <param name="similarity">The share of equal tokens a message needs to join a cluster.</param>
    /// <param name="maxChildren">The most children a node holds before the rest go under the wildcard.</param>
    public TemplateMiner(int depth = 4, double similarity = 0.4, int maxChildren = 100)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 3);
        _maxNodeDepth = depth - 2;
        _similarity = similarity;
        _maxChildren = maxChildren;
    }

    /// <summary>The clusters in the order they were created.</summary>
    public IReadOnlyList<LogCluster> Clusters => _clusters;

    /// <summary>Splits a message into tokens as Drain does (on whitespace).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string[] Tokenize(string message) => message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Adds a message (<paramref name="count"/> times), returning the cluster it joined or started.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public LogCluster Add(string message, long count = 1) => Add(Tokenize(message), count);

    /// <summary>Adds a tokenized message or a template (whose wildcards match anything), returning its cluster.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public LogCluster Add(string[] tokens, long count = 1)
    {
        var cluster = Search(tokens);
        if (cluster is null)
        {
            cluster = new LogCluster(_clusters.Count + 1, tokens);
            _clusters.Add(cluster);
            Insert(cluster);
        }
        else
        {
            var template = cluster.Tokens;
            for (var i = 0; i < template.Length; i++)
            {
                if (!string.Equals(template[i], tokens[i], StringComparison.Ordinal) && template[i] != Wildcard)
                {
                    if (ReferenceEquals(template, cluster.Tokens)) template = (string[])template.Clone();
                    template[i] = Wildcard;
                }
            }
            cluster.Tokens = template;
        }
        cluster.Size += count;
        return cluster;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private LogCluster? Search(string[] tokens)
    {
        if (!_root.Children.TryGetValue(Key(tokens.Length), out var node)) return null;
        if (tokens.Length == 0) return node.Clusters.FirstOrDefault();
        var depth = 1;
        foreach (var token in tokens)
        {
            if (depth >= _maxNodeDepth || depth == tokens.Length) break;
            if (!node.Children.TryGetValue(token, out var next) && !node.Children.TryGetValue(Wildcard, out next)) return null;
            node = next;
            depth++;
        }
        LogCluster? best = null;
        var bestSimilarity = -1.0;
        var bestParameters = -1;
        foreach (var cluster in node.Clusters)
        {
            var (similarity, parameters) = Similarity(cluster.Tokens, tokens);
            if (similarity > bestSimilarity || (similarity == bestSimilarity && parameters > bestParameters))
            {
                best = cluster;
                bestSimilarity = similarity;
                bestParameters = parameters;
            }
        }
        return bestSimilarity >= _similarity ? best : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (double Similarity, int Parameters) Similarity(string[] template, string[] tokens)
    {
        if (template.Length == 0) return (1.0, 0);
        int equal = 0, parameters = 0;
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] == Wildcard) parameters++;
            else if (string.Equals(template[i], tokens[i], StringComparison.Ordinal)) equal++;
        }
        return ((double)equal / template.Length, parameters);
    }

    private void Insert(LogCluster cluster)
    {
        var tokens = cluster.Tokens;
        var key = Key(tokens.Length);
        if (!_root.Children.TryGetValue(key, out var node)) _root.Children[key] = node = new Node();
        if (tokens.Length == 0)
        {
            node.Clusters.Add(cluster);
            return;
        }
        var depth = 1;
        foreach (var token in tokens)
        {
            if (depth >= _maxNodeDepth || depth >= tokens.Length) break;
            if (node.Children.TryGetValue(token, out var next))
            {
                node = next;
            }
            else if (token.Any(char.IsDigit) || token == Wildcard)
            {
                node = Child(node, Wildcard);
            }
            else if (node.Children.ContainsKey(Wildcard))
            {
                node = node.Children.Count < _maxChildren ? Child(node, token) : node.Children[Wildcard];
            }
            else
            {
                node = node.Children.Count + 1 < _maxChildren ? Child(node, token)
                    : node.Children.Count + 1 == _maxChildren ? Child(node, Wildcard)
                    : node.Children[Wildcard];
            }
            depth++;
        }
        node.Clusters.Add(cluster);
    }

    private static Node Child(Node node, string token)
    {
        if (!node.Children.TryGetValue(token, out var child)) node.Children[token] = child = new Node();
        return child;
    }

    private static string Key(int length) => length.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
