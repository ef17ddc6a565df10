using System.IO.Pipes;
using System.Runtime.InteropServices;

namespace OpsRunbook.Engine.Internal;

/// <summary>
/// Enlarges a Linux pipe's kernel buffer (64 KiB by default) with fcntl(F_SETPIPE_SZ). A producer such as pg_dump writing
/// into a 64 KiB pipe blocks — and yields its core — each time the reader is a moment late; with 1 MiB it keeps going.
/// </summary>
internal static class PipeBuffer
{
    private const int FSetPipeSize = 1031; // F_SETPIPE_SZ (fcntl.h, Linux)
    private const int FGetPipeSize = 1032; // F_GETPIPE_SZ

    /// <summary>Asks for <paramref name="bytes"/>; returns the size the pipe now has, or null where this is not possible.</summary>
    public static int? TryEnlarge(Stream pipe, int bytes)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var handle = pipe switch
        {
            PipeStream p => (SafeHandle)p.SafePipeHandle,
            FileStream f => f.SafeFileHandle,
            _ => null,
        };
        if (handle is null || handle.IsInvalid) return null;
        var fd = (int)handle.DangerousGetHandle();
        // Capped by /proc/sys/fs/pipe-max-size (1 MiB unless raised); on EPERM fall back to halving.
        for (var size = bytes; size > 64 * 1024; size /= 2)
        {
            if (Fcntl(fd, FSetPipeSize, size) >= 0) return Fcntl(fd, FGetPipeSize, 0);
        }
        return null;
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command, int argument);
}
