using System.Text.Json;

namespace OpsRunbook.Engine.Backup;
/// <summary>What a store holds: listing, finding by name, manifests, latest verifications, and deleting backups whole.</summary>
public static class BackupCatalog
{
    /// <summary>Every backup with a manifest in the store, newest first.</summary>
    public static async Task<IReadOnlyList<BackupInfo>> ListAsync(IBackupStore store, string? database, DateTimeOffset? since, DateTimeOffset? until, CancellationToken ct)
    {
        var list = new List<BackupInfo>();
        // One listing: manifests, verification markers, and the dumps themselves (a manifest alone is no backup).
        var keys = (await store.ListAsync("", ct).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        foreach (var key in keys.Where(k => k.EndsWith(".manifest.json", StringComparison.Ordinal)))
        {
            var dumpKey = key[..^".manifest.json".Length];
            BackupManifest manifest;
            await using (var s = await store.OpenReadAsync(key, ct).ConfigureAwait(false))
            {
                using var ms = new MemoryStream();
                await s.CopyToAsync(ms, ct).ConfigureAwait(false);
                manifest = BackupManifest.Parse(ms.ToArray(), store.Location.UriOf(key));
            }
            if (database is not null && !string.Equals(manifest.Database, database, StringComparison.Ordinal)) continue;
            if (since is not null && manifest.StartedAt < since) continue;
            if (until is not null && manifest.StartedAt > until) continue;
            var latest = keys.Contains(dumpKey + ".verified.json") ? await ReadLatestVerificationAsync(store, dumpKey, ct).ConfigureAwait(false) : null;
            list.Add(BackupInfo.FromManifest(manifest, store.Location, dumpKey, latest, dumpPresent: keys.Contains(dumpKey)));
        }
        return list.OrderByDescending(b => b.StartedAt).ToList();
    }

    /// <summary>What is at a dump key, for removing it by name: whether anything is (dump or manifest), the backup it is
    /// (null for a file without a manifest), and whether it is its series' last whole backup.</summary>
    public sealed record NamedBackup(bool Exists, BackupInfo? Backup, bool IsLastWhole);

    /// <summary>Looks up the backup at <paramref name="dumpKey"/> among its store's listing.</summary>
    public static async Task<NamedBackup> FindAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        var exists = await store.ExistsAsync(dumpKey, ct).ConfigureAwait(false) || await store.ExistsAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false);
        var all = await ListAsync(store, null, null, null, ct).ConfigureAwait(false);
        var backup = all.FirstOrDefault(b => string.Equals(b.BackupUri, store.Location.UriOf(dumpKey), StringComparison.Ordinal));
        return new NamedBackup(exists, backup, backup is not null && Retention.IsLastWhole(backup, all));
    }

    /// <summary>The latest verification recorded beside a backup (its .verified.json marker): a success or a failure.</summary>
    public sealed record LatestVerification(DateTimeOffset? VerifiedAt, DateTimeOffset? FailedAt, IReadOnlyList<string> Problems);

    /// <summary>Reads the backup's latest recorded verification, or null when it was never verified.</summary>
    public static async Task<LatestVerification?> ReadLatestVerificationAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        if (!await store.ExistsAsync(dumpKey + ".verified.json", ct).ConfigureAwait(false)) return null;
        await using var s = await store.OpenReadAsync(dumpKey + ".verified.json", ct).ConfigureAwait(false);
        using var doc = await JsonDocument.ParseAsync(s, cancellationToken: ct).ConfigureAwait(false);
        var root = doc.RootElement;
        return root.TryGetProperty("failedAt", out var failedAt)
            ? new LatestVerification(null, failedAt.GetDateTimeOffset(),
                root.TryGetProperty("problems", out var p) ? p.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [])
            : new LatestVerification(root.GetProperty("verifiedAt").GetDateTimeOffset(), null, []);
    }

    /// <summary>Deletes a backup: the manifest first (so a half-deleted backup never looks complete), then its marker and the dump.</summary>
    public static async Task DeleteAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        await store.DeleteAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false);
        await store.DeleteAsync(dumpKey + ".verified.json", ct).ConfigureAwait(false);
        await store.DeleteAsync(dumpKey, ct).ConfigureAwait(false);
    }

    /// <summary>The manifest of a backup URI, or null when there is none (a failed or foreign backup).</summary>
    public static async Task<BackupManifest?> ReadManifestAsync(IBackupStore store, string dumpKey, CancellationToken ct)
    {
        if (!await store.ExistsAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false)) return null;
        await using var s = await store.OpenReadAsync(BackupManifest.KeyFor(dumpKey), ct).ConfigureAwait(false);
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms, ct).ConfigureAwait(false);
        return BackupManifest.Parse(ms.ToArray(), store.Location.UriOf(BackupManifest.KeyFor(dumpKey)));
    }
}
