using System.Text.Json;
using System.Text.Json.Serialization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Backup;

/// <summary>One table in a manifest: its row estimate and, when counted, its exact rows in the dump's snapshot.</summary>
public sealed record BackupTable(string Schema, string Name, long RowEstimate, long? Rows);

/// <summary>What a backup is, written beside it only after the dump completed: the proof a backup is whole.</summary>
public sealed class BackupManifest
{
    /// <summary>Manifest format version.</summary>
    public int FormatVersion { get; init; } = 1;
    /// <summary>OpsRunbook version that wrote it.</summary>
    public string OpsRunbookVersion { get; init; } = typeof(BackupManifest).Assembly.GetName().Version?.ToString(3) ?? "0";
    /// <summary>System name.</summary>
    public string? System { get; init; }
    /// <summary>Environment name.</summary>
    public string? Environment { get; init; }
    /// <summary>Database name.</summary>
    public required string Database { get; init; }
    /// <summary>server_version.</summary>
    public required string ServerVersion { get; init; }
    /// <summary>pg_dump --version.</summary>
    public required string PgDumpVersion { get; init; }
    /// <summary>custom or plain.</summary>
    public required string Format { get; init; }
    /// <summary>pg_dump (custom format's own), gzip, zstd or none.</summary>
    public required string Compression { get; init; }
    /// <summary>The dump's file name (beside the manifest).</summary>
    public required string File { get; init; }
    /// <summary>Bytes stored.</summary>
    public long SizeBytes { get; init; }
    /// <summary>SHA-256 of the stored bytes, lower-case hex.</summary>
    public required string Sha256 { get; init; }
    /// <summary>When pg_dump started.</summary>
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>When the last byte was stored.</summary>
    public DateTimeOffset CompletedAt { get; init; }
    /// <summary>Duration in seconds.</summary>
    public double DurationSeconds { get; init; }
    /// <summary>Tables with row estimates and counts.</summary>
    public IReadOnlyList<BackupTable> Tables { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The manifest as JSON.</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a manifest; a malformed one is a <see cref="BackupManifestException"/> naming the file.</summary>
    public static BackupManifest Parse(ReadOnlySpan<byte> json, string where)
    {
        try
        {
            return JsonSerializer.Deserialize<BackupManifest>(json, Json) ?? throw new BackupManifestException($"{where}: empty manifest");
        }
        catch (JsonException ex)
        {
            throw new BackupManifestException($"{where}: not a backup manifest ({ex.Message})", ex);
        }
    }

    /// <summary>The manifest key for a dump key.</summary>
    public static string KeyFor(string dumpKey) => dumpKey + ".manifest.json";
}

/// <summary>A backup: what Backup-Database returns and Get-DatabaseBackup lists; pipes into Test-DatabaseBackup and Restore-Database.</summary>
public sealed class BackupInfo : IReportable
{
    /// <summary>The dump's URI (s3://... or a path); binds -BackupUri downstream.</summary>
    public required string BackupUri { get; init; }
    /// <summary>The manifest's URI (null when the backup failed: failed backups have none).</summary>
    public string? ManifestUri { get; init; }
    /// <summary>Every destination the dump was stored in.</summary>
    public IReadOnlyList<string> Destinations { get; init; } = [];
    /// <summary>The environment.</summary>
    public string? Environment { get; init; }
    /// <summary>The database.</summary>
    public required string Database { get; init; }
    /// <summary>Succeeded or Failed.</summary>
    public required BackupStatus Status { get; init; }
    /// <summary>Why it failed (pg_dump's stderr tail, the store's error).</summary>
    public string? Error { get; init; }
    /// <summary>Bytes stored.</summary>
    public long SizeBytes { get; init; }
    /// <summary>SHA-256 of the stored bytes.</summary>
    public string? Sha256 { get; init; }
    /// <summary>When it started.</summary>
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; init; }
    /// <summary>The manifest (null for failed backups).</summary>
    public BackupManifest? Manifest { get; init; }
    /// <summary>When a restore check last proved it (from its .verified.json marker), if ever.</summary>
    public DateTimeOffset? VerifiedAt { get; init; }
    /// <summary>When its latest verification failed (which revokes any earlier success), if it did.</summary>
    public DateTimeOffset? VerificationFailedAt { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Status} {BackupUri}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Backups", BackupUri, Status == BackupStatus.Succeeded ? ReportOutcome.Pass : ReportOutcome.Fail, Status.ToString(), Environment,
            Error ?? $"{Database}: {SizeBytes} bytes in {Duration.TotalSeconds:0.#} s, sha256 {Sha256?[..12]}",
            new KeyValuePair<string, string>[] { new("Database", Database), new("Bytes", SizeBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)) }, StartedAt, Duration.TotalMilliseconds);
    }

    /// <summary>From a manifest found in a store, with the latest verification recorded beside it.</summary>
    /// <remarks>
    /// A manifest whose dump is gone is listed as Missing (never Succeeded, never verified): only its manifest remains.
    /// A failed latest verification leaves it unverified, with when it failed.
    /// </remarks>
    public static BackupInfo FromManifest(BackupManifest m, BackupLocation location, string dumpKey, BackupCatalog.LatestVerification? latest, bool dumpPresent = true) => new()
    {
        BackupUri = location.UriOf(dumpKey),
        ManifestUri = location.UriOf(BackupManifest.KeyFor(dumpKey)),
        Destinations = new string[] { location.UriOf(dumpKey) },
        Environment = m.Environment,
        Database = m.Database,
        Status = dumpPresent ? BackupStatus.Succeeded : BackupStatus.Missing,
        Error = !dumpPresent ? $"the dump {location.UriOf(dumpKey)} is gone; only its manifest remains"
            : latest?.FailedAt is { } failed ? $"its latest verification failed at {failed:u}" : null,
        SizeBytes = m.SizeBytes,
        Sha256 = m.Sha256,
        StartedAt = m.StartedAt,
        Duration = TimeSpan.FromSeconds(m.DurationSeconds),
        Manifest = m,
        VerifiedAt = dumpPresent ? latest?.VerifiedAt : null,
        VerificationFailedAt = latest?.FailedAt,
    };
}

/// <summary>A manifest that is not one: the backup it describes cannot be trusted or restored by OpsRunbook.</summary>
public sealed class BackupManifestException(string message, Exception? inner = null) : FormatException(message, inner);
