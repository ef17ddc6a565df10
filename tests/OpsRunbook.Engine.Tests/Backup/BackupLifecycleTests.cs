using OpsRunbook.Engine.Reporting;
using System.Diagnostics;
using Npgsql;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Backup → verify → restore, and every way a backup can go wrong, against real PostgreSQL and s3rver.</summary>
public class BackupLifecycleTests(TestServers servers) : BackupTestBase(servers)
{
    private async Task<string> CreateTableAsync(int rows, string payload = "md5(g::text)")
    {
        var table = "lc_" + Guid.NewGuid().ToString("N")[..8];
        await using var app = await _db.AppAsync(database: _database);
        await Db.ExecAsync(app, $"CREATE TABLE {table} (id int PRIMARY KEY, v text); INSERT INTO {table} SELECT g, {payload} FROM generate_series(1, {rows}) g;");
        return table;
    }

    private async Task DropAsync(string table)
    {
        await using var app = await _db.AppAsync(database: _database);
        await Db.ExecAsync(app, $"DROP TABLE IF EXISTS {table}");
    }

    private async Task<BackupInfo> BackupAsync(BackupLocation destination, BackupFormat format = BackupFormat.Custom, BackupCompression compression = BackupCompression.Default,
        IProgress<OperationStatus>? progress = null, DateTimeOffset? now = null, AwsSettings? aws = null) =>
        await BackupRunner.RunAsync(new BackupRequest
        {
            Connection = Conn, Destinations = [destination], System = "sandbox", Format = format, Compression = compression, Now = now,
        }, Context(aws ?? S3(), progress: progress));

    private static async Task<string> ContentHashAsync(NpgsqlConnection c, string table) =>
        (string)(await new NpgsqlCommand($"SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM {table} t", c).ExecuteScalarAsync(Ct))!;

    [Fact]
    public async Task Two_backups_started_in_the_same_instant_to_the_same_s3_prefix_both_survive()
    {
        var location = new BackupLocation($"s3://{Servers["OPSRUNBOOK_S3_BUCKET"]}/same-instant-{Guid.NewGuid():N}/");
        var instant = DateTimeOffset.UtcNow;
        var both = await Task.WhenAll(BackupAsync(location, now: instant), BackupAsync(location, now: instant));
        Assert.All(both, b => Assert.Equal(BackupStatus.Succeeded, b.Status));
        Assert.NotEqual(both[0].BackupUri, both[1].BackupUri);
        using var store = await BackupStores.OpenAsync(location, Context(S3()));
        var listed = await BackupCatalog.ListAsync(store, null, null, null, Ct);
        Assert.Equal(both.Select(b => b.BackupUri).Order(), listed.Select(b => b.BackupUri).Order());
        foreach (var b in both)
        {
            var (folder, key) = BackupLocation.Split(b.BackupUri);
            using var at = await BackupStores.OpenAsync(folder, Context(S3()));
            var verified = await BackupVerifier.VerifyAsync(at, key, new BackupVerifier.VerifyOptions(false, false, null, null), Context());
            Assert.True(verified.Status == VerificationStatus.Verified, string.Join("; ", verified.Problems));
        }
    }

    [Fact]
    public async Task A_failure_after_one_destinations_manifest_leaves_no_manifest_anywhere()
    {
        // S3 gets its manifest first; the local one cannot be written (a directory stands where it goes).
        var key = $"manifest-fails/{Guid.NewGuid():N}.dump";
        Directory.CreateDirectory(Path.Combine(_local, BackupManifest.KeyFor(key)));
        var s3 = new BackupLocation($"s3://{Servers["OPSRUNBOOK_S3_BUCKET"]}/manifest-fails-{Guid.NewGuid():N}/");
        var info = await BackupRunner.RunAsync(new BackupRequest
        {
            Connection = Conn, Destinations = [s3, new BackupLocation(_local)], Key = key, CountRows = false,
        }, Context(S3()));
        Assert.Equal(BackupStatus.Failed, info.Status);
        using var store = await BackupStores.OpenAsync(s3, Context(S3()));
        Assert.Empty(await store.ListAsync("", Ct)); // neither the S3 dump nor its manifest
        Assert.False(File.Exists(Path.Combine(_local, key)));
    }

    [Fact]
    public async Task A_manifest_whose_dump_is_gone_is_listed_missing_and_never_kept_as_a_backup()
    {
        var location = new BackupLocation(Path.Combine(_local, "gone-" + Guid.NewGuid().ToString("N")));
        var older = await BackupAsync(location, now: DateTimeOffset.UtcNow.AddDays(-2));
        var newer = await BackupAsync(location, now: DateTimeOffset.UtcNow.AddDays(-1));
        File.Delete(newer.BackupUri);
        using var store = new LocalBackupStore(location);
        var listed = await BackupCatalog.ListAsync(store, null, null, null, Ct);
        var gone = Assert.Single(listed, b => b.BackupUri == newer.BackupUri);
        Assert.Equal(BackupStatus.Missing, gone.Status);
        Assert.Contains("is gone", gone.Error);
        var decisions = Retention.Decide(listed, new RetentionPolicy(null, 1, null, null, null), DateTimeOffset.UtcNow);
        Assert.True(decisions.Single(d => d.Backup.BackupUri == older.BackupUri).Keep); // the newest whole backup
        Assert.False(decisions.Single(d => d.Backup.BackupUri == newer.BackupUri).Keep);
    }

    [Fact]
    public async Task A_failed_verification_revokes_the_earlier_one_for_listing_and_retention()
    {
        var location = new BackupLocation(Path.Combine(_local, "revoked-" + Guid.NewGuid().ToString("N")));
        var proven = await BackupAsync(location, now: DateTimeOffset.UtcNow.AddDays(-2));
        var newer = await BackupAsync(location, now: DateTimeOffset.UtcNow.AddDays(-1));
        using var store = new LocalBackupStore(location);
        var key = Path.GetRelativePath(location.Root, proven.BackupUri).Replace('\\', '/');
        var first = await BackupVerifier.VerifyAsync(store, key, new BackupVerifier.VerifyOptions(true, false, null, Conn), Context());
        Assert.True(first.Status == VerificationStatus.Verified, string.Join("; ", first.Problems));
        Assert.NotNull((await BackupCatalog.ListAsync(store, null, null, null, Ct)).Single(b => b.BackupUri == proven.BackupUri).VerifiedAt);

        // One flipped byte, then a checksum-only verification.
        var bytes = await File.ReadAllBytesAsync(proven.BackupUri, Ct);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(proven.BackupUri, bytes, Ct);
        var second = await BackupVerifier.VerifyAsync(store, key, new BackupVerifier.VerifyOptions(false, false, null, null), Context());
        Assert.Equal(VerificationStatus.Failed, second.Status);

        var listed = await BackupCatalog.ListAsync(store, null, null, null, Ct);
        var corrupt = listed.Single(b => b.BackupUri == proven.BackupUri);
        Assert.Null(corrupt.VerifiedAt);
        Assert.NotNull(corrupt.VerificationFailedAt);
        var decisions = Retention.Decide(listed, new RetentionPolicy(null, 1, null, null, null), DateTimeOffset.UtcNow);
        Assert.False(decisions.Single(d => d.Backup.BackupUri == proven.BackupUri).Keep); // no longer "the newest verified"
        Assert.True(decisions.Single(d => d.Backup.BackupUri == newer.BackupUri).Keep);
    }

    [Fact]
    public async Task Stopping_a_restore_that_replaces_a_database_leaves_the_old_one_whole()
    {
        var table = await CreateTableAsync(300_000, "md5(random()::text) || md5(random()::text)");
        var target = "keep_" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var info = await BackupAsync(new BackupLocation(_local));
            await using (var admin = await _db.SuperuserAsync(database: "postgres")) await Db.ExecAsync(admin, $"CREATE DATABASE {target} OWNER opsrunbook");
            await using (var old = await _db.AppAsync(database: target)) await Db.ExecAsync(old, "CREATE TABLE keepme (x int); INSERT INTO keepme VALUES (42)");
            var plan = await RestoreRunner.PlanAsync(info.BackupUri, target, Conn, Context());
            Assert.True(plan.TargetExists);

            // Stop it (as Ctrl+C does) as soon as the restore has begun.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var watcher = Task.Run(async () =>
            {
                await using var admin = await _db.SuperuserAsync(database: "postgres");
                while (!stop.IsCancellationRequested)
                {
                    if (await new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname LIKE '{target}_restoring_%'", admin).ExecuteScalarAsync(Ct) is not null) stop.Cancel();
                    else await Task.Delay(20, Ct);
                }
            }, Ct);
            try
            {
                var result = await RestoreRunner.RunAsync(plan, replace: true, jobs: 1, Conn, Context(ct: stop.Token));
                Assert.NotEqual(RestoreStatus.Succeeded, result.Status);
            }
            catch (OperationCanceledException)
            {
                // what a stop looks like
            }
            await watcher;

            await using (var old = await _db.AppAsync(database: target))
            {
                Assert.Equal(42, await new NpgsqlCommand("SELECT x FROM keepme", old).ExecuteScalarAsync(Ct));
            }
            await using (var admin = await _db.SuperuserAsync(database: "postgres"))
            {
                Assert.Null(await new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname LIKE '{target}_%'", admin).ExecuteScalarAsync(Ct));
            }
        }
        finally
        {
            await using (var admin = await _db.SuperuserAsync(database: "postgres")) await Db.ExecAsync(admin, $"DROP DATABASE IF EXISTS {target} WITH (FORCE)");
            await DropAsync(table);
        }
    }

    [Fact]
    public async Task A_refused_login_names_the_database_not_the_destination()
    {
        var wrong = "Wrong-" + Guid.NewGuid().ToString("N");
        var url = $"postgres://opsrunbook:{wrong}@127.0.0.1:{Servers["OPSRUNBOOK_PG_PORT"]}/opsrunbook";
        var ex = await Assert.ThrowsAsync<OpsRunbook.Engine.Common.DescribedFailureException>(() => BackupRunner.RunAsync(new BackupRequest
        {
            Connection = SecretValue.Parse(url), Destinations = [new BackupLocation(_local)],
        }, Context()));
        Assert.Contains($"127.0.0.1:{Servers["OPSRUNBOOK_PG_PORT"]}/opsrunbook", ex.Message);
        Assert.Contains("password authentication failed", ex.Message);
        Assert.DoesNotContain(_local, ex.Message);
        Assert.DoesNotContain(wrong, ex.Message);
        Assert.Equal(OpsRunbook.Engine.Common.FailureKind.Permission, ex.Kind);
    }

    [Fact]
    public async Task Backup_verify_restore_round_trip_is_row_for_row_equal()
    {
        var table = await CreateTableAsync(3000);
        try
        {
            var s3 = new BackupLocation($"s3://{Servers["OPSRUNBOOK_S3_BUCKET"]}/tests/{Guid.NewGuid():N}/");
            var info = await BackupAsync(s3);
            Assert.True(info.Status == BackupStatus.Succeeded, info.Error);

            using var store = await BackupStores.OpenAsync(s3, Context(S3()));
            var key = info.BackupUri[s3.Root.Length..];
            var verification = await BackupVerifier.VerifyAsync(store, key, new BackupVerifier.VerifyOptions(true, false, TimeSpan.FromMinutes(30), Conn), Context());
            Assert.True(verification.Status == VerificationStatus.Verified, string.Join("; ", verification.Problems));
            Assert.True(verification.ChecksumMatches && verification.SizeMatches && verification.ArchiveReadable && verification.Restored);
            Assert.True(verification.ArchiveEntries >= 1);
            Assert.True(verification.TablesMatched >= 1);
            Assert.True(verification.RtoMet);
            Assert.NotNull(verification.AmCheck);
            await using (var admin = await _db.SuperuserAsync(database: "postgres"))
            {
                Assert.Null(await new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{verification.ScratchDatabase}'", admin).ExecuteScalarAsync(Ct));
            }
            var listed = Assert.Single(await BackupCatalog.ListAsync(store, _database, null, null, Ct));
            Assert.NotNull(listed.VerifiedAt);

            var target = "restored_" + Guid.NewGuid().ToString("N")[..8];
            var plan = await RestoreRunner.PlanAsync(info.BackupUri, target, Conn, Context(S3()));
            Assert.False(plan.TargetExists);
            var restored = await RestoreRunner.RunAsync(plan, replace: false, jobs: 2, Conn, Context(S3()));
            Assert.True(restored.Status == RestoreStatus.Succeeded, restored.Error);
            try
            {
                await using var original = await _db.AppAsync(database: _database);
                var b = new NpgsqlConnectionStringBuilder(original.ConnectionString) { Database = target, Password = Servers["OPSRUNBOOK_PG_PASSWORD"] };
                await using var copy = new NpgsqlConnection(b.ConnectionString);
                await copy.OpenAsync(Ct);
                Assert.Equal(await ContentHashAsync(original, table), await ContentHashAsync(copy, table));

                // The target exists now: no overwrite without -Force.
                var again = await RestoreRunner.RunAsync(plan with { TargetExists = true }, replace: false, jobs: 1, Conn, Context(S3()));
                Assert.Equal(RestoreStatus.Failed, again.Status);
                Assert.Contains("exists", again.Error);
                await copy.CloseAsync();
                var replaced = await RestoreRunner.RunAsync(plan, replace: true, jobs: 1, Conn, Context(S3()));
                Assert.True(replaced.Replaced && replaced.Status == RestoreStatus.Succeeded, replaced.Error);
            }
            finally
            {
                await using var admin = await _db.SuperuserAsync(database: "postgres");
                await Db.ExecAsync(admin, $"DROP DATABASE IF EXISTS {target} WITH (FORCE)");
            }
        }
        finally
        {
            await DropAsync(table);
        }
    }

    [Fact]
    public async Task One_flipped_byte_is_caught_by_verify_and_restore_touches_nothing()
    {
        var info = await BackupAsync(new BackupLocation(_local));
        Assert.Equal(BackupStatus.Succeeded, info.Status);
        var bytes = await File.ReadAllBytesAsync(info.BackupUri, Ct);
        bytes[bytes.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(info.BackupUri, bytes, Ct);
        using var store = new LocalBackupStore(new BackupLocation(_local));
        var key = Path.GetRelativePath(_local, info.BackupUri).Replace('\\', '/');
        var verification = await BackupVerifier.VerifyAsync(store, key, new BackupVerifier.VerifyOptions(true, false, null, Conn), Context());
        Assert.Equal(VerificationStatus.Failed, verification.Status);
        Assert.False(verification.ChecksumMatches);
        Assert.True(verification.SizeMatches);
        Assert.Contains(verification.Problems, p => p.Contains("corrupt"));
        Assert.False(verification.Restored);

        var target = "never_" + Guid.NewGuid().ToString("N")[..8];
        var plan = await RestoreRunner.PlanAsync(info.BackupUri, target, Conn, Context());
        var restore = await RestoreRunner.RunAsync(plan, replace: false, jobs: 1, Conn, Context());
        Assert.Equal(RestoreStatus.Failed, restore.Status);
        Assert.Contains("nothing was restored", restore.Error);
        await using var admin = await _db.SuperuserAsync(database: "postgres");
        Assert.Null(await new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{target}'", admin).ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task A_truncated_plain_dump_is_unreadable()
    {
        var info = await BackupAsync(new BackupLocation(_local), BackupFormat.Plain, BackupCompression.Gzip);
        using var store = new LocalBackupStore(new BackupLocation(_local));
        var key = Path.GetRelativePath(_local, info.BackupUri).Replace('\\', '/');
        var good = await BackupVerifier.VerifyAsync(store, key, new BackupVerifier.VerifyOptions(true, false, null, Conn), Context());
        Assert.True(good.Status == VerificationStatus.Verified, string.Join("; ", good.Problems));
        var bytes = await File.ReadAllBytesAsync(info.BackupUri, Ct);
        await File.WriteAllBytesAsync(info.BackupUri, bytes[..(bytes.Length / 2)], Ct);
        var bad = await BackupVerifier.VerifyAsync(store, key, new BackupVerifier.VerifyOptions(false, false, null, null), Context());
        Assert.False(bad.ArchiveReadable || bad.SizeMatches);
    }

    /// <summary>Kills pg_dump on the first progress report, after checking what its process exposes.</summary>
    private sealed class KillPgDump(string password, string database) : IProgress<OperationStatus>
    {
        /// <summary>A token-like value in this process's environment, as a session with FLY_API_TOKEN set has.</summary>
        public const string Canary = "fo1_canary-token-9f3c";

        public bool Killed { get; private set; }
        public List<string> Exposed { get; } = [];
        public List<string> Seen { get; } = [];

        public void Report(OperationStatus value)
        {
            // The dump's first report: pg_dump is running (the snapshot's come before it starts).
            if (Killed || value.Phase != "Dump" || value.IsDebug) return;
            foreach (var p in Process.GetProcessesByName("pg_dump"))
            {
                string cmdline, environ;
                try
                {
                    cmdline = File.ReadAllText($"/proc/{p.Id}/cmdline");
                    environ = File.ReadAllText($"/proc/{p.Id}/environ");
                }
                catch (IOException)
                {
                    continue; // already gone
                }
                // Only a dump of this test's database: other tests run backups at the same time, and every run probes
                // pg_dump --version first (no connection, so no password file).
                Seen.Add($"{p.Id}: {cmdline.Replace('\0', ' ')}");
                if (!cmdline.Contains("--snapshot=", StringComparison.Ordinal) || !environ.Contains($"PGDATABASE={database}\0", StringComparison.Ordinal)) continue;
                if (cmdline.Contains(password, StringComparison.Ordinal)) Exposed.Add("command line");
                if (environ.Contains(password, StringComparison.Ordinal)) Exposed.Add("environment");
                if (!environ.Contains("PGPASSFILE=", StringComparison.Ordinal)) Exposed.Add("no PGPASSFILE");
                // Nothing of the session's own environment (database URLs, tokens) reaches the child.
                foreach (var variable in environ.Split('\0').Where(v => v.StartsWith("OPSRUNBOOK_", StringComparison.Ordinal) || v.Contains(Canary, StringComparison.Ordinal)))
                {
                    Exposed.Add("inherited " + variable[..variable.IndexOf('=')]);
                }
                p.Kill();
                Killed = true;
            }
        }
    }

    [Fact]
    public async Task A_killed_pg_dump_leaves_nothing_that_looks_like_a_backup_and_never_saw_the_password_in_its_arguments()
    {
        var table = await CreateTableAsync(300_000, "md5(random()::text) || md5(random()::text)");
        try
        {
            Environment.SetEnvironmentVariable("FLY_API_TOKEN_CANARY", KillPgDump.Canary);
            var killer = new KillPgDump(Servers["OPSRUNBOOK_PG_PASSWORD"], _database);
            var info = await BackupAsync(new BackupLocation(_local), progress: killer);
            Assert.True(killer.Killed, $"no pg_dump of {_database} at the first report; saw: {string.Join("; ", killer.Seen)}; result {info.Status} {info.Error}");
            Assert.True(killer.Exposed.Count == 0, string.Join("; ", killer.Exposed));
            Assert.Equal(BackupStatus.Failed, info.Status);
            Assert.Contains("pg_dump", info.Error);
            Assert.Null(info.ManifestUri);
            Assert.Empty(Directory.EnumerateFiles(_local, "*", SearchOption.AllDirectories));
        }
        finally
        {
            await DropAsync(table);
        }
    }

    [Fact]
    public async Task A_failure_while_rows_are_still_being_counted_is_a_failed_result_not_an_exception()
    {
        // The exact row counts run on the snapshot connection beside pg_dump. Here they are held by a slow query when
        // pg_dump is killed: disposing the connection under that query threw out of RunAsync ("another read operation is
        // pending") instead of returning the Failed result.
        var table = await CreateTableAsync(300_000, "md5(random()::text) || md5(random()::text)");
        try
        {
            var killer = new KillPgDump(Servers["OPSRUNBOOK_PG_PASSWORD"], _database);
            var info = await BackupRunner.RunAsync(new BackupRequest
            {
                Connection = Conn, Destinations = [new BackupLocation(_local)],
                BeforeCountingRows = async (c, ct) =>
                {
                    await using var slow = new NpgsqlCommand("SELECT pg_sleep(60)", c);
                    await slow.ExecuteNonQueryAsync(ct);
                },
            }, Context(progress: killer));
            Assert.True(killer.Killed, string.Join("; ", killer.Seen));
            Assert.Equal(BackupStatus.Failed, info.Status);
            Assert.Empty(Directory.EnumerateFiles(_local, "*", SearchOption.AllDirectories));
        }
        finally
        {
            await DropAsync(table);
        }
    }

    [Fact]
    public async Task S3_failing_mid_upload_leaves_no_object_and_no_manifest()
    {
        var table = await CreateTableAsync(300_000, "md5(random()::text) || md5(random()::text)");
        try
        {
            await using var s3 = await FailingS3.StartAsync();
            var info = await BackupRunner.RunAsync(new BackupRequest
            {
                Connection = Conn, Destinations = [new BackupLocation(_local), new BackupLocation("s3://bucket/backups/")],
                Compression = BackupCompression.None, CountRows = false,
            }, Context(S3(s3.Endpoint)));
            Assert.Equal(BackupStatus.Failed, info.Status);
            Assert.Contains("AccessDenied", info.Error);
            Assert.Contains(s3.Log, l => l.EndsWith("part 1"));
            Assert.DoesNotContain(s3.Log, l => l.StartsWith("POST") && l.EndsWith("uploadId")); // never completed
            Assert.DoesNotContain(s3.Log, l => l.Contains(".manifest.json"));
            Assert.Contains(s3.Log, l => l.StartsWith("DELETE") && l.EndsWith("uploadId")); // aborted
            Assert.Empty(Directory.EnumerateFiles(_local, "*", SearchOption.AllDirectories));
        }
        finally
        {
            await DropAsync(table);
        }
    }

    [Fact]
    public async Task A_full_disk_fails_the_backup_and_takes_the_s3_copy_with_it()
    {
        if (!File.Exists("/dev/full")) Assert.Skip("needs /dev/full (Linux) to make a real ENOSPC");
        var table = await CreateTableAsync(300_000, "md5(random()::text) || md5(random()::text)");
        try
        {
            // The local dump is written to KEY.partial: pointed at /dev/full, every write fails with ENOSPC, as on a full disk.
            var key = $"full/{Guid.NewGuid():N}.dump";
            Directory.CreateDirectory(Path.Combine(_local, "full"));
            File.CreateSymbolicLink(Path.Combine(_local, key + ".partial"), "/dev/full");
            var s3 = new BackupLocation($"s3://{Servers["OPSRUNBOOK_S3_BUCKET"]}/diskfull/{Guid.NewGuid():N}/");
            var info = await BackupRunner.RunAsync(new BackupRequest
            {
                Connection = Conn, Destinations = [s3, new BackupLocation(_local)], Key = key,
            }, Context(S3()));
            Assert.Equal(BackupStatus.Failed, info.Status);
            Assert.StartsWith($"writing {Path.Combine(_local, key)} failed: No space left on device", info.Error);
            Assert.Null(info.ManifestUri);
            // Nothing local (the .partial is gone) and nothing in S3: no dump, no manifest.
            Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_local, "full")));
            using var store = await BackupStores.OpenAsync(s3, Context(S3()));
            Assert.Empty(await store.ListAsync("", Ct));
        }
        finally
        {
            await DropAsync(table);
        }
    }

    [Fact]
    public async Task A_destination_that_cannot_be_created_is_a_failed_backup_naming_it()
    {
        // A file where the backup directory should be: the store cannot even begin.
        var blocked = Path.Combine(_local, "blocked");
        await File.WriteAllTextAsync(blocked, "not a directory", Ct);
        var info = await BackupAsync(new BackupLocation(blocked));
        Assert.Equal(BackupStatus.Failed, info.Status);
        Assert.StartsWith($"writing {blocked}{Path.DirectorySeparatorChar}", info.Error);
        Assert.Null(info.ManifestUri);
        Assert.Equal([blocked], Directory.EnumerateFileSystemEntries(_local));
    }

    [Fact]
    public async Task Backups_list_newest_first_and_retention_removes_the_right_ones()
    {
        var location = new BackupLocation(_local);
        var t0 = new DateTimeOffset(2026, 11, 1, 2, 0, 0, TimeSpan.Zero);
        var made = new List<BackupInfo>();
        foreach (var day in new[] { 0, 1, 2 }) made.Add(await BackupAsync(location, now: t0.AddDays(day)));
        using var store = new LocalBackupStore(location);
        var listed = await BackupCatalog.ListAsync(store, null, null, null, Ct);
        Assert.Equal(made.Select(m => m.BackupUri).Reverse(), listed.Select(l => l.BackupUri));
        Assert.Empty(await BackupCatalog.ListAsync(store, "other", null, null, Ct));
        Assert.Single(await BackupCatalog.ListAsync(store, null, t0.AddDays(1.5), null, Ct));

        var decisions = Retention.Decide(listed, new RetentionPolicy(KeepLast: 1), t0.AddDays(10));
        var remove = decisions.Where(d => !d.Keep).ToList();
        Assert.Equal(2, remove.Count);
        foreach (var d in remove) await BackupCatalog.DeleteAsync(store, Path.GetRelativePath(_local, d.Backup.BackupUri).Replace('\\', '/'), Ct);
        Assert.Equal([made[2].BackupUri], (await BackupCatalog.ListAsync(store, null, null, null, Ct)).Select(b => b.BackupUri));
        Assert.Equal(2, Directory.EnumerateFiles(_local, "*", SearchOption.AllDirectories).Count()); // dump + manifest
    }

    [Fact]
    public async Task Bucket_sync_copies_server_side_and_skips_what_is_unchanged()
    {
        var bucket = Servers["OPSRUNBOOK_S3_BUCKET"];
        var run = Guid.NewGuid().ToString("N");
        var source = new BackupLocation($"s3://{bucket}/app-{run}/");
        var destination = new BackupLocation($"s3://{bucket}/files-{run}/20261122/");
        using (var store = await BackupStores.OpenAsync(source, Context(S3())))
        {
            foreach (var i in Enumerable.Range(0, 5)) await store.PutAsync($"uploads/{i}.txt", System.Text.Encoding.UTF8.GetBytes($"file {i}"), Ct);
        }
        var first = await StorageSync.SyncAsync(source, destination, 4, Context(S3()));
        Assert.True(first.Failed == 0, string.Join("\n", first.Errors));
        Assert.Equal((5, 0, 0), (first.Copied, first.Skipped, first.Failed));
        Assert.Equal(5 * 6, first.BytesCopied);
        var second = await StorageSync.SyncAsync(source, destination, 4, Context(S3()));
        Assert.Equal((0, 5), (second.Copied, second.Skipped));
        using var target = await BackupStores.OpenAsync(destination, Context(S3()));
        Assert.Equal(5, (await target.ListAsync(".txt", Ct)).Count);
        // The copies hold the same bytes (no transfer framing kept as content).
        await using var copy = await target.OpenReadAsync("uploads/3.txt", Ct);
        Assert.Equal("file 3", await new StreamReader(copy).ReadToEndAsync(Ct));
    }
}
