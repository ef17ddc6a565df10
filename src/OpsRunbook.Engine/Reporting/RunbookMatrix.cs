using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OpsRunbook.Engine.Reporting;

/// <summary>One job of a matrix: the environments it checks (one, or several with -PerJob), of one system and file.</summary>
public sealed record RunbookMatrixJob(string Name, IReadOnlyList<string> Environments, string System, string ConfigPath)
{
    /// <summary>The environments as one value for the job (comma-separated when several).</summary>
    public string Environment => string.Join(",", Environments);
}

/// <summary>A matrix refused: more jobs than the CI system runs for one matrix.</summary>
public sealed class MatrixTooLargeException(string message) : Exception(message);

/// <summary>
/// The environments (and their systems) of one or more runbook.json files as a CI job matrix: GitHub Actions'
/// <c>{"include": [...]}</c> for <c>fromJSON</c>, and Azure Pipelines' object of named jobs for a matrix read from an
/// output variable. Environments of one system and file share a job when <see cref="Build"/> is given more than one per job.
/// </summary>
public sealed partial class RunbookMatrix
{
    /// <summary>GitHub's limit: a matrix generates at most 256 jobs per workflow run.</summary>
    public const int GitHubMaxJobs = 256;

    /// <summary>The jobs, in the order of the files and their environments.</summary>
    public IReadOnlyList<RunbookMatrixJob> Jobs { get; init; } = [];
    /// <summary>The environments in all jobs.</summary>
    public int Environments => Jobs.Sum(j => j.Environments.Count);
    /// <summary>The systems.</summary>
    public IReadOnlyList<string> Systems => Jobs.Select(j => j.System).Distinct(StringComparer.Ordinal).ToList();
    /// <summary>Whether each entry names its system.</summary>
    public bool IncludeSystem { get; init; }
    /// <summary>The matrix for GitHub Actions (one line of JSON: <c>strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}</c>).</summary>
    public string GitHub => Serialize(new JsonObject { ["include"] = new JsonArray(Jobs.Select(j => (JsonNode)Entry(j)).ToArray()) });
    /// <summary>The matrix for Azure Pipelines (one line of JSON: <c>strategy.matrix: $[ dependencies.plan.outputs['matrix.matrix'] ]</c>).</summary>
    public string Azure
    {
        get
        {
            var jobs = new JsonObject();
            foreach (var job in Jobs) jobs[job.Name] = Entry(job);
            return Serialize(jobs);
        }
    }

    private JsonObject Entry(RunbookMatrixJob job)
    {
        var entry = new JsonObject { ["name"] = job.Name, ["environment"] = job.Environment };
        if (IncludeSystem) entry["system"] = job.System;
        if (Jobs.Select(j => j.ConfigPath).Distinct(StringComparer.Ordinal).Skip(1).Any()) entry["config"] = job.ConfigPath;
        return entry;
    }

    private static string Serialize(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });

    /// <summary>
    /// The matrix of <paramref name="environments"/> (name, system, file), <paramref name="perJob"/> to a job, refused
    /// with a message that says how to shard when it makes more than <paramref name="maxJobs"/> jobs.
    /// </summary>
    public static RunbookMatrix Build(IEnumerable<(string Environment, string System, string ConfigPath)> environments, int perJob = 1, bool includeSystem = false,
        int maxJobs = GitHubMaxJobs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perJob, 1);
        var list = environments.DistinctBy(e => (e.Environment.ToUpperInvariant(), e.ConfigPath)).ToList();
        if (list.Count == 0) throw new ArgumentException("no environments to make a matrix of: check -Environment and the runbook.json files");
        var jobs = new List<RunbookMatrixJob>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in list.GroupBy(e => (e.System, e.ConfigPath)))
        {
            foreach (var chunk in group.Chunk(perJob))
            {
                var envs = chunk.Select(e => e.Environment).ToList();
                var name = JobName(includeSystem ? $"{group.Key.System}_{envs[0]}" : envs[0]) + (envs.Count > 1 ? $"_and_{envs.Count - 1}_more" : "");
                var unique = name;
                for (var n = 2; !names.Add(unique); n++) unique = $"{name}_{n}";
                jobs.Add(new RunbookMatrixJob(unique, envs, group.Key.System, group.Key.ConfigPath));
            }
        }
        if (jobs.Count > maxJobs)
        {
            var needed = (int)Math.Ceiling(list.Count / (double)maxJobs);
            while (list.GroupBy(e => (e.System, e.ConfigPath)).Sum(g => (g.Count() + needed - 1) / needed) > maxJobs) needed++;
            throw new MatrixTooLargeException(
                $"{list.Count} environments make {jobs.Count} jobs, and a GitHub Actions matrix runs at most {maxJobs}: use -PerJob {needed} (each job then checks {needed} environments in one bounded-parallel call: "
                + "'${{ matrix.environment }}'.Split(',') | Invoke-HealthCheck), or split the environments between plan jobs with -Environment patterns");
        }
        return new RunbookMatrix { Jobs = jobs, IncludeSystem = includeSystem };
    }

    /// <summary>A job name both runners accept (Azure's matrix job names: letters, digits and underscores).</summary>
    public static string JobName(string text)
    {
        var name = NotNameCharacters().Replace(text, "_").Trim('_');
        return name.Length == 0 ? "job" : char.IsAsciiDigit(name[0]) ? "_" + name : name;
    }

    [GeneratedRegex("[^A-Za-z0-9_]+")]
    private static partial Regex NotNameCharacters();
}
