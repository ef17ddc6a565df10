using System.Globalization;
using System.Text.RegularExpressions;
using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Metrics;

/// <summary>One package with a newer version available.</summary>
public sealed record PendingPackage(string Name, string? InstalledVersion, string CandidateVersion, IReadOnlyList<string> Origins, string? Architecture)
{
    /// <summary>Whether the new version comes from a security archive (Debian-Security, Ubuntu's -security pockets).</summary>
    public bool IsSecurity => Origins.Any(o => o.Contains("-security", StringComparison.OrdinalIgnoreCase) || o.StartsWith("Debian-Security", StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Runbook 001's weekly security updates, read without changing anything: the packages apt would upgrade (a simulated
/// dist-upgrade against the package lists as last refreshed), which of them are security updates, and whether the host
/// waits for a reboot (/var/run/reboot-required, and the packages that asked for it).
/// </summary>
public sealed partial class HostUpdateReport : IReportable
{
    /// <summary>The host.</summary>
    public required string ComputerName { get; init; }
    /// <summary>Packages with a newer version.</summary>
    public IReadOnlyList<PendingPackage> Packages { get; init; } = [];
    /// <summary>How many packages have a newer version.</summary>
    public int Pending => Packages.Count;
    /// <summary>How many of them are security updates.</summary>
    public int Security => Packages.Count(p => p.IsSecurity);
    /// <summary>Whether the host waits for a reboot to finish earlier updates.</summary>
    public bool RebootRequired { get; init; }
    /// <summary>The packages that asked for the reboot.</summary>
    public IReadOnlyList<string> RebootRequiredBy { get; init; } = [];
    /// <summary>When the package lists were last refreshed (apt-get update), if known: pending updates are as of then.</summary>
    public DateTimeOffset? ListsUpdatedAt { get; init; }
    /// <summary>When it was read.</summary>
    public DateTimeOffset CheckedAt { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{ComputerName}: {Pending} pending, {Security} security{(RebootRequired ? ", reboot required" : "")}";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Security > 0 || RebootRequired ? ReportOutcome.Warn : ReportOutcome.Pass;
        var status = outcome == ReportOutcome.Warn ? "Warning" : "Normal";
        var message = Security > 0 ? $"{Security} security updates pending ({string.Join(", ", Packages.Where(p => p.IsSecurity).Take(10).Select(p => p.Name))}{(Security > 10 ? ", ..." : "")})"
            : Pending > 0 ? $"{Pending} updates pending, none for security" : "up to date";
        if (RebootRequired) message += $"; reboot required{(RebootRequiredBy.Count > 0 ? $" by {string.Join(", ", RebootRequiredBy)}" : "")}";
        yield return new ReportRow("Host updates", ComputerName, outcome, status, null, message,
            new KeyValuePair<string, string>[] { new("Pending", Pending.ToString(CultureInfo.InvariantCulture)), new("Security", Security.ToString(CultureInfo.InvariantCulture)),
             new("Reboot", RebootRequired ? "required" : "no") },
            CheckedAt);
    }

    // apt-get -s: "Inst NAME [INSTALLED] (CANDIDATE ORIGIN:VERSION/SUITE[, ORIGIN:VERSION/SUITE...] [ARCH]) [...]"
    [GeneratedRegex(@"^Inst (?<name>\S+)(?: \[(?<installed>[^\]]*)\])? \((?<candidate>\S+) (?<origins>.*?) \[(?<arch>[^\]]+)\]\)", RegexOptions.Multiline)]
    private static partial Regex InstLine();

    /// <summary>The packages of a simulated upgrade's output (apt-get -s dist-upgrade).</summary>
    public static IReadOnlyList<PendingPackage> ParseSimulation(string output) =>
        InstLine().Matches(output).Select(m => new PendingPackage(
            m.Groups["name"].Value,
            m.Groups["installed"].Success ? m.Groups["installed"].Value : null,
            m.Groups["candidate"].Value,
            m.Groups["origins"].Value.Split(", ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            m.Groups["arch"].Value)).ToList();

    /// <summary>
    /// Reads this host: `apt-get -s -o Debug::NoLocking=1 dist-upgrade` (a simulation: no root, no lock, nothing
    /// changed), <paramref name="root"/>/var/run/reboot-required(.pkgs) and the package lists' age.
    /// </summary>
    public static async Task<HostUpdateReport> ReadAsync(CancellationToken cancellationToken, string aptGet = "apt-get", string root = "/")
    {
        (int code, string stdout, string stderr) run;
        try
        {
            run = await CliProcess.RunAsync(aptGet, new string[] { "-s", "-o", "Debug::NoLocking=1", "dist-upgrade" }, cancellationToken,
                new Dictionary<string, string> { ["LC_ALL"] = "C" }).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            throw new HostResourceUnavailableException("pending updates are read with apt (Debian, Ubuntu); this host has no apt-get");
        }
        if (run.code != 0) throw new HostResourceUnavailableException($"apt-get -s dist-upgrade failed (exit {run.code}): {run.stderr.Trim()}");
        var reboot = Path.Combine(root, "var", "run", "reboot-required");
        var by = File.Exists(reboot + ".pkgs") ? File.ReadAllLines(reboot + ".pkgs").Where(l => l.Trim().Length > 0).Distinct().ToList() : [];
        var lists = Path.Combine(root, "var", "lib", "apt", "lists");
        DateTimeOffset? updated = Directory.Exists(lists)
            ? Directory.EnumerateFiles(lists, "*Release").Select(f => (DateTimeOffset?)new DateTimeOffset(File.GetLastWriteTimeUtc(f), TimeSpan.Zero)).Max()
            : null;
        return new HostUpdateReport
        {
            ComputerName = System.Environment.MachineName,
            Packages = ParseSimulation(run.stdout),
            RebootRequired = File.Exists(reboot),
            RebootRequiredBy = by,
            ListsUpdatedAt = updated,
            CheckedAt = DateTimeOffset.UtcNow,
        };
    }
}
