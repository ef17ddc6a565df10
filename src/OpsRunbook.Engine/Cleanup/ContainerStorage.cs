using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Cleanup;

/// <summary>Which Docker engine to ask, through which docker CLI.</summary>
/// <param name="Docker">The docker executable (default: docker on PATH).</param>
/// <param name="Host">The engine's address (docker --host: unix:///var/run/docker.sock, tcp://…, ssh://…); default DOCKER_HOST or the local socket.</param>
/// <param name="Context">A docker context instead of a host.</param>
public sealed record DockerEngine(string? Docker = null, string? Host = null, string? Context = null)
{
    /// <summary>The engine in words, for messages and reports.</summary>
    public string Describe => Host ?? (Context is not null ? $"context {Context}" : Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "the local Docker engine");

    internal string Program => Docker ?? CliProcess.FindProgram("docker")
        ?? throw new ContainerStorageException("docker is not installed (not found on PATH): install the Docker CLI, or name it with -Docker");

    internal IEnumerable<string> Arguments(params string[] command) =>
        (Host is not null ? ["--host", Host] : Context is not null ? ["--context", Context] : Array.Empty<string>()).Concat(command);
}

/// <summary>A Docker engine could not be asked or answered with an error (the CLI's own words).</summary>
public sealed class ContainerStorageException(string message) : Exception(message);

/// <summary>What one kind of Docker object uses on disk, as `docker system df` counts it.</summary>
public sealed record ContainerStorageUsage : IReportable
{
    /// <summary>Images, Containers, Local Volumes or Build Cache.</summary>
    public required string Type { get; init; }
    /// <summary>How many there are.</summary>
    public int TotalCount { get; init; }
    /// <summary>How many are in use (images with containers, running containers, volumes mounted, cache in use).</summary>
    public int Active { get; init; }
    /// <summary>The space they take, in bytes (docker reports four significant digits).</summary>
    public long SizeBytes { get; init; }
    /// <summary>The space a prune could free, in bytes.</summary>
    public long ReclaimableBytes { get; init; }
    /// <summary>Reclaimable as a share of the size, 0–100.</summary>
    public double ReclaimablePercent => SizeBytes > 0 ? Math.Round(100.0 * ReclaimableBytes / SizeBytes, 1) : 0;
    /// <summary>The engine it was read from.</summary>
    public required string Engine { get; init; }
    /// <summary>When it was read.</summary>
    public DateTimeOffset CheckedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <inheritdoc />
    public override string ToString() => $"{Type}: {CleanupResult.FormatBytes(SizeBytes)}, {CleanupResult.FormatBytes(ReclaimableBytes)} reclaimable";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Container storage", $"{Type}: {Engine}", ReportOutcome.Info, "Measured", null,
            $"{TotalCount} ({Active} active), {CleanupResult.FormatBytes(SizeBytes)}, {CleanupResult.FormatBytes(ReclaimableBytes)} reclaimable",
            new KeyValuePair<string, string>[] { new("Size", CleanupResult.FormatBytes(SizeBytes)), new("Reclaimable", CleanupResult.FormatBytes(ReclaimableBytes)) }, CheckedAt);
    }
}

/// <summary>What Clear-ContainerStorage can prune.</summary>
public enum ContainerStorageKind
{
    /// <summary>Stopped containers (docker container prune).</summary>
    Containers,
    /// <summary>Dangling images, or every image no container uses with all (docker image prune).</summary>
    Images,
    /// <summary>Dangling build cache, or all unused with all (docker builder prune).</summary>
    BuildCache,
    /// <summary>Custom networks no container uses (docker network prune).</summary>
    Networks,
    /// <summary>Anonymous volumes no container uses (docker volume prune; named volumes are never pruned).</summary>
    Volumes,
}

/// <summary>
/// Runbook 001's weekly <c>docker system prune -f</c> and the "storage full" question, through the docker CLI (argument
/// lists, never a shell): <c>docker system df</c> read into numbers, and one prune per kind so each one's reclaimed
/// space and deleted objects are known. Named volumes are never pruned: they hold data (a database's, often).
/// </summary>
public static partial class ContainerStorage
{
    /// <summary>The kinds `docker system prune` removes (volumes only when asked).</summary>
    public static readonly IReadOnlyList<ContainerStorageKind> SystemPrune = new ContainerStorageKind[] { ContainerStorageKind.Containers, ContainerStorageKind.Networks, ContainerStorageKind.Images, ContainerStorageKind.BuildCache };

    /// <summary>docker system df: images, containers, local volumes and build cache.</summary>
    public static async Task<IReadOnlyList<ContainerStorageUsage>> ReadAsync(DockerEngine engine, CancellationToken cancellationToken)
    {
        var output = await RunAsync(engine, new string[] { "system", "df", "--format", "json" }, cancellationToken).ConfigureAwait(false);
        var usage = new List<ContainerStorageUsage>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var row = JsonDocument.Parse(line);
            var r = row.RootElement;
            string Text(string name) => r.TryGetProperty(name, out var v) ? v.ToString() : "";
            usage.Add(new ContainerStorageUsage
            {
                Type = Text("Type"),
                TotalCount = int.TryParse(Text("TotalCount"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var total) ? total : 0,
                Active = int.TryParse(Text("Active"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var active) ? active : 0,
                SizeBytes = ParseSize(Text("Size")),
                // "1.2GB (50%)"
                ReclaimableBytes = ParseSize(Text("Reclaimable").Split(' ')[0]),
                Engine = engine.Describe,
            });
        }
        return usage;
    }

    /// <summary>
    /// Prunes one kind; the objects docker reports deleted and the space it reclaimed. <paramref name="all"/>: every
    /// unused image or build cache record, not only dangling ones. <paramref name="until"/>: only what was created longer
    /// ago (not for volumes, which docker cannot filter by age).
    /// </summary>
    public static async Task<(IReadOnlyList<CleanupItem> Items, long Reclaimed)> PruneAsync(DockerEngine engine, ContainerStorageKind kind, bool all, TimeSpan? until, CancellationToken cancellationToken)
    {
        var command = kind switch
        {
            ContainerStorageKind.Containers => new List<string> { "container", "prune", "--force" },
            ContainerStorageKind.Images => ["image", "prune", "--force"],
            ContainerStorageKind.BuildCache => ["builder", "prune", "--force"],
            ContainerStorageKind.Networks => ["network", "prune", "--force"],
            _ => ["volume", "prune", "--force"],
        };
        if (all && kind is ContainerStorageKind.Images or ContainerStorageKind.BuildCache) command.Add("--all");
        if (until is { } age && kind != ContainerStorageKind.Volumes)
        {
            command.Add("--filter");
            command.Add(string.Create(CultureInfo.InvariantCulture, $"until={(long)age.TotalSeconds}s"));
        }
        var output = await RunAsync(engine, command, cancellationToken).ConfigureAwait(false);
        return Parse(kind, output);
    }

    /// <summary>Reads a prune's output: "Deleted Images:" and the like, one object per line, then "Total reclaimed space: 1.2GB".</summary>
    public static (IReadOnlyList<CleanupItem> Items, long Reclaimed) Parse(ContainerStorageKind kind, string output)
    {
        var items = new List<CleanupItem>();
        long reclaimed = 0;
        var inList = false;
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                inList = false;
            }
            else if (line.StartsWith("Total reclaimed space:", StringComparison.Ordinal))
            {
                reclaimed = ParseSize(line["Total reclaimed space:".Length..].Trim());
                inList = false;
            }
            else if (line.StartsWith("Deleted ", StringComparison.Ordinal) && line.EndsWith(':'))
            {
                inList = true;
            }
            else if (inList)
            {
                // An image is untagged, then deleted: each line is what happened ("untagged: app:v1", "deleted: sha256:…").
                items.Add(new CleanupItem($"{Noun(kind)} {line}", 0, CleanupOutcome.Removed, null));
            }
        }
        return (items, reclaimed);
    }

    private static string Noun(ContainerStorageKind kind) => kind switch
    {
        ContainerStorageKind.Containers => "container",
        ContainerStorageKind.Images => "image",
        ContainerStorageKind.BuildCache => "build cache",
        ContainerStorageKind.Networks => "network",
        _ => "volume",
    };

    [GeneratedRegex(@"^(?<n>\d+(?:\.\d+)?)\s*(?<unit>[kKMGTPEZY]i?)?B?$")]
    private static partial Regex SizeText();

    /// <summary>A size as docker prints it (go-units: 1.234GB, 512kB, 0B; decimal units) in bytes; 0 when unreadable.</summary>
    public static long ParseSize(string text)
    {
        var m = SizeText().Match(text.Trim());
        if (!m.Success) return 0;
        var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        var unit = m.Groups["unit"].Value;
        var binary = unit.EndsWith('i');
        var power = unit.Length == 0 ? 0 : "KMGTPEZY".IndexOf(char.ToUpperInvariant(unit[0])) + 1;
        return (long)Math.Round(n * Math.Pow(binary ? 1024 : 1000, power));
    }

    private static async Task<string> RunAsync(DockerEngine engine, IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        var program = engine.Program;
        (int code, string stdout, string stderr) run;
        try
        {
            run = await CliProcess.RunAsync(program, engine.Arguments([.. command]), cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            throw new ContainerStorageException($"docker is not installed at {program}: install the Docker CLI, or name it with -Docker");
        }
        if (run.code != 0)
        {
            var reason = run.stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? $"exit {run.code}";
            throw new ContainerStorageException($"docker {command[0]} {command[1]} failed on {engine.Describe}: {reason}");
        }
        return run.stdout;
    }
}

/// <summary>One Clear-ContainerStorage run's account: each kind's deleted objects and reclaimed space, or why it failed.</summary>
public sealed class ContainerCleanup(DockerEngine engine)
{
    private readonly List<CleanupItem> _items = [];
    private long _reclaimed;

    /// <summary>Whether anything was attempted.</summary>
    public bool Any { get; private set; }

    /// <summary>Prunes <paramref name="kind"/>; a failure joins the account (and is returned) instead of ending the run.</summary>
    public async Task<ContainerStorageException?> PruneAsync(ContainerStorageKind kind, bool all, TimeSpan? until, CancellationToken cancellationToken)
    {
        Any = true;
        try
        {
            var (items, reclaimed) = await ContainerStorage.PruneAsync(engine, kind, all, until, cancellationToken).ConfigureAwait(false);
            _items.AddRange(items);
            _reclaimed += reclaimed;
            return null;
        }
        catch (ContainerStorageException e)
        {
            _items.Add(new CleanupItem(kind.ToString(), 0, CleanupOutcome.Failed, e.Message));
            return e;
        }
    }

    /// <summary>The account.</summary>
    public CleanupResult Result() => new()
    {
        Kind = "Container storage",
        Target = engine.Describe,
        Items = _items.ToList(),
        ReclaimedBytes = _reclaimed,
        CompletedAt = DateTimeOffset.UtcNow,
    };
}
