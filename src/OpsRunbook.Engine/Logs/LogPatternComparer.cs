namespace OpsRunbook.Engine.Logs;

/// <summary>
/// Compares the patterns of two windows ("what changed in the logs since the deploy?"): a current pattern no baseline
/// pattern matches is New; one whose rate rose by the factor is a Spike, fell by it a Drop; a baseline pattern no longer
/// seen is Gone. Templates match when they have the same words where neither has a wildcard (the same message mined in
/// two runs may be generalised differently); other groupings match on equal values. Rates are per minute over each
/// side's span (its first to last record), so an hour before and ten minutes after compare fairly; without times the
/// counts are compared.
/// </summary>
public static class LogPatternComparer
{
    /// <summary>Compares <paramref name="current"/> with <paramref name="baseline"/>.</summary>
    /// <param name="baseline">The patterns before (e.g. the hour before a deployment).</param>
    /// <param name="current">The patterns now.</param>
    /// <param name="factor">How many times higher (or lower) a rate must be to be a Spike (or a Drop); above 1.</param>
    /// <param name="minimumCount">Fewer records than this on the larger side is never a Spike or a Drop (noise).</param>
    /// <param name="baselineSpan">The baseline's length, when known better than its records' span.</param>
    /// <param name="currentSpan">The current window's length, when known better than its records' span.</param>
    public static IReadOnlyList<LogPatternChange> Compare(IReadOnlyList<LogPattern> baseline, IReadOnlyList<LogPattern> current, double factor = 2, long minimumCount = 5, TimeSpan? baselineSpan = null, TimeSpan? currentSpan = null)
    {
        if (factor <= 1) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be above 1, for example 2 (twice as often).");
        var beforeMinutes = Minutes(baseline, baselineSpan);
        var nowMinutes = Minutes(current, currentSpan);
        var rated = beforeMinutes is not null && nowMinutes is not null;
        var tokens = baseline.Select(p => TemplateMiner.Tokenize(p.Pattern)).ToList();
        var matched = new bool[baseline.Count];
        var changes = new List<LogPatternChange>();
        foreach (var now in current)
        {
            var words = TemplateMiner.Tokenize(now.Pattern);
            var matches = Enumerable.Range(0, baseline.Count).Where(i => Same(tokens[i], words, baseline[i].Pattern, now.Pattern)).ToList();
            foreach (var i in matches) matched[i] = true;
            if (matches.Count == 0)
            {
                changes.Add(Change(now.Pattern, LogPatternChangeKind.New, 0, now.Count, rated ? 0 : null, Rate(now.Count, nowMinutes), null, now));
                continue;
            }
            long before = matches.Sum(i => baseline[i].Count);
            double? beforeRate = Rate(before, beforeMinutes), nowRate = Rate(now.Count, nowMinutes);
            var ratio = rated ? nowRate!.Value / Math.Max(beforeRate!.Value, double.Epsilon) : (double)now.Count / before;
            var loud = Math.Max(before, now.Count) >= minimumCount;
            var kind = loud && ratio >= factor ? LogPatternChangeKind.Spike : loud && ratio <= 1 / factor ? LogPatternChangeKind.Drop : LogPatternChangeKind.Same;
            changes.Add(Change(now.Pattern, kind, before, now.Count, rated ? beforeRate : null, rated ? nowRate : null, Math.Round(ratio, 2), now));
        }
        for (var i = 0; i < baseline.Count; i++)
        {
            if (!matched[i]) changes.Add(Change(baseline[i].Pattern, LogPatternChangeKind.Gone, baseline[i].Count, 0, Rate(baseline[i].Count, beforeMinutes), rated ? 0 : null, null, baseline[i]));
        }
        return changes.OrderBy(c => c.Change).ThenByDescending(c => Math.Max(c.CurrentCount, c.BaselineCount)).ToList();
    }

    private static LogPatternChange Change(string pattern, LogPatternChangeKind kind, long before, long now, double? beforeRate, double? nowRate, double? ratio, LogPattern example) => new()
    {
        Pattern = pattern,
        Change = kind,
        BaselineCount = before,
        CurrentCount = now,
        BaselineRate = beforeRate is { } b ? Math.Round(b, 3) : null,
        CurrentRate = nowRate is { } n ? Math.Round(n, 3) : null,
        Ratio = ratio,
        LevelSummary = example.LevelSummary,
        Example = example.Example,
    };

    private static double? Rate(long count, double? minutes) => minutes is { } m ? count / m : null;

    /// <summary>The side's length in minutes: given, or its records' span (at least a minute, so a burst is not divided by zero).</summary>
    private static double? Minutes(IReadOnlyList<LogPattern> side, TimeSpan? span)
    {
        if (span is { } s && s > TimeSpan.Zero) return s.TotalMinutes;
        var first = side.Where(p => p.FirstSeen is not null).Select(p => p.FirstSeen!.Value).DefaultIfEmpty().Min();
        var last = side.Where(p => p.LastSeen is not null).Select(p => p.LastSeen!.Value).DefaultIfEmpty().Max();
        if (first == default || last == default) return null;
        return Math.Max(1, (last - first).TotalMinutes);
    }

    private static bool IsWildcard(string token) => token == TemplateMiner.Wildcard;

    private static bool Same(string[] a, string[] b, string textA, string textB)
    {
        if (string.Equals(textA, textB, StringComparison.Ordinal)) return true;
        if (a.Length != b.Length || a.Length == 0) return false;
        var equal = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (IsWildcard(a[i]) || IsWildcard(b[i])) continue;
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal)) return false;
            equal++;
        }
        // At least one word in common, so "<*> <*>" does not match every two-word message.
        return equal > 0;
    }
}
