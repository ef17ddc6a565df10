using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Secrets;

using static OpsRunbook.Engine.Deploy.JsonFields;

namespace OpsRunbook.Engine.Deploy;

/// <summary>Where the Compose project is (runbook.json "deploy": { "provider": "compose", "file", "service", "project", "imageVariable" }).</summary>
public sealed record ComposeSettings
{
    /// <summary>The compose file (its folder also holds OpsRunbook's release record).</summary>
    public required string File { get; init; }
    public required string Service { get; init; }
    public string? Project { get; init; }
    /// <summary>The variable the compose file takes the image tag from (image: repo/app:${APP_TAG}).</summary>
    public string ImageVariable { get; init; } = "APP_TAG";
    /// <summary>The docker executable (default: docker on PATH).</summary>
    public string Docker { get; init; } = "docker";
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// Docker Compose through the `docker compose` CLI (arguments as a list, never a shell). Compose keeps no history, so
/// OpsRunbook keeps one: each image seen running or deployed is recorded in <c>.opsrunbook-releases.json</c> beside the
/// compose file, and a rollback is `IMAGE_VARIABLE=&lt;tag&gt; docker compose up -d --no-deps --wait SERVICE`.
/// `ps --format json` is read in all three shapes Compose has printed (one object per line since v2.21, an array before,
/// a bare object for one container).
/// </summary>
public sealed partial class ComposeProvider(ComposeSettings settings, SecretRedactor? redactor = null) : IDeploymentProvider, IDeploymentLogSource
{
    public const string RecordFile = ".opsrunbook-releases.json";

    public string Name => "compose";

    private string RecordPath => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.File))!, RecordFile);

    public async Task<IReadOnlyList<DeploymentInstance>> GetInstancesAsync(CancellationToken ct)
    {
        var (code, stdout, stderr) = await ComposeAsync(new string[] { "ps", "--all", "--format", "json", settings.Service }, null, ct).ConfigureAwait(false);
        if (code != 0) throw new DeploymentProviderException(Name, $"docker compose ps failed ({code}): {FirstLine(stderr)}");
        var instances = ParsePs(stdout).Select(c =>
        {
            var state = Str(c, "State") ?? "unknown";
            var health = Str(c, "Health") ?? "";
            var exit = c["ExitCode"] is JsonValue e && e.TryGetValue<int>(out var x) ? x : 0;
            return new DeploymentInstance
            {
                Provider = Name, Id = Str(c, "ID") ?? Str(c, "Name") ?? "?", Name = Str(c, "Name"), State = state, Image = Str(c, "Image"), Group = Str(c, "Service"),
                Health = (state, health) switch
                {
                    ("running", "" or "healthy") => InstanceHealth.Healthy,
                    ("running", "starting") or ("restarting", _) or ("created", _) => InstanceHealth.Starting,
                    ("running", _) => InstanceHealth.Unhealthy,
                    ("exited", _) when exit == 0 => InstanceHealth.Stopped,
                    ("paused", _) => InstanceHealth.Stopped,
                    ("exited" or "dead", _) => InstanceHealth.Unhealthy,
                    _ => InstanceHealth.Unknown,
                },
            };
        }).ToList();
        // What runs now becomes part of the history, so the first rollback has something to go back to.
        if (instances.FirstOrDefault(i => i.Health == InstanceHealth.Healthy)?.Image is { } running) Record(running, "running");
        return instances;
    }

    public async Task<IReadOnlyList<DeploymentRelease>> GetReleasesAsync(int limit, CancellationToken ct)
    {
        var instances = await GetInstancesAsync(ct).ConfigureAwait(false);
        var running = instances.FirstOrDefault(i => i.State == "running")?.Image;
        var record = Load();
        var currentVersion = record.LastOrDefault(r => r.Image == running)?.Version;
        return record.OrderByDescending(r => r.Version).Take(limit).Select(r => new DeploymentRelease
        {
            Provider = Name, Id = r.Version.ToString(CultureInfo.InvariantCulture), Version = r.Version, Image = r.Image, Status = r.Status,
            Good = r.Status is "running" or "deployed", CreatedAt = r.At, IsCurrent = r.Version == currentVersion,
            Description = r.Status == "running" ? "seen running" : "deployed by OpsRunbook",
        }).ToList();
    }

    public async Task<int> RollbackAsync(DeploymentRelease target, Action<string> step, CancellationToken ct)
    {
        var image = target.Image ?? throw new ArgumentException("the release records no image");
        var colon = image.LastIndexOf(':');
        if (colon < 0 || colon < image.LastIndexOf('/')) throw new ArgumentException($"the image '{image}' has no tag to set in ${{{settings.ImageVariable}}}");
        var tag = image[(colon + 1)..];
        var seconds = Math.Max(1, (int)settings.WaitTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        // The tag goes into .env too: Compose interpolates ${VAR} from the project's .env when the process environment
        // lacks it, so the next `up` (a secret pushed, a scale) keeps the rolled-back image instead of the bad tag
        // still in .env, or a blank one. Written before `up`: a failed up leaves .env saying what was attempted, and
        // the record says it failed. A shell that sets the variable itself still wins, as Compose's precedence says.
        var previousTag = await ReadEnvFileValueAsync(settings.ImageVariable, ct).ConfigureAwait(false);
        await WriteEnvFileAsync(new Dictionary<string, string> { [settings.ImageVariable] = tag }, ct).ConfigureAwait(false);
        if (previousTag != tag) step($"{settings.ImageVariable}={tag} written to {EnvFilePath} (was {previousTag ?? "unset"})");
        step($"{settings.ImageVariable}={tag} docker compose up -d --no-deps --wait {settings.Service}");
        var (code, _, stderr) = await ComposeAsync(new string[] { "up", "-d", "--no-deps", "--wait", "--wait-timeout", seconds, settings.Service },
            new Dictionary<string, string> { [settings.ImageVariable] = tag }, ct).ConfigureAwait(false);
        if (code != 0)
        {
            Record(image, "failed");
            throw new DeploymentProviderException(Name, $"docker compose up failed ({code}): {FirstLine(stderr)}");
        }
        Record(image, "deployed");
        step($"{settings.Service} runs {image}");
        return (await GetInstancesAsync(ct).ConfigureAwait(false)).Count(i => i.Image == image);
    }

    public Task<int> RestartAsync(bool rolling, Action<string> step, CancellationToken ct) => ActAsync("restart", step, ct);

    public Task<int> StopAsync(Action<string> step, CancellationToken ct) => ActAsync("stop", step, ct);

    public Task<int> StartAsync(Action<string> step, CancellationToken ct) => ActAsync("start", step, ct);

    /// <summary>The .env file beside the compose file (mode 600), which the compose file interpolates; then `up -d --no-deps SERVICE` recreates the containers.</summary>
    public async Task<int> SetSecretsAsync(IReadOnlyDictionary<string, string> values, bool redeploy, Action<string> step, CancellationToken ct)
    {
        var path = EnvFilePath;
        await WriteEnvFileAsync(values, ct).ConfigureAwait(false);
        step($"{string.Join(", ", values.Keys)} written to {path}");
        if (redeploy)
        {
            var (code, _, stderr) = await ComposeAsync(new string[] { "up", "-d", "--no-deps", settings.Service }, null, ct).ConfigureAwait(false);
            if (code != 0) throw new DeploymentProviderException(Name, $"docker compose up failed ({code}): {FirstLine(stderr)}");
            step($"{settings.Service} recreated with the new values");
        }
        return values.Count;
    }

    /// <summary>The project's .env: Compose reads it from the compose file's directory.</summary>
    private string EnvFilePath => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.File))!, ".env");

    private async Task<string?> ReadEnvFileValueAsync(string name, CancellationToken ct)
    {
        if (!System.IO.File.Exists(EnvFilePath)) return null;
        var line = (await System.IO.File.ReadAllLinesAsync(EnvFilePath, ct).ConfigureAwait(false)).LastOrDefault(l => l.StartsWith(name + "=", StringComparison.Ordinal));
        return line?[(name.Length + 1)..].Trim('\'', '"');
    }

    /// <summary>Sets variables in the project's .env (mode 600, replaced atomically), keeping every other line.</summary>
    private async Task WriteEnvFileAsync(IReadOnlyDictionary<string, string> values, CancellationToken ct)
    {
        var path = EnvFilePath;
        var lines = System.IO.File.Exists(path) ? (await System.IO.File.ReadAllLinesAsync(path, ct).ConfigureAwait(false)).ToList() : [];
        foreach (var (name, value) in values)
        {
            if (!VariableName().IsMatch(name)) throw new ArgumentException($"'{name}' is not a variable name (letters, digits, _)");
            if (value.Contains('\n', StringComparison.Ordinal)) throw new ArgumentException($"the value of {name} has a line break, which a .env file cannot hold");
            // Single quotes: Compose reads the value literally (no ${} interpolation, no escapes), so it cannot hold one itself.
            if (value.Contains('\'', StringComparison.Ordinal)) throw new ArgumentException($"the value of {name} contains a single quote, which a literal .env value cannot hold");
            var line = $"{name}='{value}'";
            var at = lines.FindIndex(l => l.StartsWith(name + "=", StringComparison.Ordinal));
            if (at >= 0) lines[at] = line;
            else lines.Add(line);
        }
        var temp = path + ".partial";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the values are secrets
        await using (var f = new FileStream(temp, options))
        await using (var w = new StreamWriter(f))
        {
            foreach (var l in lines) await w.WriteLineAsync(l).ConfigureAwait(false);
        }
        System.IO.File.Move(temp, path, overwrite: true);
    }

    /// <summary>`docker compose up -d --no-deps --scale SERVICE=N SERVICE`. Memory and regions are the compose file's business.</summary>
    public async Task<int> ScaleAsync(ScaleRequest request, Action<string> step, CancellationToken ct)
    {
        if (request.MemoryMb is not null || request.Region is not null)
        {
            throw new DeploymentProviderException(Name, "Compose has no regions, and memory is set in the compose file (deploy.resources.limits.memory): edit it and redeploy");
        }
        var count = request.Count ?? throw new ArgumentException("give -Count");
        var n = count.ToString(CultureInfo.InvariantCulture);
        var (code, _, stderr) = await ComposeAsync(new string[] { "up", "-d", "--no-deps", "--scale", $"{settings.Service}={n}", settings.Service }, null, ct).ConfigureAwait(false);
        if (code != 0) throw new DeploymentProviderException(Name, $"docker compose up --scale failed ({code}): {FirstLine(stderr)}");
        step($"{settings.Service} scaled to {n}");
        return (await GetInstancesAsync(ct).ConfigureAwait(false)).Count;
    }

    /// <summary>`docker compose restart|stop|start SERVICE`, then the containers it left.</summary>
    private async Task<int> ActAsync(string verb, Action<string> step, CancellationToken ct)
    {
        var (code, _, stderr) = await ComposeAsync(new string[] { verb, settings.Service }, null, ct).ConfigureAwait(false);
        if (code != 0) throw new DeploymentProviderException(Name, $"docker compose {verb} failed ({code}): {FirstLine(stderr)}");
        step($"docker compose {verb} {settings.Service}");
        return (await GetInstancesAsync(ct).ConfigureAwait(false)).Count;
    }

    /// <summary>`docker compose ps --format json` in any of its shapes.</summary>
    internal static IReadOnlyList<JsonObject> ParsePs(string stdout)
    {
        var text = stdout.Trim();
        if (text.Length == 0) return [];
        try
        {
            if (text.StartsWith('[')) return JsonNode.Parse(text)!.AsArray().OfType<JsonObject>().ToList();
            return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new DeploymentProviderException("compose", $"docker compose ps printed something that is not JSON: {FirstLine(text)}");
        }
    }

    private sealed record Entry(int Version, string Image, string Status, DateTimeOffset At);

    private List<Entry> Load()
    {
        if (!System.IO.File.Exists(RecordPath)) return [];
        return JsonSerializer.Deserialize<List<Entry>>(System.IO.File.ReadAllText(RecordPath)) ?? [];
    }

    /// <summary>Appends an image to the record unless it is already the newest entry with that status.</summary>
    private void Record(string image, string status)
    {
        var record = Load();
        var last = record.LastOrDefault();
        if (last is not null && last.Image == image && (last.Status == status || status == "running")) return;
        record.Add(new Entry((last?.Version ?? 0) + 1, image, status, DateTimeOffset.UtcNow));
        var temp = RecordPath + ".partial";
        System.IO.File.WriteAllText(temp, JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true }));
        System.IO.File.Move(temp, RecordPath, overwrite: true);
    }

    private async Task<(int code, string stdout, string stderr)> ComposeAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment, CancellationToken ct)
    {
        if (!VariableName().IsMatch(settings.ImageVariable)) throw new ArgumentException($"\"imageVariable\" must be a variable name (letters, digits, _), not '{settings.ImageVariable}'");
        var all = new List<string> { "compose", "-f", settings.File };
        if (settings.Project is not null) all.AddRange(new string[] { "-p", settings.Project });
        all.AddRange(args);
        try
        {
            return await CliProcess.RunAsync(settings.Docker, all, ct, environment).ConfigureAwait(false);
        }
        catch (FileNotFoundException)
        {
            throw new DeploymentProviderException(Name, $"'{settings.Docker}' was not found: install Docker with the compose plugin, or set \"deploy\".\"docker\"");
        }
    }

    private static string FirstLine(string text) => text.Trim().Split('\n')[0];

    /// <summary>
    /// `docker compose logs --timestamps --no-color [--since T] [--until T] [--tail N] [--follow] [SERVICE]` (argument
    /// list, no shell): every service unless one is asked for, each line read as Compose writes it ("web-1  | time
    /// message") and then the app's own JSON or logfmt inside. --tail is per container in Compose, so without --follow
    /// the last N of all containers are kept here by time. A follow ends at -Until: the process is stopped then.
    /// </summary>
    public async IAsyncEnumerable<LogRecord> ReadLogsAsync(DeploymentLogRequest request, Action<string> notice, [EnumeratorCancellation] CancellationToken ct)
    {
        var args = new List<string> { "compose", "-f", settings.File };
        if (settings.Project is not null) args.AddRange(new string[] { "-p", settings.Project });
        args.AddRange(new string[] { "logs", "--timestamps", "--no-color" });
        if (request.Since is { } since) args.AddRange(new string[] { "--since", since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) });
        if (request.Until is { } until && !request.Follow) args.AddRange(new string[] { "--until", until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) });
        if (request.Tail > 0) args.AddRange(new string[] { "--tail", request.Tail.ToString(CultureInfo.InvariantCulture) });
        if (request.Follow) args.Add("--follow");
        if (!string.IsNullOrEmpty(request.Service)) args.Add(request.Service);
        var source = "compose:" + (settings.Project ?? settings.Service);
        await foreach (var record in CliLogs.ReadAsync(settings.Docker, args, request,
            line => LogLineParser.Parse(LogReader.Scrub(line, redactor is null ? null : redactor.ScrubKnown), LogFormat.Compose, source),
            r => string.IsNullOrEmpty(request.Instance) || string.Equals(r.Instance, request.Instance, StringComparison.Ordinal),
            (code, stderr) => new DeploymentProviderException(Name, $"docker compose logs failed ({code}): {FirstLine(stderr)}"),
            () => new DeploymentProviderException(Name, $"'{settings.Docker}' was not found: install Docker with the compose plugin, or set \"deploy\".\"docker\""), ct).ConfigureAwait(false))
        {
            yield return record;
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();
}
