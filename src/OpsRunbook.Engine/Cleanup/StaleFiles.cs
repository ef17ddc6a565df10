using System.IO.Enumeration;

namespace OpsRunbook.Engine.Cleanup;

/// <summary>A file older than the cleanup's threshold, as found.</summary>
public sealed record StaleFile
{
    /// <summary>The file's full path (under <see cref="Root"/>, its directories real ones, no links).</summary>
    public required string Path { get; init; }
    /// <summary>The root it was found under (resolved).</summary>
    public required string Root { get; init; }
    /// <summary>Its size in bytes.</summary>
    public long Length { get; init; }
    /// <summary>When it was last written (UTC).</summary>
    public DateTimeOffset LastWriteTime { get; init; }
    /// <summary>How long ago that was, when it was found.</summary>
    public TimeSpan Age { get; init; }
    /// <summary>The processes holding it open (deleting it would free nothing until they close it).</summary>
    public IReadOnlyList<int> OpenedBy { get; init; } = [];
    /// <summary>Whether a process holds it open.</summary>
    public bool InUse => OpenedBy.Count > 0;

    /// <inheritdoc />
    public override string ToString() => Path;
}

/// <summary>What a search for stale files looks for.</summary>
public sealed record StaleFileQuery
{
    /// <summary>Files last written longer ago than this.</summary>
    public required TimeSpan OlderThan { get; init; }
    /// <summary>File-name wildcards (* and ?) one of which a file must match; empty for any.</summary>
    public IReadOnlyList<string> Include { get; init; } = [];
    /// <summary>File-name wildcards that leave a file out.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];
    /// <summary>In each directory, the newest this many matching files are kept whatever their age (the last backups).</summary>
    public int KeepLatest { get; init; }
    /// <summary>How deep below the root to look (0: the root's own files); null for all the way down.</summary>
    public int? MaxDepth { get; init; }
    /// <summary>Also descend into other file systems mounted below the root (find's default; -xdev is ours).</summary>
    public bool CrossFileSystems { get; init; }
}

/// <summary>Something a search passed by, and why (a link, another file system, a directory it may not read).</summary>
public sealed record SkippedEntry(string Path, string Reason);

/// <summary>
/// Runbook 001's weekly <c>find /var/log -name "*.log" -mtime +30 -delete</c> and <c>find backups/ -name "*.sql.gz"
/// -mtime +30 -delete</c>, and runbook 003's "storage full" emergency, without find's sharp edges: links are never
/// followed (a link to /etc under /var/log stays a link, and so does its target), other file systems mounted below the
/// root are left alone unless asked, the newest files of a directory can be kept whatever their age (so a backup
/// directory whose backups stopped a month ago is not emptied), and files a process holds open are marked, because
/// deleting them frees nothing.
/// </summary>
public static class StaleFileFinder
{
    /// <summary>The stale files under <paramref name="root"/>, directory by directory, oldest first within one.</summary>
    /// <param name="root">A directory (a link to one is resolved: the root is what the caller named).</param>
    /// <param name="query">What counts as stale.</param>
    /// <param name="open">The open-file table (null: not consulted).</param>
    /// <param name="now">The time ages are measured from.</param>
    /// <param name="skipped">Told about what was passed by.</param>
    /// <param name="cancellation">Stops the search.</param>
    public static IEnumerable<StaleFile> Find(string root, StaleFileQuery query, OpenFiles? open, DateTimeOffset now, Action<SkippedEntry>? skipped = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(query.KeepLatest);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException(File.Exists(root)
                ? $"'{root}' is a file; name the directory to clean (and -Include for the file names)."
                : $"The directory '{root}' does not exist.");
        }
        var real = OpenFiles.RealPath(root);
        var mounts = query.CrossFileSystems ? [] : MountPoints();
        var pending = new Stack<(string Dir, int Depth)>();
        pending.Push((real, 0));
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false, ReturnSpecialDirectories = false };
        while (pending.Count > 0)
        {
            cancellation.ThrowIfCancellationRequested();
            var (dir, depth) = pending.Pop();
            List<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options).ToList();
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                skipped?.Invoke(new SkippedEntry(dir, $"not readable: {e.Message}"));
                continue;
            }
            var files = new List<FileInfo>();
            foreach (var entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                if (entry.LinkTarget is not null)
                {
                    skipped?.Invoke(new SkippedEntry(entry.FullName, $"a link (to {entry.LinkTarget}); links are not followed"));
                    continue;
                }
                if (entry is DirectoryInfo sub)
                {
                    if (query.MaxDepth is { } max && depth >= max) continue;
                    if (mounts.Contains(sub.FullName))
                    {
                        skipped?.Invoke(new SkippedEntry(sub.FullName, "another file system is mounted here (-CrossFileSystem to include it)"));
                        continue;
                    }
                    pending.Push((sub.FullName, depth + 1));
                }
                else if (entry is FileInfo file && (file.Attributes & (FileAttributes.Device | FileAttributes.System)) == 0 && Matches(file.Name, query))
                {
                    files.Add(file);
                }
            }
            var kept = files.OrderByDescending(f => f.LastWriteTimeUtc).Take(query.KeepLatest).ToHashSet();
            foreach (var file in files.Where(f => !kept.Contains(f)).OrderBy(f => f.LastWriteTimeUtc))
            {
                var written = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
                var age = now - written;
                if (age <= query.OlderThan) continue;
                yield return new StaleFile
                {
                    Path = file.FullName,
                    Root = real,
                    Length = file.Length,
                    LastWriteTime = written,
                    Age = age,
                    OpenedBy = open?.HoldersOf(file.FullName) ?? [],
                };
            }
        }
    }

    /// <summary>Whether a file name passes the query's wildcards (case-sensitive where the file system is).</summary>
    public static bool Matches(string name, StaleFileQuery query)
    {
        var ignoreCase = !OperatingSystem.IsLinux();
        if (query.Include.Count > 0 && !query.Include.Any(p => FileSystemName.MatchesSimpleExpression(p, name, ignoreCase))) return false;
        return !query.Exclude.Any(p => FileSystemName.MatchesSimpleExpression(p, name, ignoreCase));
    }

    /// <summary>The mount points (/proc/self/mountinfo's fifth field, octal escapes undone).</summary>
    private static HashSet<string> MountPoints()
    {
        var points = new HashSet<string>(StringComparer.Ordinal);
        if (!File.Exists("/proc/self/mountinfo")) return points;
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4) points.Add(System.Text.RegularExpressions.Regex.Replace(fields[4], @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString()));
        }
        return points;
    }
}

/// <summary>
/// Deletes stale files one at a time, each checked again just before: still there, still a plain file whose
/// directories up to the root are real ones (not a link swapped in since), not written since it was found, and not held
/// open by a process. A file that fails a check is skipped with the reason; one that cannot be deleted is a failure
/// with the system's reason. Only what was deleted counts as reclaimed.
/// </summary>
public static class StaleFileRemover
{
    /// <summary>Deletes <paramref name="file"/> if it is still stale; says what happened.</summary>
    public static CleanupItem Remove(StaleFile file, TimeSpan olderThan, OpenFiles? open, DateTimeOffset now)
    {
        var reason = Recheck(file, olderThan, open, now);
        if (reason is not null) return new CleanupItem(file.Path, file.Length, CleanupOutcome.Skipped, reason);
        try
        {
            File.Delete(file.Path);
            return new CleanupItem(file.Path, file.Length, CleanupOutcome.Removed, null);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return new CleanupItem(file.Path, file.Length, CleanupOutcome.Failed, e.Message);
        }
    }

    /// <summary>Why <paramref name="file"/> must not be deleted now, or null when it may.</summary>
    public static string? Recheck(StaleFile file, TimeSpan olderThan, OpenFiles? open, DateTimeOffset now)
    {
        var info = new FileInfo(file.Path);
        if (info.LinkTarget is not null) return "it is a link now";
        if (!info.Exists) return "it is gone";
        var root = file.Root.EndsWith('/') ? file.Root : file.Root + "/";
        if (!file.Path.StartsWith(root, StringComparison.Ordinal)) return $"it is not under {file.Root}";
        for (var dir = info.Directory; dir is not null && dir.FullName.Length >= file.Root.Length; dir = dir.Parent)
        {
            if (dir.LinkTarget is not null) return $"{dir.FullName} is a link now";
        }
        var written = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
        if (written != file.LastWriteTime) return $"it was written at {written:u}, after it was found";
        if (now - written <= olderThan) return "it is not stale";
        if (open?.HoldersOf(file.Path) is { Count: > 0 } pids) return $"held open by process {string.Join(", ", pids)}: deleting it would free nothing until they close it";
        return null;
    }
}

/// <summary>
/// One cleanup run over stale files: removes each file it is given (<see cref="StaleFileRemover"/>), reading the
/// open-file table again when it is more than two seconds old (a process may have opened a file since), and keeps the
/// account for the <see cref="CleanupResult"/>.
/// </summary>
public sealed class StaleFileCleanup(TimeSpan olderThan, Func<OpenFiles>? readOpenFiles = null)
{
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(2);
    private readonly Func<OpenFiles> _read = readOpenFiles ?? (() => OpenFiles.Read());
    private readonly List<CleanupItem> _items = [];
    private readonly SortedSet<string> _roots = new(StringComparer.Ordinal);
    private OpenFiles? _open;

    /// <summary>The open-file table as last read (null before the first removal).</summary>
    public OpenFiles? OpenFiles => _open;

    /// <summary>Removes <paramref name="file"/> if it is still stale and free; the outcome joins the account.</summary>
    public CleanupItem Remove(StaleFile file, DateTimeOffset now)
    {
        if (_open is null || DateTimeOffset.UtcNow - _open.TakenAt > Freshness) _open = _read();
        var item = StaleFileRemover.Remove(file, olderThan, _open, now);
        _items.Add(item);
        _roots.Add(file.Root);
        return item;
    }

    /// <summary>Whether anything was attempted.</summary>
    public bool Any => _items.Count > 0;

    /// <summary>The account so far.</summary>
    public CleanupResult Result() => new()
    {
        Kind = "Stale files",
        Target = string.Join(", ", _roots),
        Items = _items.ToList(),
        ReclaimedBytes = _items.Where(i => i.Outcome == CleanupOutcome.Removed).Sum(i => i.Length),
        CompletedAt = DateTimeOffset.UtcNow,
    };
}
