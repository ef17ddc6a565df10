using System.Globalization;

namespace OpsRunbook.Engine.Backup;

/// <summary>A retention rule set: by age, by count, and grandfather-father-son.</summary>
public sealed record RetentionPolicy(TimeSpan? OlderThan = null, int? KeepLast = null, int? KeepDaily = null, int? KeepWeekly = null, int? KeepMonthly = null)
{
    /// <summary>Whether any rule is set.</summary>
    public bool IsEmpty => OlderThan is null && KeepLast is null && KeepDaily is null && KeepWeekly is null && KeepMonthly is null;

    /// <summary>
    /// These rules, or when none is given the environment's own (runbook.json "backup": "retentionDays",
    /// "retentionCount"): rules given for one run replace the configured ones whole, they are never merged.
    /// </summary>
    public RetentionPolicy OrConfigured(int? retentionDays, int? retentionCount) =>
        IsEmpty && (retentionDays is not null || retentionCount is not null)
            ? new RetentionPolicy(retentionDays is { } d ? TimeSpan.FromDays(d) : null, retentionCount)
            : this;
}

/// <summary>A backup and whether retention keeps it, with the reason.</summary>
public sealed record RetentionDecision(BackupInfo Backup, bool Keep, string Reason);

/// <summary>
/// Which backups retention removes. A backup is kept when any rule keeps it: younger than OlderThan, among the newest
/// KeepLast, the newest of one of the last KeepDaily days / KeepWeekly ISO weeks / KeepMonthly months with a backup.
/// The newest successfully verified backup is always kept, whatever the rules say. Dates are passed in, not read.
/// </summary>
public static class Retention
{
    /// <summary>
    /// Decides for each backup (newest first), series by series: a destination shared by several systems, environments
    /// or databases (one bucket for all is normal) keeps each one's own newest, and rules never remove a series' last
    /// whole backup. With <paramref name="environment"/>, only that environment's series are decided at all.
    /// </summary>
    public static IReadOnlyList<RetentionDecision> Decide(IReadOnlyList<BackupInfo> backups, RetentionPolicy policy, DateTimeOffset now, string? environment = null)
    {
        if (policy.IsEmpty) throw new ArgumentException("give a retention rule: -OlderThan, -KeepLast, or -KeepDaily/-KeepWeekly/-KeepMonthly");
        return backups
            .Where(b => environment is null || string.Equals(b.Environment, environment, StringComparison.OrdinalIgnoreCase))
            .GroupBy(SeriesOf)
            .SelectMany(series => DecideSeries(series.ToList(), policy, now))
            .ToList();
    }

    /// <summary>Whether <paramref name="backup"/> is the only whole backup of its series among <paramref name="all"/>.</summary>
    public static bool IsLastWhole(BackupInfo backup, IReadOnlyList<BackupInfo> all) =>
        backup.Status == BackupStatus.Succeeded && !all.Any(b => !ReferenceEquals(b, backup) && b.Status == BackupStatus.Succeeded && SeriesOf(b) == SeriesOf(backup));

    private static (string? System, string? Environment, string? Database) SeriesOf(BackupInfo b) => (b.Manifest?.System, b.Environment, b.Database);

        private static IEnumerable<RetentionDecision> DecideSeries(IReadOnlyList<BackupInfo> backups, RetentionPolicy policy, DateTimeOffset now)
    {
        // Only whole backups count for keeping: one whose dump is gone (Missing) never stands in for a real one.
        var ordered = backups.Where(b => b.Status == BackupStatus.Succeeded).OrderByDescending(b => b.StartedAt).ToList();
        var remains = backups.Where(b => b.Status != BackupStatus.Succeeded).ToList();
        var keep = new Dictionary<BackupInfo, string>(ReferenceEqualityComparer.Instance);
        void Keep(BackupInfo b, string why)
        {
            if (!keep.ContainsKey(b)) keep[b] = why;
        }
        var newestVerified = ordered.FirstOrDefault(b => b.VerifiedAt is not null);
        if (newestVerified is not null) Keep(newestVerified, "the newest verified backup is never removed");
        if (policy.KeepLast is { } last)
        {
            foreach (var b in ordered.Take(last)) Keep(b, $"among the newest {last}");
        }
        if (policy.OlderThan is { } age)
        {
            foreach (var b in ordered.Where(b => now - b.StartedAt < age)) Keep(b, $"younger than {OpsRunbook.Engine.Common.Duration.Format(age)}");
        }
        void Periods(int? count, Func<DateTimeOffset, string> period, string name)
        {
            if (count is not { } n) return;
            foreach (var group in ordered.GroupBy(b => period(b.StartedAt.ToUniversalTime())).Take(n))
            {
                Keep(group.First(), $"newest of {name} {group.Key}");
            }
        }
        Periods(policy.KeepDaily, d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "day");
        Periods(policy.KeepWeekly, d => $"{ISOWeek.GetYear(d.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(d.UtcDateTime):00}", "week");
        Periods(policy.KeepMonthly, d => d.ToString("yyyy-MM", CultureInfo.InvariantCulture), "month");
        // A rule (30 days, say, when every backup is older) never leaves a database without a backup.
        if (ordered.Count > 0 && !ordered.Any(keep.ContainsKey)) Keep(ordered[0], $"the last whole backup of {ordered[0].Database} is never removed by a rule; name it to remove it (-BackupUri)");
        return ordered.Select(b => keep.TryGetValue(b, out var why) ? new RetentionDecision(b, true, why) : new RetentionDecision(b, false, "no rule keeps it"))
            .Concat(remains.Select(b => new RetentionDecision(b, false, $"not a whole backup ({b.Status}: {b.Error})")));
    }
}
