using System.Diagnostics;
using System.IO.Compression;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Internal;

namespace OpsRunbook.Engine.Backup;
/// <summary>
/// The database a dump is restored into: pg_restore or psql into it, its table of contents, whether it exists, and
/// creating, dropping and swapping databases (the DBA's part of restores and restore checks).
/// </summary>
internal static class RestoreTarget
{
    /// <summary>
    /// Restores a backup into <paramref name="database"/> (created first when asked): pg_restore for custom archives
    /// (parallel with a local file), psql for plain dumps. Returns null on success, else what went wrong.
    /// </summary>
    internal static async Task<string?> RestoreIntoAsync(IBackupStore store, string dumpKey, BackupManifest manifest, NpgsqlConnectionStringBuilder builder,
        string database, bool create, int jobs, string? localFile, CancellationToken ct, List<string>? skippedExtensions = null, Task<string>? tableOfContents = null,
        IProgress<OperationStatus>? progress = null, string phase = "Restore")
    {
        if (create) await CreateDatabaseAsync(builder, database, ct).ConfigureAwait(false);
        // The rows the backup holds (counted when it was made, else the planner's estimate): the restore's 100%.
        var totalRows = manifest.Tables.Sum(t => t.Rows ?? t.RowEstimate);
        var appName = $"OpsRunbook restore {database}";
        progress?.Report(new OperationStatus(phase, $"restoring into {database} ({manifest.Format}, {(localFile is not null && jobs > 1 ? $"{jobs} jobs" : "1 job")}, {manifest.Tables.Count} tables, {totalRows:N0} rows)"));
        using var stopProgress = new CancellationTokenSource();
        var rowProgress = progress is null ? Task.CompletedTask : CopyProgress.RunAsync(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = database }, appName,
            rows => progress.Report(new OperationStatus(phase, $"{rows:N0} of {totalRows:N0} rows restored into {database}", OperationStatus.PercentOf(rows, totalRows))),
            m => progress.Report(OperationStatus.Debug(phase, m)), TimeSpan.FromSeconds(1), stopProgress.Token);
        try
        {
            return await RestoreRowsAsync(store, dumpKey, manifest, builder, database, jobs, localFile, appName, progress, phase, skippedExtensions, tableOfContents, ct).ConfigureAwait(false);
        }
        finally
        {
            await stopProgress.CancelAsync().ConfigureAwait(false);
            await rowProgress.ConfigureAwait(false);
        }
    }

    private static async Task<string?> RestoreRowsAsync(IBackupStore store, string dumpKey, BackupManifest manifest, NpgsqlConnectionStringBuilder builder, string database,
        int jobs, string? localFile, string appName, IProgress<OperationStatus>? progress, string phase, List<string>? skippedExtensions, Task<string>? tableOfContents, CancellationToken ct)
    {
        var major = MajorOf(manifest.PgDumpVersion);
        var creatable = await CreatableExtensionsAsync(builder, ct).ConfigureAwait(false);
        if (manifest.Format == "custom")
        {
            var tool = PgTools.Find("pg_restore", major);
            var args = new List<string> { "--no-owner", "--no-privileges", "--exit-on-error", "--dbname=" + database };
            // A role that is not a superuser cannot create untrusted extensions (pg_stat_statements...): leave those
            // entries out of the restore, say so, and restore and check everything else.
            var toc = await (tableOfContents ?? TableOfContentsAsync(tool, store, dumpKey, localFile, ct)).ConfigureAwait(false);
            var kept = new List<string>();
            foreach (var line in toc.Split('\n'))
            {
                var m = System.Text.RegularExpressions.Regex.Match(line, @"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)");
                if (m.Success && creatable is not null && !creatable.Contains(m.Groups[1].Value))
                {
                    skippedExtensions?.Add(m.Groups[1].Value);
                    continue;
                }
                kept.Add(line);
            }
            using var listFile = Internal.PrivateFile.Create("opsrunbook-list", System.Text.Encoding.UTF8.GetBytes(string.Join('\n', kept) + "\n"));
            args.Add("--use-list=" + listFile.Path);
            if (localFile is not null)
            {
                if (jobs > 1) args.Add("--jobs=" + jobs);
                args.Add(localFile);
            }
            progress?.Report(OperationStatus.Debug(phase, $"{tool.Path} {string.Join(' ', args)}"));
            await using var pg = PgProcess.Start(tool, args, builder, database, redirectStdin: localFile is null, applicationName: appName);
            if (localFile is null)
            {
                await using (var input = await store.OpenReadAsync(dumpKey, ct).ConfigureAwait(false))
                {
                    await BlockingIo.CopyAsync(input, pg.Process.StandardInput.BaseStream, pg.Kill, ct).ConfigureAwait(false);
                }
                pg.Process.StandardInput.Close();
            }
            var code = await pg.WaitAsync(ct).ConfigureAwait(false);
            return code == 0 ? null : $"pg_restore exited with code {pg.Process.ExitCode}: {pg.StderrTail.Trim()}";
        }
        var psql = PgTools.Find("psql", major);
        await using (var pg = PgProcess.Start(psql, new string[] { "--quiet", "--no-psqlrc", "--set=ON_ERROR_STOP=1", "--single-transaction", "--file=-", "--output=/dev/null" }, builder, database, redirectStdin: true,
            applicationName: appName))
        {
            await using (var input = localFile is null ? await store.OpenReadAsync(dumpKey, ct).ConfigureAwait(false) : File.OpenRead(localFile))
            {
                if (manifest.Compression == "zstd")
                {
                    var zstd = CliProcess.FindProgram("zstd") ?? throw new PgToolMissingException("restoring a zstd backup needs the zstd program on PATH");
                    var psi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(zstd) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true });
                    foreach (var a in new[] { "-d", "-c", "-q" }) psi.ArgumentList.Add(a);
                    using var z = Internal.ChildProcesses.Start(psi);
                    void Stop()
                    {
                        BlockingIo.Kill(z);
                        pg.Kill();
                    }
                    var pump = BlockingIo.RunAsync(() => CopySql(z.StandardOutput.BaseStream, pg.Process.StandardInput.BaseStream, creatable, skippedExtensions), Stop, ct);
                    await BlockingIo.CopyAsync(input, z.StandardInput.BaseStream, Stop, ct).ConfigureAwait(false);
                    z.StandardInput.Close();
                    await pump.ConfigureAwait(false);
                }
                else
                {
                    Stream sql = manifest.Compression == "gzip" ? new GZipStream(input, CompressionMode.Decompress) : input;
                    await BlockingIo.RunAsync(() => CopySql(sql, pg.Process.StandardInput.BaseStream, creatable, skippedExtensions), pg.Kill, ct).ConfigureAwait(false);
                }
            }
            pg.Process.StandardInput.Close();
            return await pg.WaitAsync(ct).ConfigureAwait(false) == 0 ? null : $"psql exited with code {pg.Process.ExitCode}: {pg.StderrTail.Trim()}";
        }
    }

    /// <summary>Extensions the role may create: null for a superuser (all), else the trusted ones (PostgreSQL 13+).</summary>
    private static async Task<HashSet<string>?> CreatableExtensionsAsync(NpgsqlConnectionStringBuilder builder, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using (var su = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", c))
        {
            if ((bool)(await su.ExecuteScalarAsync(ct).ConfigureAwait(false))!) return null;
        }
        var trusted = new HashSet<string>(StringComparer.Ordinal) { "plpgsql" };
        await using var cmd = new NpgsqlCommand("SELECT DISTINCT name FROM pg_available_extension_versions WHERE trusted", c);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) trusted.Add(r.GetString(0));
        return trusted;
    }

    /// <summary>Starts <c>pg_restore --list</c> of a local custom archive (read-only), or null for a plain dump.</summary>
    internal static Task<string>? StartTableOfContents(IBackupStore store, string dumpKey, BackupManifest manifest, string localFile, CancellationToken ct) =>
        manifest.Format == "custom" ? TableOfContentsAsync(PgTools.Find("pg_restore", MajorOf(manifest.PgDumpVersion)), store, dumpKey, localFile, ct) : null;

    private static async Task<string> TableOfContentsAsync(PgTool pgRestore, IBackupStore store, string dumpKey, string? localFile, CancellationToken ct)
    {
        var psi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(pgRestore.Path) { UseShellExecute = false, RedirectStandardInput = localFile is null, RedirectStandardOutput = true, RedirectStandardError = true });
        psi.ArgumentList.Add("--list");
        if (localFile is not null) psi.ArgumentList.Add(localFile);
        using var p = Internal.ChildProcesses.Start(psi);
        var output = p.StandardOutput.ReadToEndAsync(ct);
        var errors = p.StandardError.ReadToEndAsync(ct);
        if (localFile is null)
        {
            try
            {
                await using (var input = await store.OpenReadAsync(dumpKey, ct).ConfigureAwait(false))
                {
                    await BlockingIo.CopyAsync(input, p.StandardInput.BaseStream, () => BlockingIo.Kill(p), ct).ConfigureAwait(false);
                }
                p.StandardInput.Close();
            }
            catch (IOException)
            {
                // pg_restore --list stops reading once it has the table of contents: a closed pipe is expected.
            }
        }
        await p.WaitForExitAsync(ct).ConfigureAwait(false);
        return p.ExitCode == 0 ? await output.ConfigureAwait(false) : throw new BackupFailedException("pg_restore --list failed: " + (await errors.ConfigureAwait(false)).Trim());
    }

    /// <summary>Copies a plain dump to psql, leaving out CREATE/COMMENT ON EXTENSION for extensions the role cannot create.</summary>
    private static void CopySql(Stream sql, Stream psql, HashSet<string>? creatable, List<string>? skipped)
    {
        if (creatable is null)
        {
            sql.CopyTo(psql, 1 << 20);
            return;
        }
        using var reader = new StreamReader(sql, System.Text.Encoding.UTF8, false, 1 << 16);
        using var writer = new StreamWriter(psql, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, @"^(?:CREATE EXTENSION IF NOT EXISTS|COMMENT ON EXTENSION) (\S+)");
            if (m.Success && !creatable.Contains(m.Groups[1].Value))
            {
                skipped?.Add(m.Groups[1].Value);
                continue;
            }
            writer.WriteLine(line);
        }
    }

    internal static async Task<bool> DatabaseExistsAsync(NpgsqlConnectionStringBuilder builder, string database, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @n)", c);
        cmd.Parameters.AddWithValue("n", database);
        return (bool)(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    internal static async Task CreateDatabaseAsync(NpgsqlConnectionStringBuilder builder, string database, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE {Identifier.Quote(database)}", c);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    internal static async Task DropDatabaseAsync(NpgsqlConnectionStringBuilder builder, string database, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Identifier.Quote(database)} WITH (FORCE)", c);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts <paramref name="restored"/> in <paramref name="target"/>'s place: the target's sessions are ended, it is renamed
    /// aside, the restored database takes its name, and only then is the old one dropped. Both renames run in one
    /// maintenance session, seconds apart; until the first, the old database is whole.
    /// </summary>
    internal static async Task SwapDatabaseAsync(NpgsqlConnectionStringBuilder builder, string restored, string target, string aside, CancellationToken ct)
    {
        await using var c = await MaintenanceConnectionAsync(builder, ct).ConfigureAwait(false);
        async Task Exec(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.AddWithValue("target", target);
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @target AND pid <> pg_backend_pid()");
        await Exec($"ALTER DATABASE {Identifier.Quote(target)} RENAME TO {Identifier.Quote(aside)}");
        await Exec($"ALTER DATABASE {Identifier.Quote(restored)} RENAME TO {Identifier.Quote(target)}");
        await Exec($"DROP DATABASE {Identifier.Quote(aside)} WITH (FORCE)");
    }

    /// <summary>A connection for CREATE/DROP DATABASE: to the connection's own database (CREATE DATABASE cannot target the one it runs in, which is fine).</summary>
    private static async Task<NpgsqlConnection> MaintenanceConnectionAsync(NpgsqlConnectionStringBuilder builder, CancellationToken ct)
    {
        var b = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false, ApplicationName = "OpsRunbook restore" };
        var c = new NpgsqlConnection(b.ConnectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        return c;
    }

    internal static int MajorOf(string pgDumpVersion) =>
        System.Text.RegularExpressions.Regex.Match(pgDumpVersion, @"\(PostgreSQL\)\s+(\d+)") is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
}
