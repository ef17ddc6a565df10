using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

/// <summary>
/// Import cost (issue 11): a cold <c>pwsh -NoProfile</c> that imports the module and runs a first cmdlet, against a bare
/// <c>pwsh -NoProfile -c exit</c>, alternating, in the same run. Target: import + first cmdlet ≤ 1.4× bare pwsh
/// (Pester's import measured here at about 3.1×, PSScriptAnalyzer's at about 2.0×).
/// </summary>
public static class ImportBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = FindRoot();
        var pwsh = Path.Combine(root, ".tools", "pwsh", "pwsh");
        var manifest = Path.Combine(root, "out", "OpsRunbook", "OpsRunbook.psd1");
        var config = Path.Combine(root, "examples", "runbook.sandbox.jsonc");
        if (!File.Exists(pwsh) || !File.Exists(manifest))
        {
            Console.Error.WriteLine("needs the built module (dotnet build) and pwsh (bash tests/pwsh.sh)");
            return 1;
        }
        var rounds = args.Contains("--quick") ? 3 : 10;

        // A local TCP listener that accepts, so the first Invoke-HealthCheck is a real, passing check.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try { (await listener.AcceptTcpClientAsync(stop.Token)).Dispose(); } catch (OperationCanceledException) { break; }
            }
        });

        var scenarios = new (string Name, string Script)[]
        {
            ("bare pwsh (-c exit)", "exit"),
            ("Import-Module", $"Import-Module '{manifest}'"),
            ("Import-Module + Get-RunbookEnvironment", $"Import-Module '{manifest}'; $null = Get-RunbookEnvironment -ConfigPath '{config}'"),
            ("Import-Module + first Invoke-HealthCheck", $"Import-Module '{manifest}'; if ((Invoke-HealthCheck -Uri tcp://127.0.0.1:{port} -FailureThreshold 1).Status -ne 'Healthy') {{ exit 3 }}"),
        };
        // One warm-up of each (disk cache), then alternating rounds.
        foreach (var s in scenarios) Time(pwsh, s.Script);
        var times = scenarios.Select(_ => new List<double>()).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var i = 0; i < scenarios.Length; i++) times[i].Add(Time(pwsh, scenarios[i].Script));
        }
        stop.Cancel();
        listener.Stop();
        await accepting;

        var bare = Median(times[0]);
        Console.WriteLine($"pwsh {pwsh}; {rounds} alternating rounds, median (best) wall time of a cold process");
        for (var i = 0; i < scenarios.Length; i++)
        {
            var median = Median(times[i]);
            Console.WriteLine($"  {scenarios[i].Name,-42} {median,7:0} ms ({times[i].Min(),5:0})   ratio to bare {median / bare:0.000}");
        }
        var worst = Math.Max(Median(times[2]), Median(times[3])) / bare;
        Console.WriteLine($"  target: import + first cmdlet <= 1.4x bare pwsh -> {worst:0.000}x {(worst <= 1.4 ? "met" : "NOT MET")}");
        return 0;
    }

    private static double Time(string pwsh, string script)
    {
        var psi = new ProcessStartInfo(pwsh) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-NoProfile", "-NonInteractive", "-Command", script }) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        sw.Stop();
        if (p.ExitCode != 0) throw new InvalidOperationException($"pwsh -c \"{script}\" exited {p.ExitCode}: {stderr}{stdout.Result}");
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpsRunbook.sln"))) return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
