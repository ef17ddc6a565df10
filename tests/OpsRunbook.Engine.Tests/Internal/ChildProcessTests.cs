using System.Diagnostics;
using OpsRunbook.Engine.Internal;

namespace OpsRunbook.Engine.Tests;

/// <summary>Helper programs and their temporary files never outlive the session (issue 12; Backup.Tests.ps1 kills a real pwsh).</summary>
public class ChildProcessTests
{
    [Fact]
    public void A_private_file_has_no_name_on_disk_and_a_child_reads_it()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("the /proc descriptor name is Linux's");
            return;
        }
        using var file = PrivateFile.Create("opsrunbook-pg", "*:*:*:u:secret\n"u8.ToArray());
        Assert.StartsWith($"/proc/{Environment.ProcessId}/fd/", file.Path);
        Assert.DoesNotContain(Directory.EnumerateDirectories(Path.GetTempPath(), "opsrunbook-pg*"), d => Directory.GetLastWriteTimeUtc(d) > DateTime.UtcNow.AddMinutes(-1));
        // A child opens it by that name (as libpq opens PGPASSFILE): the kernel reopens the unlinked file.
        var psi = new ProcessStartInfo("cat", [file.Path]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var cat = ChildProcesses.Start(psi);
        Assert.Equal("*:*:*:u:secret\n", cat.StandardOutput.ReadToEnd());
        cat.WaitForExit();
        // libpq refuses a password file others can read: the mode is 600.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
    }

    [Fact]
    public void A_wrapped_child_is_the_program_itself()
    {
        // The parent-death signal itself is proven in Backup.Tests.ps1, by killing a real pwsh with SIGKILL.
        Assert.SkipUnless(ChildProcesses.DieWithParent, "needs Linux with util-linux setpriv");
        using var sleep = ChildProcesses.Start(new ProcessStartInfo("sleep", ["30"]) { UseShellExecute = false });
        try
        {
            // setpriv execs the program in place: the child is sleep itself, with PR_SET_PDEATHSIG = SIGKILL (9).
            var status = "";
            for (var i = 0; i < 50 && !status.Contains("sleep", StringComparison.Ordinal); i++)
            {
                Thread.Sleep(20);
                status = File.ReadAllText($"/proc/{sleep.Id}/comm");
            }
            Assert.Equal("sleep", status.Trim());
        }
        finally
        {
            sleep.Kill();
        }
    }

    [Fact]
    public void A_missing_program_fails_as_before()
    {
        Assert.ThrowsAny<System.ComponentModel.Win32Exception>(() => ChildProcesses.Start(new ProcessStartInfo("opsrunbook-no-such-program") { UseShellExecute = false }));
    }

    [Fact]
    public void Leftovers_of_killed_sessions_are_removed_and_nothing_else()
    {
        var temp = Directory.CreateTempSubdirectory("opsrunbook-leftovers").FullName;
        try
        {
            var old = Directory.CreateDirectory(Path.Combine(temp, "opsrunbook-pgAbC123")).FullName;
            File.WriteAllText(Path.Combine(old, "pgpass"), "*:*:*:u:p\n");
            var recent = Directory.CreateDirectory(Path.Combine(temp, "opsrunbook-restoreXyZ")).FullName;
            var servers = Directory.CreateDirectory(Path.Combine(temp, "opsrunbook-servers.Q1")).FullName;
            Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-3));
            Directory.SetLastWriteTimeUtc(servers, DateTime.UtcNow.AddHours(-3));
            Assert.Equal(1, PrivateFile.RemoveLeftovers(temp, DateTime.UtcNow.AddHours(-1)));
            Assert.False(Directory.Exists(old));
            Assert.True(Directory.Exists(recent)); // may be a running session's (another OS, or an earlier version)
            Assert.True(Directory.Exists(servers)); // not ours to touch
        }
        finally
        {
            Directory.Delete(temp, true);
        }
    }
}
