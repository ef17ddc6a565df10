using System.ComponentModel;
using System.Diagnostics;

namespace OpsRunbook.Engine.Internal;

/// <summary>
/// Runs a command-line tool the way the providers need: arguments as a list (never a shell), optional extra environment
/// and stdin (where secrets go, never argv), stdout and stderr captured, the process tree killed on cancellation.
/// </summary>
internal static class CliProcess
{
    /// <summary>The full path of <paramref name="name"/> in a folder of PATH, or null when none has it.</summary>
    public static string? FindProgram(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>Exit code, stdout and stderr. A missing executable is <see cref="FileNotFoundException"/>.</summary>
    public static async Task<(int code, string stdout, string stderr)> RunAsync(string file, IEnumerable<string> args, CancellationToken ct,
        IReadOnlyDictionary<string, string>? environment = null, string? stdin = null)
    {
        using (var process = Start(file, args, environment, stdin is not null))
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            try
            {
                if (stdin is not null)
                {
                    await process.StandardInput.WriteAsync(stdin.AsMemory(), ct).ConfigureAwait(false);
                    process.StandardInput.Close();
                }
                await process.WaitForExitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>
    /// The lines a tool writes to stdout, as it writes them (for logs that are followed). Stopping the enumeration
    /// (cancellation, or the caller taking only the first lines) kills the process tree; when the tool ends on its own
    /// with a non-zero code, <paramref name="failure"/> turns the code and stderr into the exception thrown.
    /// </summary>
    public static async IAsyncEnumerable<string> LinesAsync(string file, IEnumerable<string> args, Func<int, string, Exception> failure,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct, IReadOnlyDictionary<string, string>? environment = null)
    {
        using (var process = Start(file, args, environment, redirectStdin: false))
        {
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            var finished = false;
            try
            {
                while (await process.StandardOutput.ReadLineAsync(ct).ConfigureAwait(false) is { } line) yield return line;
                await process.WaitForExitAsync(ct).ConfigureAwait(false);
                finished = true;
            }
            finally
            {
                if (!finished && !process.HasExited) process.Kill(entireProcessTree: true);
            }
            if (process.ExitCode != 0) throw failure(process.ExitCode, await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>Starts the tool with its arguments as a list and the extra environment; a missing executable is <see cref="FileNotFoundException"/>.</summary>
    private static Process Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, bool redirectStdin)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectStdin, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        try
        {
            return ChildProcesses.Start(psi);
        }
        catch (Win32Exception e)
        {
            throw new FileNotFoundException($"{file} was not found", file, e);
        }
    }
}
