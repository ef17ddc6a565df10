using System.Diagnostics;
using OpsRunbook.Engine.Cleanup;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Stale files on a real file system: what counts (age, names, the newest kept), what is never touched (links out of
/// the root, links in it, other file systems), files held open by a real process, and removal's second look.
/// </summary>
public sealed class StaleFileTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly string _root = Directory.CreateTempSubdirectory("opsrunbook-stale-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("opsrunbook-outside-").FullName;

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    private string Write(string relative, int daysOld, int bytes = 10, string? under = null)
    {
        var path = Path.Combine(under ?? _root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[bytes]);
        File.SetLastWriteTimeUtc(path, Now.UtcDateTime.AddDays(-daysOld));
        return OpenFiles.RealPath(path);
    }

    private List<StaleFile> Find(StaleFileQuery query, List<SkippedEntry>? skipped = null) =>
        Search(_root, query, OpenFiles.Read(), Now, s => skipped?.Add(s)).ToList();

    private static IEnumerable<StaleFile> Search(string root, StaleFileQuery query, OpenFiles? open, DateTimeOffset now, Action<SkippedEntry>? skipped = null) =>
        StaleFileFinder.Find(root, query, open, now, skipped, TestContext.Current.CancellationToken);

    [Fact]
    public void Files_older_than_the_threshold_whose_names_match_are_found_oldest_first()
    {
        var old = Write("app.log", 40, 1000);
        var older = Write("app.log.1", 50);
        Write("new.log", 5);
        Write("old.txt", 40);
        var nested = Write("nginx/access.log", 31);
        var found = Find(new StaleFileQuery { OlderThan = TimeSpan.FromDays(30), Include = ["*.log", "*.log.*"] });
        Assert.Equal(new[] { old, nested, older }.Order(), found.Select(f => f.Path).Order());
        var app = found.Single(f => f.Path == old);
        Assert.Equal(1000, app.Length);
        Assert.InRange(app.Age.TotalDays, 39.9, 40.1);
        Assert.Equal(OpenFiles.RealPath(_root), app.Root);
        // Within a directory, oldest first.
        Assert.Equal([older, old], found.Where(f => Path.GetDirectoryName(f.Path) == Path.GetDirectoryName(old)).Select(f => f.Path));
        Assert.Empty(Find(new StaleFileQuery { OlderThan = TimeSpan.FromDays(30), Include = ["*.log"], Exclude = ["app*", "access*"] }));
        Assert.Equal([old], Find(new StaleFileQuery { OlderThan = TimeSpan.FromDays(30), Include = ["*.log"], MaxDepth = 0 }).Select(f => f.Path));
    }

    [Fact]
    public void The_newest_files_of_each_directory_are_kept_whatever_their_age()
    {
        // Backups stopped 40 days ago: a 30-day rule alone would empty the directory.
        var backups = Enumerable.Range(0, 5).Select(i => Write($"backups/db-{i}.sql.gz", 40 + i)).ToList();
        var other = Enumerable.Range(0, 2).Select(i => Write($"backups/other/db-{i}.sql.gz", 60 + i)).ToList();
        var found = Find(new StaleFileQuery { OlderThan = TimeSpan.FromDays(30), Include = ["*.sql.gz"], KeepLatest = 3 });
        Assert.Equal([backups[3], backups[4]], found.Where(f => f.Path.Contains("/backups/db-")).Select(f => f.Path).Order());
        Assert.DoesNotContain(found, f => f.Path.Contains("/other/"));
    }

    [Fact]
    public void Links_are_never_followed_out_of_the_root_nor_taken_for_files()
    {
        if (OperatingSystem.IsWindows()) { Assert.Skip("symbolic links need privileges on Windows"); return; }
        var precious = Write("precious.log", 100, under: _outside);
        Write("etc/passwd.log", 100, under: _outside);
        Directory.CreateSymbolicLink(Path.Combine(_root, "escape"), Path.Combine(_outside, "etc"));
        File.CreateSymbolicLink(Path.Combine(_root, "link.log"), precious);
        File.SetLastWriteTimeUtc(Path.Combine(_root, "link.log"), Now.UtcDateTime.AddDays(-100));
        var mine = Write("mine.log", 100);
        var skipped = new List<SkippedEntry>();
        var found = Find(new StaleFileQuery { OlderThan = TimeSpan.FromDays(30) }, skipped);
        Assert.Equal([mine], found.Select(f => f.Path));
        Assert.Contains(skipped, s => s.Path.EndsWith("/escape", StringComparison.Ordinal) && s.Reason.Contains("link", StringComparison.Ordinal));
        Assert.Contains(skipped, s => s.Path.EndsWith("/link.log", StringComparison.Ordinal));
    }

    [Fact]
    public void A_root_that_is_a_link_is_resolved_and_searched()
    {
        if (OperatingSystem.IsWindows()) { Assert.Skip("symbolic links need privileges on Windows"); return; }
        var file = Write("a.log", 40, under: _outside);
        var link = Path.Combine(_root, "logs");
        Directory.CreateSymbolicLink(link, _outside);
        var found = Search(link, new StaleFileQuery { OlderThan = TimeSpan.FromDays(30) }, null, Now).ToList();
        Assert.Equal([file], found.Select(f => f.Path));
        Assert.Equal(OpenFiles.RealPath(_outside), found[0].Root);
    }

    [Fact]
    public void Other_file_systems_mounted_below_the_root_are_left_alone()
    {
        if (!OperatingSystem.IsLinux()) { Assert.Skip("mount points are read from /proc/self/mountinfo"); return; }
        // /proc is its own file system below /; depth 1 keeps the walk to the top directories.
        var skipped = new List<SkippedEntry>();
        _ = Search("/", new StaleFileQuery { OlderThan = TimeSpan.FromDays(100000), MaxDepth = 1 }, null, Now, skipped.Add).ToList();
        Assert.Contains(skipped, s => s.Path == "/proc" && s.Reason.Contains("mounted", StringComparison.Ordinal));
        var crossed = new List<SkippedEntry>();
        _ = Search("/", new StaleFileQuery { OlderThan = TimeSpan.FromDays(100000), MaxDepth = 0, CrossFileSystems = true }, null, Now, crossed.Add).ToList();
        Assert.DoesNotContain(crossed, s => s.Reason.Contains("mounted", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_root_or_a_file_for_a_root_says_what_to_name()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => Search(Path.Combine(_root, "nope"), new StaleFileQuery { OlderThan = TimeSpan.Zero }, null, Now).ToList());
        Assert.Contains("does not exist", e.Message);
        var file = Write("a.log", 1);
        e = Assert.Throws<DirectoryNotFoundException>(() => Search(file, new StaleFileQuery { OlderThan = TimeSpan.Zero }, null, Now).ToList());
        Assert.Contains("-Include", e.Message);
    }

    [Fact]
    public async Task Files_a_process_holds_open_are_marked_and_never_removed()
    {
        if (!OperatingSystem.IsLinux()) { Assert.Skip("open files are read from /proc"); return; }
        var held = Write("held.log", 40, 500);
        var mapped = Write("mapped.log", 40, 500);
        var free = Write("free.log", 40, 700);
        // Another process writes to held.log (a log still being appended) and maps mapped.log, as fuser sees them.
        using var holder = Process.Start(new ProcessStartInfo("bash", ["-c", $"exec 3>>'{held}'; python3 -c 'import mmap,sys,time; f=open(sys.argv[1],\"rb\"); m=mmap.mmap(f.fileno(),0,access=mmap.ACCESS_READ); f.close(); print(\"ready\",flush=True); time.sleep(60)' '{mapped}'"]) { RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("ready", await holder.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken));
            var open = OpenFiles.Read();
            var found = Search(_root, new StaleFileQuery { OlderThan = TimeSpan.FromDays(30) }, open, Now).ToDictionary(f => f.Path);
            Assert.True(found[held].InUse);
            Assert.True(found[mapped].InUse);
            Assert.False(found[free].InUse);
            var cleanup = new StaleFileCleanup(TimeSpan.FromDays(30));
            var items = found.Values.OrderBy(f => f.Path).Select(f => cleanup.Remove(f, Now)).ToList();
            Assert.True(File.Exists(held));
            Assert.True(File.Exists(mapped));
            Assert.False(File.Exists(free));
            var result = cleanup.Result();
            Assert.Equal(1, result.Removed);
            Assert.Equal(2, result.Skipped);
            Assert.Equal(700, result.ReclaimedBytes);
            Assert.Contains(items, i => i.Name == held && i.Outcome == CleanupOutcome.Skipped && i.Reason!.Contains($"process {holder.Id}", StringComparison.Ordinal));
            var row = Assert.Single(result.ToReportRows());
            Assert.Equal(Reporting.ReportOutcome.Warn, row.Outcome);
            Assert.Contains("reclaimed 700 B", row.Message);
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void Removal_looks_again_and_skips_what_changed_since_the_search()
    {
        var changed = Write("changed.log", 40);
        var gone = Write("gone.log", 40);
        var swapped = Write("dir/swapped.log", 40);
        var fine = Write("fine.log", 40, 1234);
        var found = Search(_root, new StaleFileQuery { OlderThan = TimeSpan.FromDays(30) }, null, Now).ToDictionary(f => f.Path);
        File.AppendAllText(changed, "written again");
        File.Delete(gone);
        if (!OperatingSystem.IsWindows())
        {
            // The directory is replaced by a link to a directory outside the root holding a file of the same name.
            Write("swapped.log", 40, under: _outside);
            Directory.Delete(Path.GetDirectoryName(swapped)!, recursive: true);
            Directory.CreateSymbolicLink(Path.GetDirectoryName(swapped)!, _outside);
        }
        var cleanup = new StaleFileCleanup(TimeSpan.FromDays(30), () => OpenFiles.Read());
        var outcome = found.Values.ToDictionary(f => f.Path, f => cleanup.Remove(f, Now));
        Assert.Equal(CleanupOutcome.Skipped, outcome[changed].Outcome);
        Assert.Contains("after it was found", outcome[changed].Reason);
        Assert.Equal(CleanupOutcome.Skipped, outcome[gone].Outcome);
        Assert.Equal(CleanupOutcome.Removed, outcome[fine].Outcome);
        Assert.False(File.Exists(fine));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(CleanupOutcome.Skipped, outcome[swapped].Outcome);
            Assert.Contains("is a link now", outcome[swapped].Reason);
            Assert.True(File.Exists(Path.Combine(_outside, "swapped.log")));
        }
        Assert.Equal(1234, cleanup.Result().ReclaimedBytes);
    }

    [Fact]
    public async Task A_file_that_cannot_be_deleted_is_a_failure_with_the_reason_and_fails_a_report()
    {
        if (!OperatingSystem.IsLinux()) { Assert.Skip("uses a /proc file, which nobody may delete"); return; }
        // Even root may not unlink /proc/sys/kernel/hostname: a real refusal from the kernel, whoever runs the tests.
        var file = Search("/proc/sys/kernel", new StaleFileQuery { OlderThan = TimeSpan.Zero, Include = ["hostname"], MaxDepth = 0 }, null, DateTimeOffset.UtcNow.AddSeconds(1)).Single();
        await Task.Delay(1100, TestContext.Current.CancellationToken);
        var cleanup = new StaleFileCleanup(TimeSpan.Zero);
        var item = cleanup.Remove(file, DateTimeOffset.UtcNow);
        Assert.Equal(CleanupOutcome.Failed, item.Outcome);
        Assert.False(string.IsNullOrEmpty(item.Reason));
        Assert.True(File.Exists("/proc/sys/kernel/hostname"));
        Assert.Equal(0, cleanup.Result().ReclaimedBytes);
        Assert.Equal(Reporting.ReportOutcome.Fail, cleanup.Result().ToReportRows().Single().Outcome);
    }

    [Fact]
    public void Sizes_read_as_people_write_them()
    {
        Assert.Equal("999 B", CleanupResult.FormatBytes(999));
        Assert.Equal("1.5 KiB", CleanupResult.FormatBytes(1536));
        Assert.Equal("2.3 GiB", CleanupResult.FormatBytes(2_500_000_000));
    }
}
