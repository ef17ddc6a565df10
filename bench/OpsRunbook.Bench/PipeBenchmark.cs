using System.Diagnostics;

/// <summary>
/// Why the backup's pipes use blocking I/O on their own threads (issue 5): CPU of this process to move the same bytes
/// through a child's pipe in pg_dump's pattern (8 KiB writes paced at 14 MB/s, pg_dump's speed on the benchmark
/// database) with (a) <c>await ReadAsync</c> and (b) blocking reads on a dedicated thread; then the other direction, 1 MiB
/// writes into a child reading 8 KiB at 40 MB/s (pg_restore's pattern). Wall time is set by the pacing; the figure
/// that matters is CPU, which on a small host is taken from pg_dump's compression. Child: this program, mode pipe-child.
/// </summary>
internal static class PipeBenchmark
{
    private const int Block = 8192;

    public static async Task RunAsync()
    {
        const int megabytes = 64;
        Console.WriteLine($"moving {megabytes} MiB through a child's pipe in pg_dump's pattern; CPU of this process (best of 3)");
        var readAsync = await Best(3, () => Read(megabytes, blocking: false));
        var readBlocking = await Best(3, () => Read(megabytes, blocking: true));
        var writeAsync = await Best(3, () => Write(megabytes, blocking: false));
        var writeBlocking = await Best(3, () => Write(megabytes, blocking: true));
        Console.WriteLine($"  read,  await ReadAsync            {readAsync,6:N2} s CPU");
        Console.WriteLine($"  read,  blocking on own thread     {readBlocking,6:N2} s CPU   {readAsync / Math.Max(0.001, readBlocking),5:N1}x less");
        Console.WriteLine($"  write, await WriteAsync           {writeAsync,6:N2} s CPU");
        Console.WriteLine($"  write, blocking on own thread     {writeBlocking,6:N2} s CPU   {writeAsync / Math.Max(0.001, writeBlocking),5:N1}x less");
    }

    /// <summary>The child: "write N" writes N MiB in paced 8 KiB blocks; "read" reads stdin in paced 8 KiB blocks.</summary>
    public static int Child(string[] args)
    {
        var block = new byte[Block];
        var clock = Stopwatch.StartNew();
        long moved = 0;
        if (args[1] == "write")
        {
            using var stdout = Console.OpenStandardOutput();
            var total = long.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) * 1024 * 1024;
            for (; moved < total; moved += Block)
            {
                stdout.Write(block);
                Pace(clock, moved, 14e6);
            }
            return 0;
        }
        using var stdin = Console.OpenStandardInput();
        int n;
        while ((n = stdin.Read(block)) > 0)
        {
            moved += n;
            Pace(clock, moved, 40e6);
        }
        return 0;
    }

    private static void Pace(Stopwatch clock, long moved, double bytesPerSecond)
    {
        var ahead = moved / bytesPerSecond - clock.Elapsed.TotalSeconds;
        if (ahead > 0.001) Thread.Sleep(TimeSpan.FromSeconds(ahead));
    }

    private static async Task<double> Best(int rounds, Func<Task<double>> run)
    {
        var best = double.MaxValue;
        for (var i = 0; i < rounds; i++) best = Math.Min(best, await run());
        return best;
    }

    private static Process StartChild(params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
        // Under `dotnet run` / `dotnet X.dll` the process is the dotnet host: name the assembly.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") psi.ArgumentList.Add(typeof(PipeBenchmark).Assembly.Location);
        psi.ArgumentList.Add("pipe-child");
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static async Task<double> Read(int megabytes, bool blocking)
    {
        using var child = StartChild("write", megabytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var pipe = child.StandardOutput.BaseStream;
        var buffer = new byte[1 << 20];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        if (blocking)
        {
            await Task.Factory.StartNew(() =>
            {
                while (pipe.Read(buffer, 0, buffer.Length) > 0) { }
            }, TaskCreationOptions.LongRunning);
        }
        else
        {
            while (await pipe.ReadAsync(buffer) > 0) { }
        }
        await child.WaitForExitAsync();
        return (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    }

    private static async Task<double> Write(int megabytes, bool blocking)
    {
        using var child = StartChild("read");
        var pipe = child.StandardInput.BaseStream;
        var buffer = new byte[1 << 20];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        if (blocking)
        {
            await Task.Factory.StartNew(() =>
            {
                for (var i = 0; i < megabytes; i++) pipe.Write(buffer);
            }, TaskCreationOptions.LongRunning);
        }
        else
        {
            for (var i = 0; i < megabytes; i++) await pipe.WriteAsync(buffer);
        }
        pipe.Close();
        await child.WaitForExitAsync();
        return (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    }
}
