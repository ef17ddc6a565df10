namespace OpsRunbook.Engine.Internal;

/// <summary>
/// A temporary file only this user can read, that nothing outlives: on Linux it is unlinked as soon as it is created and
/// named <c>/proc/{pid}/fd/{fd}</c>, which a child program opens like any path (libpq's PGPASSFILE, pg_restore's
/// archive, even with --jobs) while this process holds the descriptor. However the process ends — Ctrl+C, SIGTERM,
/// SIGKILL — the kernel frees it: no password file or downloaded dump is left in /tmp. Elsewhere it is a mode-600 file
/// in a private folder, removed on dispose.
/// </summary>
internal sealed class PrivateFile : IDisposable
{
    private readonly string? _folder;

    private PrivateFile(string path, FileStream stream, string? folder)
    {
        Path = path;
        Stream = stream;
        _folder = folder;
    }

    /// <summary>The name a child opens it by.</summary>
    public string Path { get; }

    /// <summary>Where this process writes it (flush before a child reads).</summary>
    public FileStream Stream { get; }

    /// <summary>The folders earlier versions left in the temporary folder when killed (password files, downloaded dumps).</summary>
    internal static readonly string[] LeftoverPrefixes = ["opsrunbook-pg", "opsrunbook-restore", "opsrunbook-list", "opsrunbook-copy"];

    private static readonly Lazy<int> Swept = new(() => RemoveLeftovers(System.IO.Path.GetTempPath(), DateTime.UtcNow - TimeSpan.FromHours(1)));

    /// <summary>
    /// Removes this user's folders of <see cref="LeftoverPrefixes"/> older than <paramref name="before"/>: what a killed
    /// session of an earlier version (or of another OS, where files stay named) left, plain-text password files among
    /// them. Runs once per process, at the first private file. Returns how many it removed.
    /// </summary>
    internal static int RemoveLeftovers(string temp, DateTime before)
    {
        var removed = 0;
        try
        {
            foreach (var folder in Directory.EnumerateDirectories(temp, "opsrunbook-*"))
            {
                var name = System.IO.Path.GetFileName(folder);
                if (!LeftoverPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) || Directory.GetLastWriteTimeUtc(folder) >= before) continue;
                try
                {
                    Directory.Delete(folder, true);
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another user's, or in use: not ours to remove.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return removed;
    }

    /// <summary>Creates an empty private file.</summary>
    public static PrivateFile Create(string prefix)
    {
        _ = Swept.Value;
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 1 << 16,
            Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        var real = System.IO.Path.Combine(folder, "file");
        var stream = new FileStream(real, options);
        if (OperatingSystem.IsLinux() && Directory.Exists($"/proc/{Environment.ProcessId}/fd"))
        {
            File.Delete(real);
            Directory.Delete(folder);
            return new PrivateFile($"/proc/{Environment.ProcessId}/fd/{stream.SafeFileHandle.DangerousGetHandle()}", stream, null);
        }
        return new PrivateFile(real, stream, folder);
    }

    /// <summary>Creates a private file holding <paramref name="content"/>.</summary>
    public static PrivateFile Create(string prefix, byte[] content)
    {
        var file = Create(prefix);
        file.Stream.Write(content);
        file.Stream.Flush();
        return file;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stream.Dispose();
        if (_folder is null) return;
        try
        {
            Directory.Delete(_folder, true);
        }
        catch (IOException)
        {
        }
    }
}
