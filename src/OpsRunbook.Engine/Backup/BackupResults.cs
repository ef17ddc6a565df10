using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Backup;

/// <summary>What became of a backup: whole, failed (nothing of it looks complete), or its dump gone though its manifest remains.</summary>
public enum BackupStatus
{
    /// <summary>The dump and its manifest are in place.</summary>
    Succeeded,
    /// <summary>The backup failed; no manifest was left for it.</summary>
    Failed,
    /// <summary>The manifest is there but the dump is not: the backup is lost.</summary>
    Missing,
}

/// <summary>What Test-DatabaseBackup concluded.</summary>
public enum VerificationStatus
{
    /// <summary>Checksum, table of contents (and with a restore check, the restore, pg_amcheck and row counts) all proved it.</summary>
    Verified,
    /// <summary>Something did not match or did not restore; Problems says what.</summary>
    Failed,
    /// <summary>There is no backup, or no dump, at that URI.</summary>
    Missing,
}

/// <summary>What became of a restore.</summary>
public enum RestoreStatus
{
    /// <summary>The database holds the backup.</summary>
    Succeeded,
    /// <summary>The restore failed; an existing target was left as it was.</summary>
    Failed,
}
/// <summary>What Test-DatabaseBackup found for one backup.</summary>
public sealed class BackupVerification : IReportable
{
    /// <summary>The backup.</summary>
    public required string BackupUri { get; init; }
    /// <summary>The environment.</summary>
    public string? Environment { get; init; }
    /// <summary>The database it is a backup of.</summary>
    public required string Database { get; init; }
    /// <summary>Verified (every check passed), Failed, or Missing (no dump at that address).</summary>
    public required VerificationStatus Status { get; init; }
    /// <summary>Whether the backup's manifest was found (a dump without one never completed).</summary>
    public bool ManifestFound { get; init; } = true;
    /// <summary>Stored size equals the manifest's.</summary>
    public bool SizeMatches { get; init; }
    /// <summary>SHA-256 of the stored bytes equals the manifest's.</summary>
    public bool ChecksumMatches { get; init; }
    /// <summary>The archive reads to its end (pg_restore --list, or the plain dump's completion line).</summary>
    public bool ArchiveReadable { get; init; }
    /// <summary>Table-data entries in the archive's table of contents.</summary>
    public int? ArchiveEntries { get; init; }
    /// <summary>Whether a restore into a scratch database was made.</summary>
    public bool Restored { get; init; }
    /// <summary>The scratch database (dropped unless kept).</summary>
    public string? ScratchDatabase { get; init; }
    /// <summary>pg_amcheck: Passed, Failed, or Skipped with why.</summary>
    public string? AmCheck { get; init; }
    /// <summary>Tables whose restored rows equal the manifest's.</summary>
    public int TablesMatched { get; init; }
    /// <summary>Tables missing or with other row counts.</summary>
    public IReadOnlyList<string> TableMismatches { get; init; } = [];
    /// <summary>The restore's duration: the measured RTO.</summary>
    public TimeSpan? RestoreDuration { get; init; }
    /// <summary>The runbook's RTO target, when known.</summary>
    public TimeSpan? RtoTarget { get; init; }
    /// <summary>Whether the measured RTO is within the target.</summary>
    public bool? RtoMet => RestoreDuration is { } d && RtoTarget is { } t ? d <= t : null;
    /// <summary>What failed, in words.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
    /// <summary>Extensions left out of the restore check: the restoring role may not create them (not a superuser, not trusted).</summary>
    public IReadOnlyList<string> SkippedExtensions { get; init; } = [];

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var rto = RestoreDuration is { } d ? $"restore {d.TotalSeconds:0.#} s" + (RtoTarget is { } t ? $" (RTO target {t.TotalMinutes:0} min: {(RtoMet == true ? "met" : "missed")})" : "") : "no restore check";
        yield return new ReportRow("Backup verification", BackupUri, Status == VerificationStatus.Verified ? RtoMet == false ? ReportOutcome.Warn : ReportOutcome.Pass : ReportOutcome.Fail,
            Status.ToString(), Environment, Problems.Count > 0 ? string.Join("; ", Problems) : $"checksum ok, {TablesMatched} tables matched, {rto}",
            new KeyValuePair<string, string>[] { new("Database", Database), new("AmCheck", AmCheck ?? "") }, DateTimeOffset.UtcNow, RestoreDuration?.TotalMilliseconds);
    }
}

/// <summary>What Restore-Database did.</summary>
public sealed class RestoreResult : IReportable
{
    /// <summary>The backup restored.</summary>
    public required string BackupUri { get; init; }
    /// <summary>The environment.</summary>
    public string? Environment { get; init; }
    /// <summary>The database restored into.</summary>
    public required string Database { get; init; }
    /// <summary>Succeeded or Failed.</summary>
    public required RestoreStatus Status { get; init; }
    /// <summary>Whether an existing database was replaced (-Force).</summary>
    public bool Replaced { get; init; }
    /// <summary>How long the restore took.</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>Why it failed.</summary>
    public string? Error { get; init; }

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Restores", $"{BackupUri} -> {Database}", Status == RestoreStatus.Succeeded ? ReportOutcome.Pass : ReportOutcome.Fail, Status.ToString(), Environment,
            Error ?? $"restored in {Duration.TotalSeconds:0.#} s", [], DateTimeOffset.UtcNow, Duration.TotalMilliseconds);
    }
}
