using OpsRunbook.Engine.Backup;

namespace OpsRunbook.Engine.Tests;

public class RetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static BackupInfo B(double daysAgo, bool verified = false, string database = "db", string environment = "production") => new()
    {
        BackupUri = $"{environment}-{database}-{daysAgo}", Database = database, Environment = environment, Status = BackupStatus.Succeeded, StartedAt = Now.AddDays(-daysAgo),
        VerifiedAt = verified ? Now : null,
    };

    [Fact]
    public void Rules_never_remove_a_databases_last_backup()
    {
        // The help's own example (-OlderThan 30d) on backups that are all older: the newest stays.
        var d = Retention.Decide([B(35), B(40), B(50)], new RetentionPolicy(OlderThan: TimeSpan.FromDays(30)), Now);
        Assert.Equal([true, false, false], d.Select(x => x.Keep));
        Assert.Contains("last whole backup of db", d[0].Reason);
    }

    [Fact]
    public void Each_series_in_a_shared_destination_keeps_its_own()
    {
        // One bucket for every database and environment: KeepLast 1 keeps the newest of each, not the newest of all.
        var backups = new[] { B(1, database: "other"), B(2), B(3), B(1, environment: "staging"), B(5, environment: "staging") };
        var d = Retention.Decide(backups, new RetentionPolicy(KeepLast: 1), Now);
        Assert.Equal(["production-db-2", "production-other-1", "staging-db-1"], d.Where(x => x.Keep).Select(x => x.Backup.BackupUri).Order());
        // With the environment named, only its backups are decided (and so only they can be removed).
        var production = Retention.Decide(backups, new RetentionPolicy(KeepLast: 1), Now, environment: "production");
        Assert.DoesNotContain(production, x => x.Backup.Environment == "staging");
    }

    [Fact]
    public void The_last_whole_backup_is_known_per_series()
    {
        var only = B(3);
        var missing = new BackupInfo { BackupUri = "gone", Database = "db", Environment = "production", Status = BackupStatus.Missing, StartedAt = Now.AddDays(-1) };
        var all = new[] { only, missing, B(1, database: "other"), B(2, environment: "staging") };
        // Another database's or environment's backup, or a manifest without its dump, does not stand in for it.
        Assert.True(Retention.IsLastWhole(only, all));
        Assert.False(Retention.IsLastWhole(missing, all));
        Assert.False(Retention.IsLastWhole(only, [.. all, B(5)]));
    }

    [Fact]
    public void Age_rule_keeps_younger_backups()
    {
        var d = Retention.Decide([B(1), B(10), B(40)], new RetentionPolicy(OlderThan: TimeSpan.FromDays(30)), Now);
        Assert.Equal([true, true, false], d.Select(x => x.Keep));
    }

    [Fact]
    public void The_newest_verified_backup_survives_every_rule()
    {
        var d = Retention.Decide([B(1), B(40, verified: true), B(50, verified: true)], new RetentionPolicy(OlderThan: TimeSpan.FromDays(30)), Now);
        Assert.Equal([true, true, false], d.Select(x => x.Keep));
        Assert.Contains("never removed", d[1].Reason);
    }

    [Fact]
    public void Grandfather_father_son_keeps_one_per_period()
    {
        // Two backups a day for 90 days.
        var backups = Enumerable.Range(0, 180).Select(i => B(i * 0.5)).ToList();
        var d = Retention.Decide(backups, new RetentionPolicy(KeepDaily: 7, KeepWeekly: 4, KeepMonthly: 3), Now);
        var kept = d.Where(x => x.Keep).Select(x => x.Backup).ToList();
        var days = kept.Select(b => b.StartedAt.Date).Distinct().Count();
        Assert.Equal(kept.Count, days); // at most one per day
        Assert.InRange(kept.Count, 7, 14);
        Assert.Contains(kept, b => b.StartedAt == Now); // newest
        Assert.All(kept.Where(b => (Now - b.StartedAt).TotalDays < 7), b => Assert.True(b.StartedAt.TimeOfDay == Now.TimeOfDay, "newest of each day"));
        Assert.Contains(d, x => x.Keep && x.Reason.StartsWith("newest of month"));
    }

    [Fact]
    public void Rules_given_for_a_run_replace_the_configured_ones_and_none_falls_back_to_them()
    {
        var given = new RetentionPolicy(KeepLast: 2);
        Assert.Same(given, given.OrConfigured(30, 10));
        Assert.Equal(new RetentionPolicy(TimeSpan.FromDays(30), 10), new RetentionPolicy().OrConfigured(30, 10));
        Assert.Equal(new RetentionPolicy(KeepLast: 7), new RetentionPolicy().OrConfigured(null, 7));
        Assert.True(new RetentionPolicy().OrConfigured(null, null).IsEmpty);
    }

    [Fact]
    public void A_dated_location_takes_the_utc_day()
    {
        var justBeforeMidnightInNewYork = new DateTimeOffset(2026, 11, 29, 23, 30, 0, TimeSpan.FromHours(-5));
        Assert.Equal("s3://formula-pm-backup/files/20261130/", BackupLocation.Dated("s3://formula-pm-backup/files/{date}/", justBeforeMidnightInNewYork).Root);
        Assert.Equal("s3://b/plain/", BackupLocation.Dated("s3://b/plain/", justBeforeMidnightInNewYork).Root);
    }

    [Fact]
    public void Keep_last_and_no_rule()
    {
        Assert.Equal([true, true, false], Retention.Decide([B(1), B(2), B(3)], new RetentionPolicy(KeepLast: 2), Now).Select(x => x.Keep));
        Assert.Throws<ArgumentException>(() => Retention.Decide([B(1)], new RetentionPolicy(), Now));
    }
}
