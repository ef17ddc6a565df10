using System.Diagnostics;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Clients.Postgres;

/// <summary>A PostgreSQL client program and its major version.</summary>
public sealed record PgTool(string Name, string Path, int Major, string VersionText);

/// <summary>
/// Finds pg_dump, pg_restore, pg_amcheck and pgbench whose major version is at least the server's (an older pg_dump refuses a
/// newer server), searching PATH and the usual versioned install folders of Debian/Ubuntu, RHEL, Homebrew and Windows.
/// </summary>
public static partial class PgTools
{
    /// <summary>The folders searched besides PATH, highest version first.</summary>
    public static IEnumerable<string> CandidateFolders()
    {
        var folders = new List<string>();
        folders.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        foreach (var pattern in new[] { "/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin", "/usr/local/opt/postgresql@*/bin",
                     @"C:\Program Files\PostgreSQL\*\bin" })
        {
            var star = pattern.IndexOf('*');
            var parent = System.IO.Path.GetDirectoryName(pattern[..star]) ?? "";
            if (!Directory.Exists(parent)) continue;
            var prefix = System.IO.Path.GetFileName(pattern[..star]);
            var suffix = pattern[(star + 1)..];
            folders.AddRange(Directory.GetDirectories(parent, prefix + "*")
                .Select(d => d + suffix)
                .Where(Directory.Exists)
                .OrderByDescending(d => VersionIn(d)));
        }
        return folders.Distinct();
    }

    /// <summary>The newest <paramref name="name"/> with major version ≥ <paramref name="minimumMajor"/>, or an error naming what is needed.</summary>
    public static PgTool Find(string name, int minimumMajor)
    {
        var found = new List<PgTool>();
        var exe = OperatingSystem.IsWindows() ? name + ".exe" : name;
        foreach (var folder in CandidateFolders())
        {
            var path = System.IO.Path.Combine(folder, exe);
            if (!File.Exists(path) || found.Any(f => f.Path == path)) continue;
            if (Version(path) is { } v) found.Add(new PgTool(name, path, v.major, v.text));
        }
        var best = found.Where(f => f.Major >= minimumMajor).OrderByDescending(f => f.Major).FirstOrDefault();
        if (best is not null) return best;
        var seen = found.Count == 0 ? "none was found" : "found only " + string.Join(", ", found.Select(f => $"{f.VersionText} at {f.Path}"));
        throw new PgToolMissingException(
            $"{name} {minimumMajor} or newer is needed for a PostgreSQL {minimumMajor} server; {seen}. Install the PostgreSQL {minimumMajor} client " +
            $"(Debian/Ubuntu: apt-get install postgresql-client-{minimumMajor}; RHEL: postgresql{minimumMajor}; macOS: brew install postgresql@{minimumMajor}) or put it on PATH.");
    }

    private static (int major, string text)? Version(string path)
    {
        try
        {
            var psi = Internal.ChildEnvironment.Restrict(new ProcessStartInfo(path, new string[] { "--version" }) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            using var p = Internal.ChildProcesses.Start(psi);
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit(10_000);
            var m = VersionPattern().Match(output);
            return m.Success ? (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), output.Trim()) : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException)
        {
            return null;
        }
    }

    private static int VersionIn(string folder) => FolderVersion().Match(folder) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"\(PostgreSQL\)\s+(\d+)")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"(\d+)(?!.*\d)")]
    private static partial Regex FolderVersion();
}

/// <summary>No suitable PostgreSQL client program; the message says which version to install and how.</summary>
public sealed class PgToolMissingException(string message) : Exception(message);
