using OpsRunbook.Engine.Reporting;
using System.Security.Cryptography;
using Npgsql;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>Backups against the real PostgreSQL and s3rver.</summary>
public class BackupTests(TestServers servers) : BackupTestBase(servers)
{
    internal BackupLocation S3Location() => new($"s3://{Servers["OPSRUNBOOK_S3_BUCKET"]}/tests/{Guid.NewGuid():N}/");

    internal BackupRequest Request(params BackupLocation[] destinations) => new()
    {
        Connection = SecretValue.Parse(_db.Url(_database)),
        Destinations = destinations,
        System = "sandbox",
    };

    [Fact]
    public async Task Backs_up_to_local_and_s3_at_once_with_a_manifest_that_matches_the_bytes()
    {
        var table = "bk_" + Guid.NewGuid().ToString("N")[..8];
        await using (var app = await _db.AppAsync(database: _database))
        {
            await Db.ExecAsync(app, $"CREATE TABLE {table} (id int PRIMARY KEY, v text); INSERT INTO {table} SELECT g, md5(g::text) FROM generate_series(1, 1234) g;");
        }
        try
        {
            var s3 = S3Location();
            var statuses = new StatusRecorder();
            var info = await BackupRunner.RunAsync(Request(new BackupLocation(_local), s3), Context(S3(), progress: statuses));
            Assert.True(info.Status == BackupStatus.Succeeded, info.Error);
            Assert.Matches(@"sandbox/test/t_[0-9a-f]{12}/\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}\.dump$", info.BackupUri.Replace('\\', '/'));
            Assert.Equal(2, info.Destinations.Count);
            var bytes = await File.ReadAllBytesAsync(info.BackupUri, Ct);
            Assert.Equal(info.SizeBytes, bytes.Length);
            Assert.Equal(info.Sha256, Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());
            Assert.StartsWith("PGDMP", System.Text.Encoding.ASCII.GetString(bytes, 0, 5));
            var manifest = BackupManifest.Parse(await File.ReadAllBytesAsync(info.ManifestUri!, Ct), info.ManifestUri!);
            Assert.Equal(1234, manifest.Tables.Single(t => t.Name == table).Rows);
            // What -Verbose and the progress bar show, phase by phase; details for -Debug; never the password.
            Assert.Equal(["Snapshot", "Dump", "Store", "Manifest"], statuses.Where(x => !x.IsDebug).Select(x => x.Phase).Distinct());
            Assert.Contains(statuses, x => x is { Phase: "Dump", IsDebug: false } && x.Status.Contains("MiB written to 2 destination(s)", StringComparison.Ordinal));
            Assert.Contains(statuses, x => x.IsDebug && x.Status.Contains("--snapshot=", StringComparison.Ordinal));
            Assert.DoesNotContain(statuses, x => x.Status.Contains(Servers["OPSRUNBOOK_PG_PASSWORD"], StringComparison.Ordinal));
            Assert.Equal("custom", manifest.Format);
            Assert.StartsWith("pg_dump (PostgreSQL) 15", manifest.PgDumpVersion);
            Assert.False(Directory.EnumerateFiles(_local, "*.partial", SearchOption.AllDirectories).Any());

            using var store = await BackupStores.OpenAsync(s3, Context(S3()));
            var key = info.Destinations[1][s3.Root.Length..];
            await using var remote = await store.OpenReadAsync(key, Ct);
            using var copy = new MemoryStream();
            await remote.CopyToAsync(copy, Ct);
            Assert.Equal(bytes, copy.ToArray());
            Assert.True(await store.ExistsAsync(BackupManifest.KeyFor(key), Ct));
        }
        finally
        {
            await using var app = await _db.AppAsync(database: _database);
            await Db.ExecAsync(app, $"DROP TABLE {table}");
        }
    }

    [Theory]
    [InlineData(BackupCompression.Gzip, ".sql.gz")]
    [InlineData(BackupCompression.Zstd, ".sql.zst")]
    public async Task Plain_dumps_compress_with_gzip_or_zstd(BackupCompression compression, string extension)
    {
        var request = Request(new BackupLocation(_local));
        var info = await BackupRunner.RunAsync(new BackupRequest
        {
            Connection = request.Connection, Destinations = request.Destinations, System = "s",
            Format = BackupFormat.Plain, Compression = compression, CountRows = false,
        }, Context(environment: "e"));
        Assert.True(info.Status == BackupStatus.Succeeded, info.Error);
        Assert.EndsWith(extension, info.BackupUri);
        var bytes = await File.ReadAllBytesAsync(info.BackupUri, Ct);
        Assert.Equal(info.Sha256, Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant());
        if (compression == BackupCompression.Gzip) Assert.Equal([0x1f, 0x8b], bytes[..2]);
        else Assert.Equal([0x28, 0xb5, 0x2f, 0xfd], bytes[..4]);
    }
}
