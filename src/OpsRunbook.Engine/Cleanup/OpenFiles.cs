using System.Runtime.InteropServices;

namespace OpsRunbook.Engine.Cleanup;

/// <summary>
/// The files processes hold open, as fuser and lsof find them on Linux: every /proc/PID/fd/N link and every file mapped
/// in /proc/PID/maps. Deleting such a file frees nothing until the process closes it (a log still being written is the
/// usual case), so cleanup skips them. Processes of other users can only be read as root; <see cref="Unreadable"/>
/// counts those, and callers say so, because a file only they hold looks free.
/// </summary>
public sealed class OpenFiles
{
    private readonly Dictionary<string, List<int>> _holders;

    private OpenFiles(Dictionary<string, List<int>> holders, int processes, int unreadable, bool supported)
    {
        _holders = holders;
        Processes = processes;
        Unreadable = unreadable;
        Supported = supported;
        TakenAt = DateTimeOffset.UtcNow;
    }

    /// <summary>Processes looked at.</summary>
    public int Processes { get; }

    /// <summary>Processes whose open files could not be read (another user's, without root).</summary>
    public int Unreadable { get; }

    /// <summary>False where there is no /proc to read (not Linux): nothing is known to be open.</summary>
    public bool Supported { get; }

    /// <summary>When the table was read.</summary>
    public DateTimeOffset TakenAt { get; }

    /// <summary>The processes holding <paramref name="path"/> (a full, resolved path) open; empty when none is known to.</summary>
    public IReadOnlyList<int> HoldersOf(string path) => _holders.TryGetValue(path, out var pids) ? pids : [];

    /// <summary>Reads the table from <paramref name="proc"/> (/proc; tests point it elsewhere).</summary>
    public static OpenFiles Read(string proc = "/proc")
    {
        var holders = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        if (!Directory.Exists(proc) || !OperatingSystem.IsLinux() && proc == "/proc") return new OpenFiles(holders, 0, 0, supported: false);
        int processes = 0, unreadable = 0;
        foreach (var dir in Directory.EnumerateDirectories(proc))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            processes++;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(dir, "fd")))
                {
                    // A descriptor of a file is a link to its path; sockets, pipes and anonymous inodes are "socket:[…]" and the like.
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith('/')) Add(holders, target, pid);
                }
            }
            catch (UnauthorizedAccessException)
            {
                unreadable++;
                continue;
            }
            catch (IOException)
            {
                continue; // the process ended while it was read
            }
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(dir, "maps")))
                {
                    // "start-end perms offset dev inode   /path"
                    var slash = line.IndexOf(" /", StringComparison.Ordinal);
                    if (slash > 0) Add(holders, line[(slash + 1)..], pid);
                }
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // Mappings can be hidden where descriptors are not (a container's init): its descriptors still count.
            }
        }
        return new OpenFiles(holders, processes, unreadable, supported: true);
    }

    private static void Add(Dictionary<string, List<int>> holders, string path, int pid)
    {
        // A file deleted while open shows as "/path (deleted)": it is not the file at that path any more.
        if (path.EndsWith(" (deleted)", StringComparison.Ordinal)) return;
        if (!holders.TryGetValue(path, out var pids)) holders[path] = pids = [];
        if (!pids.Contains(pid)) pids.Add(pid);
    }

    /// <summary>The path with every link and "." or ".." resolved (realpath(3)); the path itself where the system cannot say.</summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows()) return full;
        var resolved = NativeRealPath(full, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return full;
        try
        {
            return Marshal.PtrToStringUTF8(resolved) ?? full;
        }
        finally
        {
            Free(resolved);
        }
    }

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr NativeRealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void Free(IntPtr pointer);
}
