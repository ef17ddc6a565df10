using System.Management.Automation;
using OpsRunbook.Engine.Tests;

namespace OpsRunbook.Runspace.Tests;

/// <summary>
/// Long operations say what they are doing (issue 12: Restore-Database, Test-DatabaseBackup -RestoreCheck and
/// Backup-StorageBucket wrote no progress; Backup-Database's had no percentage; -Verbose said little, -Debug nothing).
/// Real runspaces, real PostgreSQL; the progress stream is read as a host would see it.
/// </summary>
public class ProgressTests(TestServers servers)
{
    private static string Texts(PowerShell ps) => string.Join("\n", ps.Streams.Verbose.Select(v => v.Message).Concat(ps.Streams.Debug.Select(d => d.Message))
        .Concat(ps.Streams.Progress.Select(p => $"{p.CurrentOperation} {p.StatusDescription}")).Concat(ps.Streams.Error.Select(e => e.ToString())));

    [Fact]
    public void Backup_restore_and_restore_check_report_their_phases_and_progress()
    {
        servers.Require();
        var url = servers.Settings["OPSRUNBOOK_DATABASE_URL"];
        var password = servers.Settings["OPSRUNBOOK_PG_PASSWORD"];
        System.Environment.SetEnvironmentVariable("OPSRUNBOOK_PROGRESS_DB", url);
        var folder = Directory.CreateTempSubdirectory("opsrunbook-progress").FullName;
        var target = "progress_" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var vars = new Dictionary<string, object?> { ["Folder"] = folder, ["Target"] = target };
            using var backup = ModuleHost.RunWithStreams("""
                Import-Module $Module -ErrorAction Stop
                Backup-Database -Connection env:OPSRUNBOOK_PROGRESS_DB -Destination $Folder -Verbose -Debug
                """, vars);
            Assert.Empty(backup.Streams.Error);
            var verbose = backup.Streams.Verbose.Select(v => v.Message).ToList();
            Assert.Equal(["Snapshot", "Dump", "Store", "Manifest"], verbose.Select(v => v.Split(':')[0]).Distinct().Where(p => p is "Snapshot" or "Dump" or "Store" or "Manifest"));
            Assert.Contains(backup.Streams.Debug, d => d.Message.Contains("pg_dump --format=custom", StringComparison.Ordinal));
            Assert.Contains(backup.Streams.Progress, p => p.Activity == "Backup-Database" && p.CurrentOperation == "Dump" && p.StatusDescription.Contains("MiB written", StringComparison.Ordinal));

            using var restore = ModuleHost.RunWithStreams("""
                Import-Module $Module -ErrorAction Stop
                Get-DatabaseBackup -Destination $Folder | Restore-Database -Connection env:OPSRUNBOOK_PROGRESS_DB -TargetDatabase $Target -Confirm:$false -Verbose -Debug
                Get-DatabaseBackup -Destination $Folder | Test-DatabaseBackup -Connection env:OPSRUNBOOK_PROGRESS_DB -RestoreCheck -Verbose
                """, vars);
            Assert.Empty(restore.Streams.Error);
            var phases = restore.Streams.Verbose.Select(v => v.Message.Split(':')[0]).ToList();
            // Restore-Database: checksum, restore; Test-DatabaseBackup: checksum, restore, pg_amcheck, comparison.
            Assert.Equal(["Checksum", "Restore", "Checksum", "Restore", "AmCheck", "Compare"], phases.Where(p => p is "Checksum" or "Restore" or "AmCheck" or "Compare"));
            // The checksum pass knows its total: the bar has a percentage.
            Assert.Contains(restore.Streams.Progress, p => p.CurrentOperation == "Checksum" && p.PercentComplete is > 0 and < 100);
            Assert.Contains(restore.Streams.Progress, p => p.Activity.StartsWith("Restore-Database", StringComparison.Ordinal) && p.RecordType == System.Management.Automation.ProgressRecordType.Completed);
            Assert.Contains(restore.Streams.Debug, d => d.Message.Contains("pg_restore", StringComparison.Ordinal));

            Assert.DoesNotContain(password, Texts(backup) + Texts(restore), StringComparison.Ordinal);
        }
        finally
        {
            System.Environment.SetEnvironmentVariable("OPSRUNBOOK_PROGRESS_DB", null);
            using var c = new Npgsql.NpgsqlConnection($"Host=127.0.0.1;Port={servers.Settings["OPSRUNBOOK_PG_PORT"]};Username={servers.Settings["OPSRUNBOOK_PG_USER"]};Password={password};Database=opsrunbook");
            c.Open();
            using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE IF EXISTS \"{target}\" WITH (FORCE)", c);
            drop.ExecuteNonQuery();
            Directory.Delete(folder, true);
        }
    }
}
