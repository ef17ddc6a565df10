using System.Collections.Concurrent;
using System.Diagnostics;

namespace OpsRunbook.Engine.Internal;

/// <summary>
/// Starts every helper program (pg_dump, pg_restore, psql, zstd, docker, kubectl) so that it dies with the session:
/// a cancelled CI job, <c>docker stop</c> or systemd stops pwsh with SIGTERM, and a pg_restore that outlived it went on
/// changing a database unobserved. On SIGTERM (and any normal exit) the children still running are killed. On Linux
/// each child also gets a parent-death signal (util-linux <c>setpriv --pdeathsig KILL</c>), so even a pwsh killed with
/// SIGKILL takes them along. That signal follows the thread that forked the child, so children are forked from one
/// thread that lives as long as the process, never from a pool thread that may retire mid-restore.
/// </summary>
internal static class ChildProcesses
{
    private static readonly string? Setpriv = OperatingSystem.IsLinux()
        ? new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists)
        : null;

    private static readonly ConcurrentDictionary<Process, bool> Running = new(ReferenceEqualityComparer.Instance);
    private static readonly BlockingCollection<(ProcessStartInfo Psi, TaskCompletionSource<Process> Started)> Requests = [];
    private static readonly Lazy<Thread> Spawner = new(() =>
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        var thread = new Thread(() =>
        {
            foreach (var (psi, started) in Requests.GetConsumingEnumerable())
            {
                try
                {
                    started.SetResult(Process.Start(psi) ?? throw new IOException($"{psi.FileName} did not start"));
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            }
        })
        { IsBackground = true, Name = "OpsRunbook child processes" };
        thread.Start();
        return thread;
    });

    /// <summary>Whether children get a parent-death signal here (Linux with setpriv).</summary>
    public static bool DieWithParent => Setpriv is not null;

    /// <summary>Starts <paramref name="psi"/> as a child that does not outlive this process. Errors as <see cref="Process.Start()"/>'s.</summary>
    public static Process Start(ProcessStartInfo psi)
    {
        if (psi.Arguments.Length > 0) throw new ArgumentException("give the arguments as ArgumentList (never one string a shell would split)");
        if (Setpriv is not null && Resolve(psi) is { } program)
        {
            // setpriv sets PR_SET_PDEATHSIG and execs the program in place: same pid, same pipes.
            var args = psi.ArgumentList.ToList();
            psi.ArgumentList.Clear();
            foreach (var a in new[] { "--pdeathsig", "KILL", "--", program }.Concat(args)) psi.ArgumentList.Add(a);
            psi.FileName = Setpriv;
        }
        _ = Spawner.Value;
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((psi, started));
        var process = started.Task.GetAwaiter().GetResult();
        Running[process] = true;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Running.TryRemove(process, out _);
        if (process.HasExited) Running.TryRemove(process, out _);
        return process;
    }

    /// <summary>Kills every child still running (on process exit).</summary>
    internal static void KillAll()
    {
        foreach (var p in Running.Keys)
        {
            try
            {
                p.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                // Already gone.
            }
        }
    }

    /// <summary>The program's full path as execvp would find it, or null (then it starts unwrapped and fails as usual).</summary>
    private static string? Resolve(ProcessStartInfo psi)
    {
        var file = psi.FileName;
        if (file.Contains('/', StringComparison.Ordinal)) return File.Exists(file) ? file : null;
        var path = psi.Environment.TryGetValue("PATH", out var p) ? p : Environment.GetEnvironmentVariable("PATH");
        return (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);
    }
}
