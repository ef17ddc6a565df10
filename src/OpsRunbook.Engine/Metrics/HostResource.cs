using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Metrics;

/// <summary>Use of one mounted file system (<c>df -h</c>).</summary>
public sealed record DiskUsage(string Mount, string FileSystem, long TotalBytes, long UsedBytes, long FreeBytes)
{
    /// <summary>Used as % of total.</summary>
    public double Percent => TotalBytes == 0 ? 0 : Math.Round(UsedBytes * 100.0 / TotalBytes, 1);
}

/// <summary>CPU, memory, load and disks of the machine the cmdlet runs on (runbook 001's <c>df -h</c> and <c>free -h</c>).</summary>
public sealed class HostResource : IReportable, IMetricSource
{
    /// <summary>Machine name.</summary>
    public required string Host { get; init; }
    /// <summary>Linux, Windows or macOS.</summary>
    public required string OperatingSystem { get; init; }
    /// <summary>CPU use over the sampling interval, %.</summary>
    public double CpuPercent { get; init; }
    /// <summary>Memory in use (total − available), %.</summary>
    public double MemoryPercent { get; init; }
    /// <summary>Physical memory.</summary>
    public long MemoryTotalBytes { get; init; }
    /// <summary>Memory in use.</summary>
    public long MemoryUsedBytes { get; init; }
    /// <summary>1-minute load average (null on Windows).</summary>
    public double? Load1 { get; init; }
    /// <summary>5-minute load average.</summary>
    public double? Load5 { get; init; }
    /// <summary>15-minute load average.</summary>
    public double? Load15 { get; init; }
    /// <summary>Logical processors.</summary>
    public int ProcessorCount { get; init; }
    /// <summary>Mounted file systems.</summary>
    public IReadOnlyList<DiskUsage> Disks { get; init; } = [];
    /// <summary>The environment label, if given.</summary>
    public string? Environment { get; init; }
    /// <summary>When it was measured.</summary>
    public DateTimeOffset SampledAt { get; init; }

    /// <summary>Observations for thresholds: cpu, memory, load and one disk_percent per mount.</summary>
    public IEnumerable<MetricObservation> Observations()
    {
        yield return new MetricObservation(WellKnownMetrics.CpuPercent, Host, CpuPercent, Environment, SampledAt);
        yield return new MetricObservation(WellKnownMetrics.MemoryPercent, Host, MemoryPercent, Environment, SampledAt);
        if (Load1 is { } l) yield return new MetricObservation(WellKnownMetrics.Load1, Host, l, Environment, SampledAt);
        foreach (var d in Disks) yield return new MetricObservation(WellKnownMetrics.DiskPercent, $"{Host}:{d.Mount}", d.Percent, Environment, SampledAt);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Host}: CPU {CpuPercent:0.#}%, memory {MemoryPercent:0.#}%";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Host resources", Host, ReportOutcome.Info, OperatingSystem, Environment, ToString(),
            new KeyValuePair<string, string>[] { new("CPU %", CpuPercent.ToString("0.#", CultureInfo.InvariantCulture)), new("Memory %", MemoryPercent.ToString("0.#", CultureInfo.InvariantCulture)),
             new("Load", Load1?.ToString("0.##", CultureInfo.InvariantCulture) ?? "") }, SampledAt);
        foreach (var d in Disks)
        {
            yield return new ReportRow("Host resources", $"{Host}:{d.Mount}", ReportOutcome.Info, d.FileSystem, Environment,
                $"disk {d.Percent:0.#}% used", new KeyValuePair<string, string>[] { new("Used %", d.Percent.ToString("0.#", CultureInfo.InvariantCulture)) }, SampledAt);
        }
    }
}

/// <summary>Reads <see cref="HostResource"/> on Linux (/proc), Windows (kernel32) and macOS (top, vm_stat, sysctl).</summary>
public static partial class HostResourceReader
{
    private static readonly HashSet<string> PseudoFileSystems = new(StringComparer.Ordinal)
    {
        "proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "mqueue", "debugfs", "tracefs", "securityfs",
        "pstore", "bpf", "configfs", "fusectl", "hugetlbfs", "autofs", "binfmt_misc", "nsfs", "rpc_pipefs", "squashfs", "ramfs",
        "devfs", "autofs", "efivarfs", "selinuxfs", "overlayfs_meta",
    };

    /// <summary>
    /// Samples the local machine; CPU is measured over <paramref name="interval"/>. What the system does not let us read
    /// is a <see cref="HostResourceUnavailableException"/> saying what.
    /// </summary>
    public static async Task<HostResource> ReadAsync(TimeSpan interval, string? environment, CancellationToken cancellationToken)
    {
        try
        {
            if (OperatingSystem.IsLinux()) return await ReadLinuxAsync(interval, environment, cancellationToken).ConfigureAwait(false);
            if (OperatingSystem.IsWindows()) return await ReadWindowsAsync(interval, environment, cancellationToken).ConfigureAwait(false);
            if (OperatingSystem.IsMacOS()) return await ReadMacAsync(environment, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            throw new HostResourceUnavailableException($"cannot read this machine's resources: {ex.Message}", ex);
        }
        throw new HostResourceUnavailableException("host resources are read on Linux, Windows and macOS");
    }

    /// <summary>Mounted file systems with real storage, one row per mount (what df shows).</summary>
    public static IReadOnlyList<DiskUsage> ReadDisks()
    {
        var disks = new List<DiskUsage>();
        foreach (var d in DriveInfo.GetDrives())
        {
            try
            {
                if (!d.IsReady || d.TotalSize == 0 || d.DriveType is DriveType.Ram or DriveType.NoRootDirectory || PseudoFileSystems.Contains(d.DriveFormat)) continue;
                var used = d.TotalSize - d.TotalFreeSpace;
                disks.Add(new DiskUsage(d.Name, d.DriveFormat, d.TotalSize, used, d.AvailableFreeSpace));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A mount we may not read (another user's FUSE mount): df skips it too.
            }
        }
        return disks;
    }

    private static async Task<HostResource> ReadLinuxAsync(TimeSpan interval, string? environment, CancellationToken ct)
    {
        var first = ParseProcStat(await File.ReadAllTextAsync("/proc/stat", ct).ConfigureAwait(false));
        await Task.Delay(interval, ct).ConfigureAwait(false);
        var second = ParseProcStat(await File.ReadAllTextAsync("/proc/stat", ct).ConfigureAwait(false));
        var (total, available) = ParseMemInfo(await File.ReadAllTextAsync("/proc/meminfo", ct).ConfigureAwait(false));
        var load = ParseLoadAverage(await File.ReadAllTextAsync("/proc/loadavg", ct).ConfigureAwait(false));
        return Build("Linux", CpuPercent(first, second), total, total - available, load, environment);
    }

    private static async Task<HostResource> ReadWindowsAsync(TimeSpan interval, string? environment, CancellationToken ct)
    {
        static (ulong busy, ulong total) Times()
        {
            if (!GetSystemTimes(out var idle, out var kernel, out var user)) throw new IOException("GetSystemTimes failed");
            // Kernel time includes idle time.
            return (kernel + user - idle, kernel + user);
        }
        var first = Times();
        await Task.Delay(interval, ct).ConfigureAwait(false);
        var second = Times();
        var status = new MemoryStatusEx { Length = (uint)Marshal.SizeOf<MemoryStatusEx>() };
        if (!GlobalMemoryStatusEx(ref status)) throw new IOException("GlobalMemoryStatusEx failed");
        var cpu = second.total == first.total ? 0 : (second.busy - first.busy) * 100.0 / (second.total - first.total);
        return Build("Windows", cpu, (long)status.TotalPhys, (long)(status.TotalPhys - status.AvailPhys), null, environment);
    }

    private static async Task<HostResource> ReadMacAsync(string? environment, CancellationToken ct)
    {
        // top's second sample is the one measured over its 1 s interval; the first is since boot.
        var top = await RunAsync("top", ["-l", "2", "-n", "0", "-s", "1"], ct).ConfigureAwait(false);
        var cpu = ParseTopCpu(top);
        var total = long.Parse((await RunAsync("sysctl", ["-n", "hw.memsize"], ct).ConfigureAwait(false)).Trim(), CultureInfo.InvariantCulture);
        var available = ParseVmStatAvailable(await RunAsync("vm_stat", [], ct).ConfigureAwait(false));
        var load = ParseSysctlLoad(await RunAsync("sysctl", ["-n", "vm.loadavg"], ct).ConfigureAwait(false));
        return Build("macOS", cpu, total, total - available, load, environment);
    }

    private static HostResource Build(string os, double cpu, long total, long used, (double, double, double)? load, string? environment) => new()
    {
        Host = System.Environment.MachineName,
        OperatingSystem = os,
        CpuPercent = Math.Round(Math.Clamp(cpu, 0, 100), 1),
        MemoryTotalBytes = total,
        MemoryUsedBytes = used,
        MemoryPercent = total == 0 ? 0 : Math.Round(used * 100.0 / total, 1),
        Load1 = load?.Item1,
        Load5 = load?.Item2,
        Load15 = load?.Item3,
        ProcessorCount = System.Environment.ProcessorCount,
        Disks = ReadDisks(),
        Environment = environment,
        SampledAt = DateTimeOffset.UtcNow,
    };

    /// <summary>The aggregate cpu line of /proc/stat: (busy, total) jiffies; iowait counts as idle.</summary>
    public static (ulong busy, ulong total) ParseProcStat(string text)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal))
            ?? throw new FormatException("/proc/stat has no aggregate cpu line");
        var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => ulong.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        if (v.Length < 4) throw new FormatException("/proc/stat cpu line has fewer than 4 fields");
        // user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user/nice]
        var total = v.Take(Math.Min(v.Length, 8)).Aggregate(0UL, (a, b) => a + b);
        var idle = v[3] + (v.Length > 4 ? v[4] : 0);
        return (total - idle, total);
    }

    /// <summary>CPU % between two /proc/stat samples.</summary>
    public static double CpuPercent((ulong busy, ulong total) first, (ulong busy, ulong total) second) =>
        second.total <= first.total ? 0 : (second.busy - first.busy) * 100.0 / (second.total - first.total);

    /// <summary>MemTotal and MemAvailable (bytes) from /proc/meminfo; old kernels without MemAvailable use free+buffers+cached.</summary>
    public static (long total, long available) ParseMemInfo(string text)
    {
        var values = text.Split('\n').Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim(), p => long.Parse(p[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024, StringComparer.Ordinal);
        var total = values.TryGetValue("MemTotal", out var t) ? t : throw new FormatException("/proc/meminfo has no MemTotal");
        var available = values.TryGetValue("MemAvailable", out var a)
            ? a
            : values.GetValueOrDefault("MemFree") + values.GetValueOrDefault("Buffers") + values.GetValueOrDefault("Cached");
        return (total, available);
    }

    /// <summary>The three load averages of /proc/loadavg.</summary>
    public static (double, double, double) ParseLoadAverage(string text)
    {
        var p = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (double.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[1], CultureInfo.InvariantCulture), double.Parse(p[2], CultureInfo.InvariantCulture));
    }

    /// <summary>CPU % from the last "CPU usage: 5.12% user, 10.25% sys, 84.62% idle" line of macOS top.</summary>
    public static double ParseTopCpu(string text)
    {
        var match = TopCpu().Matches(text).LastOrDefault() ?? throw new FormatException("top printed no 'CPU usage' line");
        return 100 - double.Parse(match.Groups["idle"].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Available bytes from macOS vm_stat: (free + inactive + speculative) pages × page size.</summary>
    public static long ParseVmStatAvailable(string text)
    {
        var pageSize = VmStatPageSize().Match(text) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 4096;
        long Pages(string name) => Regex.Match(text, "^" + Regex.Escape(name) + @":\s+(\d+)\.", RegexOptions.Multiline) is { Success: true } p
            ? long.Parse(p.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return (Pages("Pages free") + Pages("Pages inactive") + Pages("Pages speculative")) * pageSize;
    }

    /// <summary>The load averages of macOS <c>sysctl -n vm.loadavg</c>: "{ 1.23 1.45 1.67 }".</summary>
    public static (double, double, double) ParseSysctlLoad(string text) => ParseLoadAverage(text.Trim().Trim('{', '}').Trim());

    private static async Task<string> RunAsync(string file, string[] args, CancellationToken ct)
    {
        var (code, output, _) = await Internal.CliProcess.RunAsync(file, args, ct).ConfigureAwait(false);
        return code == 0 ? output : throw new IOException($"{file} exited with {code}");
    }

    [GeneratedRegex(@"CPU usage:\s*[\d.]+% user,\s*[\d.]+% sys,\s*(?<idle>[\d.]+)% idle")]
    private static partial Regex TopCpu();

    [GeneratedRegex(@"page size of (\d+) bytes")]
    private static partial Regex VmStatPageSize();

    [DllImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool GetSystemTimes(out ulong idleTime, out ulong kernelTime, out ulong userTime);

    [DllImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool GlobalMemoryStatusEx(ref MemoryStatusEx buffer);

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryStatusEx
    {
        public uint Length;
        public uint MemoryLoad;
        public ulong TotalPhys;
        public ulong AvailPhys;
        public ulong TotalPageFile;
        public ulong AvailPageFile;
        public ulong TotalVirtual;
        public ulong AvailVirtual;
        public ulong AvailExtendedVirtual;
    }
}

/// <summary>This machine's CPU, memory or disks could not be read (an unknown platform, /proc unreadable).</summary>
public sealed class HostResourceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
