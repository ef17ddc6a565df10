using System.Diagnostics;
using System.Text;
using Npgsql;

namespace OpsRunbook.Engine.Clients.Postgres;

/// <summary>
/// A pg_dump/pg_restore/pg_amcheck/pgbench process connected through libpq environment variables and a private password file
/// (<see cref="Internal.PrivateFile"/>: mode 600, unlinked at once, gone with this process however it ends): the password
/// never appears on a command line, in the process list or in /tmp. The program dies with the session.
/// </summary>
internal sealed class PgProcess : IAsyncDisposable
{
    private readonly Internal.PrivateFile _passfile;
    private readonly StringBuilder _stderr = new();

    private PgProcess(Process process, Internal.PrivateFile passfile)
    {
        Process = process;
        _passfile = passfile;
    }

    public Process Process { get; }

    /// <summary>Completes when the program's stderr has been read to its end.</summary>
    public Task StderrDrained { get; private set; } = Task.CompletedTask;

    /// <summary>Waits for the program to exit and its stderr to be read, then returns its exit code.</summary>
    public async Task<int> WaitAsync(CancellationToken ct)
    {
        await Process.WaitForExitAsync(ct).ConfigureAwait(false);
        await StderrDrained.WaitAsync(TimeSpan.FromSeconds(10), ct).ConfigureAwait(false);
        return Process.ExitCode;
    }

    /// <summary>The last 4 KB of what the program wrote to stderr.</summary>
    public string StderrTail
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <param name="stderrLine">Told each line the program writes to stderr (its progress), besides keeping the tail.</param>
    public static PgProcess Start(PgTool tool, IEnumerable<string> arguments, NpgsqlConnectionStringBuilder connection, string? database, bool redirectStdin = false, bool redirectStdout = false,
        string? applicationName = null, Action<string>? stderrLine = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(tool.Path)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = redirectStdout,
            RedirectStandardInput = redirectStdin,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        // Nothing inherited may point libpq elsewhere, and none of the session's secrets reach the child.
        Internal.ChildEnvironment.Restrict(psi);
        psi.Environment["PGHOST"] = connection.Host;
        psi.Environment["PGPORT"] = connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["PGUSER"] = connection.Username;
        psi.Environment["PGDATABASE"] = database ?? connection.Database;
        psi.Environment["PGAPPNAME"] = applicationName ?? "OpsRunbook " + tool.Name;
        psi.Environment["PGCONNECT_TIMEOUT"] = Math.Max(2, connection.Timeout).ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["PGSSLMODE"] = connection.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        };
        if (!string.IsNullOrEmpty(connection.RootCertificate)) psi.Environment["PGSSLROOTCERT"] = connection.RootCertificate;
        var passfile = Internal.PrivateFile.Create("opsrunbook-pg", Encoding.UTF8.GetBytes($"*:*:*:{Escape(connection.Username ?? "")}:{Escape(connection.Password ?? "")}\n"));
        psi.Environment["PGPASSFILE"] = passfile.Path;
        Process process;
        try
        {
            process = Internal.ChildProcesses.Start(psi);
        }
        catch
        {
            passfile.Dispose();
            throw;
        }
        var pg = new PgProcess(process, passfile);
        pg.StderrDrained = stderrLine is not null ? Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (pg._stderr)
                {
                    pg._stderr.Append(line).Append('\n');
                    if (pg._stderr.Length > 4096) pg._stderr.Remove(0, pg._stderr.Length - 4096);
                }
                stderrLine(line);
            }
        }) : Task.Run(async () =>
        {
            var buffer = new char[1024];
            int n;
            while ((n = await process.StandardError.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (pg._stderr)
                {
                    pg._stderr.Append(buffer, 0, n);
                    if (pg._stderr.Length > 4096) pg._stderr.Remove(0, pg._stderr.Length - 4096);
                }
            }
        });
        return pg;
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);

    public void Kill() => Internal.BlockingIo.Kill(Process);

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await Process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        Process.Dispose();
        _passfile.Dispose();
    }
}
