using System.Diagnostics;
using System.Security.Cryptography;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Backup;

/// <summary>What a restore would do, found without changing anything (-WhatIf).</summary>
/// <param name="FailedVerification">The backup's latest verification, when it failed: a restore from it needs the user's say-so.</param>
public sealed record RestorePlan(string BackupUri, string Database, bool TargetExists, BackupManifest Manifest, BackupCatalog.LatestVerification? FailedVerification = null);

/// <summary>
/// Restore-Database: verifies the backup's checksum before touching the target, restores into a new database by
/// default, and replaces an existing one only when told to.
/// </summary>
public static class RestoreRunner
{
    /// <summary>Reads the manifest and checks whether the target exists (read-only).</summary>
    public static async Task<RestorePlan> PlanAsync(string backupUri, string? targetDatabase, SecretValue connection, OperationContext context)
    {
        var (secrets, redactor, ct) = (context.Secrets, context.Redactor, context.Cancellation);
        var (location, key) = BackupLocation.Split(backupUri);
        using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
        var manifest = await BackupCatalog.ReadManifestAsync(store, key, ct).ConfigureAwait(false)
            ?? throw new ArgumentException($"{backupUri} has no manifest: it is not a complete OpsRunbook backup");
        var builder = await BuilderAsync(connection, secrets, redactor, ct).ConfigureAwait(false);
        var database = targetDatabase ?? $"{manifest.Database}_restored_{DateTimeOffset.UtcNow:yyyyMMddHHmmss}";
        var latest = await BackupCatalog.ReadLatestVerificationAsync(store, key, ct).ConfigureAwait(false);
        return new RestorePlan(location.UriOf(key), database, await RestoreTarget.DatabaseExistsAsync(builder, database, ct).ConfigureAwait(false), manifest,
            latest?.FailedAt is not null ? latest : null);
    }

    /// <summary>
    /// Restores. The dump is read once into a local file while its SHA-256 is checked (S3), or hashed in place (local);
    /// a mismatch stops before the target is touched. An existing target is replaced only with <paramref name="replace"/>.
    /// </summary>
    public static async Task<RestoreResult> RunAsync(RestorePlan plan, bool replace, int jobs, SecretValue connection, OperationContext context)
    {
        var (secrets, redactor, environment, progress, ct) = (context.Secrets, context.Redactor, context.Environment, context.Progress, context.Cancellation);
        var sw = Stopwatch.StartNew();
        RestoreResult Failed(string error) => new() { BackupUri = plan.BackupUri, Environment = environment, Database = plan.Database, Status = RestoreStatus.Failed, Duration = sw.Elapsed, Error = redactor.Scrub(error) };
        var (location, key) = BackupLocation.Split(plan.BackupUri);
        using var store = await BackupStores.OpenAsync(location, context).ConfigureAwait(false);
        var builder = await BuilderAsync(connection, secrets, redactor, ct).ConfigureAwait(false);
        Internal.PrivateFile? temp = null;
        try
        {
            string file;
            Task<string>? tableOfContents = null;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            if (location.IsS3)
            {
                // A private file that nothing outlives (unlinked at once on Linux): a killed session leaves no dump in /tmp.
                temp = Internal.PrivateFile.Create("opsrunbook-restore");
                progress?.Report(new OperationStatus("Download", $"{plan.BackupUri} ({plan.Manifest.SizeBytes / 1048576.0:0.0} MiB), checking its SHA-256 on the way"));
                var downloaded = new ByteProgress(progress, "Download", "downloaded", plan.Manifest.SizeBytes);
                await using (var input = await store.OpenReadAsync(key, ct).ConfigureAwait(false))
                {
                    var buffer = new byte[1 << 20];
                    int n;
                    while ((n = await input.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                        await temp.Stream.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                        downloaded.Add(n);
                    }
                }
                await temp.Stream.FlushAsync(ct).ConfigureAwait(false);
                file = temp.Path;
            }
            else
            {
                file = location.UriOf(key);
                // The archive's table of contents is read (read-only) while the checksum is computed: it is needed next.
                tableOfContents = RestoreTarget.StartTableOfContents(store, key, plan.Manifest, file, ct);
                progress?.Report(new OperationStatus("Checksum", $"{file} ({plan.Manifest.SizeBytes / 1048576.0:0.0} MiB): SHA-256 against the manifest"));
                var read = new ByteProgress(progress, "Checksum", "read", plan.Manifest.SizeBytes);
                await using var input = File.OpenRead(file);
                var buffer = new byte[1 << 20];
                int n;
                while ((n = await input.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    read.Add(n);
                }
            }
            var sha = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
            if (!string.Equals(sha, plan.Manifest.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                await IgnoreAsync(tableOfContents).ConfigureAwait(false);
                return Failed($"the backup's SHA-256 ({sha[..12]}…) does not match its manifest ({plan.Manifest.Sha256[..12]}…): it is corrupt; nothing was restored");
            }
            var exists = await RestoreTarget.DatabaseExistsAsync(builder, plan.Database, ct).ConfigureAwait(false);
            if (exists && !replace)
            {
                await IgnoreAsync(tableOfContents).ConfigureAwait(false);
                return Failed($"database {plan.Database} exists; restore into a new database, or replace it with -Force");
            }
            if (!exists)
            {
                var error = await RestoreTarget.RestoreIntoAsync(store, key, plan.Manifest, builder, plan.Database, create: true, jobs, file, ct, tableOfContents: tableOfContents, progress: progress).ConfigureAwait(false);
                return error is null
                    ? new RestoreResult { BackupUri = plan.BackupUri, Environment = environment, Database = plan.Database, Status = RestoreStatus.Succeeded, Duration = sw.Elapsed }
                    : Failed(error);
            }
            // Replacing: restore beside the old database and swap names only once the restore succeeded, so a failure,
            // a stop or a killed pg_restore at any point leaves the old database as it was.
            var suffix = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
            var staging = Shorten(plan.Database, "_restoring_" + suffix);
            var restored = false;
            try
            {
                progress?.Report(OperationStatus.Debug("Restore", $"{plan.Database} exists: restoring beside it as {staging}, then swapping the names"));
                var error = await RestoreTarget.RestoreIntoAsync(store, key, plan.Manifest, builder, staging, create: true, jobs, file, ct, tableOfContents: tableOfContents, progress: progress).ConfigureAwait(false);
                if (error is not null) return Failed($"{error}; the existing database {plan.Database} was not touched");
                progress?.Report(new OperationStatus("Swap", $"{staging} becomes {plan.Database}; the old one is dropped"));
                await RestoreTarget.SwapDatabaseAsync(builder, staging, plan.Database, Shorten(plan.Database, "_replaced_" + suffix), ct).ConfigureAwait(false);
                restored = true;
                return new RestoreResult { BackupUri = plan.BackupUri, Environment = environment, Database = plan.Database, Status = RestoreStatus.Succeeded, Replaced = true, Duration = sw.Elapsed };
            }
            finally
            {
                if (!restored) await DropQuietlyAsync(builder, staging).ConfigureAwait(false);
            }
        }
        finally
        {
            temp?.Dispose();
        }
    }

    /// <summary>A database name with a suffix, within PostgreSQL's 63 bytes.</summary>
    private static string Shorten(string name, string suffix) =>
        (System.Text.Encoding.UTF8.GetByteCount(name) + suffix.Length <= 63 ? name : name[..Math.Max(1, 63 - suffix.Length - 8)]) + suffix;

    /// <summary>Drops a half-restored staging database whatever happened (also after a stop).</summary>
    private static async Task DropQuietlyAsync(Npgsql.NpgsqlConnectionStringBuilder builder, string database)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await RestoreTarget.DropDatabaseAsync(builder, database, bounded.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // the restore's own outcome is what gets reported
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Waits for work whose result is no longer wanted (a corrupt archive may well fail to list).</summary>
    private static async Task IgnoreAsync(Task? task)
    {
        if (task is null) return;
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
    }

    private static async Task<Npgsql.NpgsqlConnectionStringBuilder> BuilderAsync(SecretValue connection, ISecretResolver secrets, SecretRedactor redactor, CancellationToken ct)
    {
        var builder = PostgresConnectionString.Parse(await connection.ResolveAsync(secrets, ct).ConfigureAwait(false));
        redactor.Add(builder.Password);
        return builder;
    }
}
