using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Tests;

/// <summary>Get-HostUpdate's engine: apt's simulated upgrade, recorded from Debian 12 and run for real on this host.</summary>
public class HostUpdateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Recorded()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "OpsRunbook.sln"))) dir = Path.GetDirectoryName(dir)!;
        return File.ReadAllText(Path.Combine(dir, "tests", "OpsRunbook.Engine.Tests", "Metrics", "Data", "apt-simulate-bookworm.txt"));
    }

    [Fact]
    public void Reads_every_package_of_a_recorded_simulation_and_knows_the_security_ones()
    {
        var text = Recorded();
        var packages = HostUpdateReport.ParseSimulation(text);
        Assert.Equal(text.Split('\n').Count(l => l.StartsWith("Inst ", StringComparison.Ordinal)), packages.Count);
        Assert.Equal(text.Split('\n').Count(l => l.StartsWith("Inst ", StringComparison.Ordinal) && l.Contains("-Security", StringComparison.OrdinalIgnoreCase)), packages.Count(p => p.IsSecurity));
        var lzma = packages.Single(p => p.Name == "liblzma5");
        Assert.Equal(("5.4.1-1", "5.4.1-1+deb12u2", "amd64", true), (lzma.InstalledVersion, lzma.CandidateVersion, lzma.Architecture, lzma.IsSecurity));
        Assert.Equal(["Debian-Security:12/oldstable-security"], lzma.Origins);
        var bash = packages.Single(p => p.Name == "bash");
        Assert.False(bash.IsSecurity);
        Assert.Equal(["Debian:12.15/oldstable"], bash.Origins);
    }

    [Fact]
    public void Reads_ubuntus_pockets_and_new_packages()
    {
        // apt's format on Ubuntu 22.04 (the same writer): a package in -updates and -security; a new dependency has no installed version.
        var packages = HostUpdateReport.ParseSimulation("""
            Inst libssl3 [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
            Inst linux-image-6.5.0-35-generic (6.5.0-35.35~22.04.1 Ubuntu:22.04/jammy-updates [amd64])
            Conf libssl3 (3.0.2-0ubuntu1.12 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
            """);
        Assert.Equal(2, packages.Count);
        Assert.True(packages[0].IsSecurity);
        Assert.Null(packages[1].InstalledVersion);
        Assert.False(packages[1].IsSecurity);
    }

    [Fact]
    public async Task Reads_this_host_without_changing_it_and_a_pending_reboot_from_its_files()
    {
        Assert.SkipWhen(!File.Exists("/usr/bin/apt-get") && !TestServers.Required, "apt-get is Debian's and Ubuntu's");
        var root = Directory.CreateTempSubdirectory("opsrunbook-root").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "var", "run"));
            File.WriteAllText(Path.Combine(root, "var", "run", "reboot-required"), "*** System restart required ***\n");
            File.WriteAllText(Path.Combine(root, "var", "run", "reboot-required.pkgs"), "linux-image-6.1.0-28-amd64\nlibc6\nlibc6\n");
            var report = await HostUpdateReport.ReadAsync(Ct, root: root);
            var (code, stdout, _) = await Internal.CliProcess.RunAsync("apt-get", ["-s", "-o", "Debug::NoLocking=1", "dist-upgrade"], Ct, new Dictionary<string, string> { ["LC_ALL"] = "C" });
            Assert.Equal(0, code);
            Assert.Equal(stdout.Split('\n').Count(l => l.StartsWith("Inst ", StringComparison.Ordinal)), report.Pending);
            Assert.True(report.RebootRequired);
            Assert.Equal(["linux-image-6.1.0-28-amd64", "libc6"], report.RebootRequiredBy);
            var row = Assert.Single(report.ToReportRows());
            Assert.Equal(ReportOutcome.Warn, row.Outcome);
            Assert.Contains("reboot required by linux-image-6.1.0-28-amd64, libc6", row.Message);
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Fact]
    public async Task A_host_without_apt_says_so()
    {
        var ex = await Assert.ThrowsAsync<HostResourceUnavailableException>(() => HostUpdateReport.ReadAsync(Ct, aptGet: "/nonexistent/apt-get"));
        Assert.Contains("this host has no apt-get", ex.Message);
    }
}
