namespace OpsRunbook.Engine.Internal;

/// <summary>
/// Streaming through a child process's pipes (pg_dump, pg_restore, psql, zstd) with blocking reads and writes on a
/// dedicated thread. Those programs move 8 KiB at a time; awaiting each of those small transfers costs the thread pool
/// ~0.25 ms of CPU, mostly spin-waiting between completions (measured: 3.5 s of CPU per 200 MiB written to a paced
/// reader, 1.0 s with spinning disabled, 0.12 s blocking) — CPU the compressor and the server need on a small host.
/// A blocking call cannot observe a token, so cancellation runs <c>onCancel</c> (kill the process: its pipe closes and
/// the call returns), and the copy then reports the cancellation.
/// </summary>
internal static class BlockingIo
{
    /// <summary>Runs <paramref name="work"/> on its own thread.</summary>
    public static async Task RunAsync(Action work, Action onCancel, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var registration = ct.Register(() =>
        {
            try
            {
                onCancel();
            }
            catch (Exception)
            {
                // Best effort: the process may be gone already.
            }
        });
        try
        {
            await Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            throw new OperationCanceledException(ct);
        }
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> in 1 MiB blocks on its own thread.</summary>
    public static Task CopyAsync(Stream source, Stream destination, Action onCancel, CancellationToken ct) =>
        RunAsync(() => source.CopyTo(destination, 1 << 20), onCancel, ct);

    /// <summary>Kills a process and its children, ignoring one that has exited.</summary>
    public static void Kill(System.Diagnostics.Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
