using System.Globalization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Deploy;

/// <summary>How an instance is doing, across providers.</summary>
public enum InstanceHealth
{
    /// <summary>Running and passing its checks (or running with no checks defined).</summary>
    Healthy,
    /// <summary>Starting, updating, or checks not yet passing.</summary>
    Starting,
    /// <summary>Stopped on purpose (scaled to zero, suspended).</summary>
    Stopped,
    /// <summary>Failed, crashed, or running with failing checks.</summary>
    Unhealthy,
    /// <summary>The provider said nothing we can read.</summary>
    Unknown,
}

/// <summary>One machine, container or pod of a deployment (Get-DeploymentStatus).</summary>
public sealed class DeploymentInstance : IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Health switch
        {
            InstanceHealth.Healthy => ReportOutcome.Pass,
            InstanceHealth.Starting => ReportOutcome.Warn,
            InstanceHealth.Stopped => ReportOutcome.Info,
            _ => ReportOutcome.Fail,
        };
        yield return new ReportRow("Deployment instances", Id, outcome, Health.ToString(), Environment, $"{State} {Image}",
            new KeyValuePair<string, string>[] { new("Region", Region ?? ""), new("Release", ReleaseVersion ?? ""), new("Group", Group ?? "") }, DateTimeOffset.UtcNow);
    }

    public string? Environment { get; internal set; }
    /// <summary>fly, railway, compose or kubernetes.</summary>
    public required string Provider { get; init; }
    public required string Id { get; init; }
    public string? Name { get; init; }
    /// <summary>The provider's own state word (started, running, exited, CrashLoopBackOff…).</summary>
    public required string State { get; init; }
    public required InstanceHealth Health { get; init; }
    public string? Image { get; init; }
    public string? Region { get; init; }
    /// <summary>Process group (Fly), service (Compose, Railway) or ReplicaSet revision (Kubernetes).</summary>
    public string? Group { get; init; }
    /// <summary>The release the instance runs, when the provider records it.</summary>
    public string? ReleaseVersion { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public override string ToString() => $"{Id} {State} {Image}";
}

/// <summary>A release (Fly release, Railway deployment, Compose image tag we recorded, Kubernetes ReplicaSet revision).</summary>
public sealed class DeploymentRelease : IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Deployment releases", Version is { } v ? "v" + v.ToString(CultureInfo.InvariantCulture) : Id, ReportOutcome.Info,
            Status + (IsCurrent ? " (current)" : ""), Environment, $"{Image} {Description}".Trim(), new KeyValuePair<string, string>[] { new("User", User ?? ""), new("Created", CreatedAt?.ToString("u", CultureInfo.InvariantCulture) ?? "") },
            CreatedAt ?? DateTimeOffset.UtcNow);
    }

    public string? Environment { get; internal set; }
    public required string Provider { get; init; }
    /// <summary>The provider's id (Fly release id, Railway deployment id, revision number).</summary>
    public required string Id { get; init; }
    /// <summary>The release number where the provider has one.</summary>
    public int? Version { get; init; }
    public string? Image { get; init; }
    /// <summary>The provider's status word (complete, failed, SUCCESS, CRASHED…).</summary>
    public required string Status { get; init; }
    /// <summary>Whether the provider considers it a good release to return to.</summary>
    public required bool Good { get; init; }
    public string? Description { get; init; }
    public string? User { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public bool IsCurrent { get; internal set; }
    public override string ToString() => $"v{Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Id} {Status} {Image}";
}

/// <summary>The outcome of Start-Rollback.</summary>
public sealed class RollbackResult : IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Status switch { "Succeeded" => ReportOutcome.Pass, "Planned" => ReportOutcome.Info, _ => ReportOutcome.Fail };
        yield return new ReportRow("Rollbacks", Environment ?? Provider, outcome, Status, Environment, Error ?? $"{From?.ToString() ?? "?"} → {To}; {InstancesUpdated} instance(s)",
            new KeyValuePair<string, string>[] { new("Provider", Provider), new("From", From?.ToString() ?? ""), new("To", To.ToString()) }, DateTimeOffset.UtcNow, Duration.TotalMilliseconds);
    }

    public string? Environment { get; internal set; }
    public required string Provider { get; init; }
    public DeploymentRelease? From { get; init; }
    public required DeploymentRelease To { get; init; }
    /// <summary>Succeeded, Failed or Planned (-WhatIf).</summary>
    public required string Status { get; init; }
    /// <summary>Instances moved to the target release.</summary>
    public int InstancesUpdated { get; init; }
    /// <summary>The environment's health after the rollback (the last round of its checks); null when none were run.</summary>
    public OpsRunbook.Engine.Health.HealthStatus? FinalHealth { get; init; }
    /// <summary>The checks not Healthy in that last round (name: reason).</summary>
    public IReadOnlyList<string> FinalFailing { get; init; } = [];
    public TimeSpan Duration { get; init; }
    /// <summary>What happened, step by step.</summary>
    public IReadOnlyList<string> Steps { get; init; } = [];
    public string? Error { get; init; }
    public override string ToString() => $"{Provider} {From} → {To}: {Status}";
}

/// <summary>A deployment platform, as the deployment cmdlets use it. Implementations change nothing unless asked to.</summary>
public interface IDeploymentProvider
{
    /// <summary>fly, railway, compose or kubernetes.</summary>
    string Name { get; }

    Task<IReadOnlyList<DeploymentInstance>> GetInstancesAsync(CancellationToken ct);

    /// <summary>Newest first; the one running is IsCurrent.</summary>
    Task<IReadOnlyList<DeploymentRelease>> GetReleasesAsync(int limit, CancellationToken ct);

    /// <summary>Moves every instance to <paramref name="target"/>, and waits until they are up. Reports each step.</summary>
    Task<int> RollbackAsync(DeploymentRelease target, Action<string> step, CancellationToken ct);

    /// <summary>Restarts every instance: one at a time, each up before the next (rolling), or all at once.</summary>
    Task<int> RestartAsync(bool rolling, Action<string> step, CancellationToken ct);

    /// <summary>Stops every instance (runbook 002's emergency shutdown); StartAsync brings them back.</summary>
    Task<int> StopAsync(Action<string> step, CancellationToken ct);

    /// <summary>Starts what StopAsync stopped, and waits until it is up.</summary>
    Task<int> StartAsync(Action<string> step, CancellationToken ct);

    /// <summary>
    /// Sets variables/secrets on the platform (values travel only in request bodies, stdin or a mode-600 file — never a
    /// command line) and, with <paramref name="redeploy"/>, makes the instances pick them up. Returns how many were set.
    /// </summary>
    Task<int> SetSecretsAsync(IReadOnlyDictionary<string, string> values, bool redeploy, Action<string> step, CancellationToken ct);

    /// <summary>Changes the instance count and/or size; returns the instance count after. Unsupported parts throw with what to do instead.</summary>
    Task<int> ScaleAsync(ScaleRequest request, Action<string> step, CancellationToken ct);
}

/// <summary>What Set-DeploymentScale changes: the number of instances (in a region, where the provider has regions) and/or their memory.</summary>
public sealed record ScaleRequest(int? Count, int? MemoryMb, string? Region)
{
    public override string ToString() => string.Join(", ", new[]
    {
        Count is { } c ? $"count {c}" : null, MemoryMb is { } m ? $"memory {m} MB" : null, Region is { } r ? $"region {r}" : null,
    }.Where(x => x is not null));
}

/// <summary>The outcome of Restart-, Stop- and Start-Deployment.</summary>
public sealed class DeploymentActionResult : IReportable
{
    public string? Environment { get; init; }
    public required string Provider { get; init; }
    /// <summary>Restart, Stop or Start.</summary>
    public required string Action { get; init; }
    /// <summary>Succeeded or Planned (-WhatIf).</summary>
    public required string Status { get; init; }
    public int Instances { get; init; }
    public TimeSpan Duration { get; init; }
    public IReadOnlyList<string> Steps { get; init; } = [];

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Deployment actions", $"{Action} {Environment}", Status == "Succeeded" ? ReportOutcome.Pass : ReportOutcome.Info, Status, Environment,
            $"{Action}: {Instances} instance(s)", new KeyValuePair<string, string>[] { new("Provider", Provider) }, DateTimeOffset.UtcNow, Duration.TotalMilliseconds);
    }

    public override string ToString() => $"{Action} {Environment} ({Provider}): {Status}, {Instances} instance(s)";
}

/// <summary>A provider refused or failed a request; the message says what to do. Never carries a token.</summary>
public sealed class DeploymentProviderException(string provider, string message, int? statusCode = null, Exception? inner = null) : Exception($"{provider}: {message}", inner)
{
    public string Provider { get; } = provider;
    public int? StatusCode { get; } = statusCode;
}

/// <summary>Choosing the release to go back to.</summary>
public static class ReleasePicker
{
    /// <summary>
    /// The release to roll back to: <paramref name="requested"/> (by id or version) when given, else the newest good
    /// release older than the current one whose image differs from it. Throws with what to do when there is none.
    /// </summary>
    public static DeploymentRelease Pick(IReadOnlyList<DeploymentRelease> releases, string? requested, string provider)
    {
        if (requested is not null)
        {
            var match = releases.FirstOrDefault(r => r.Id == requested || (r.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) == requested.TrimStart('v', 'V')));
            if (match is null) throw new ArgumentException($"{provider} has no release '{requested}'; Get-DeploymentRelease lists them");
            // Named as Get-DeploymentRelease shows it (v3), not by the provider's internal id (rel_3).
            if (match.IsCurrent) throw new ArgumentException($"release {Label(match)} is the one running; name an earlier release (Get-DeploymentRelease lists them)");
            return match;
        }
        var current = releases.FirstOrDefault(r => r.IsCurrent);
        var older = current is null ? releases.Skip(1) : releases.SkipWhile(r => !r.IsCurrent).Skip(1);
        // A different image, where both are known (Railway deployments may record none; it rolls back by deployment id).
        return older.FirstOrDefault(r => r.Good && (r.Image is null || current?.Image is null || r.Image != current.Image))
            ?? throw new DeploymentNotPossibleException(releases.Count <= 1
                ? $"{provider} has no previous release to roll back to (only {releases.Count} release{(releases.Count == 1 ? "" : "s")} recorded)"
                : $"{provider} has no earlier successful release with a different image; name one with -Release");
    }

    /// <summary>A release as people see it: v3, or the provider's id where it has no version.</summary>
    public static string Label(DeploymentRelease release) =>
        release.Version is { } v ? "v" + v.ToString(System.Globalization.CultureInfo.InvariantCulture) : release.Id;
}

/// <summary>What was asked cannot be done with this deployment as it is (no earlier release to roll back to).</summary>
public sealed class DeploymentNotPossibleException(string message) : InvalidOperationException(message);

/// <summary>Which logs to read from a platform (Get-DeploymentLog).</summary>
public sealed record DeploymentLogRequest
{
    /// <summary>Only records at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }
    /// <summary>Only records before this time; with <see cref="Follow"/>, when to stop.</summary>
    public DateTimeOffset? Until { get; init; }
    /// <summary>Only the last N records of what is read (not with Follow); 0: all.</summary>
    public int Tail { get; init; }
    /// <summary>Keep reading new records until <see cref="Until"/> or cancellation.</summary>
    public bool Follow { get; init; }
    /// <summary>One instance (a Fly machine id).</summary>
    public string? Instance { get; init; }
    /// <summary>One region (Fly.io).</summary>
    public string? Region { get; init; }
    /// <summary>One service (Compose, Railway); default: all of the environment's.</summary>
    public string? Service { get; init; }
    /// <summary>Request logs instead of the application's output (Railway's httpLogs: method, path, status, duration).</summary>
    public bool Http { get; init; }
}

/// <summary>A platform whose logs can be read: records oldest first, as the platform's own client reads them.</summary>
public interface IDeploymentLogSource
{
    /// <summary>
    /// The records the request selects. <paramref name="notice"/> hears what the caller should know but is not an
    /// error (the window reaches past what the platform still keeps).
    /// </summary>
    IAsyncEnumerable<Logs.LogRecord> ReadLogsAsync(DeploymentLogRequest request, Action<string> notice, CancellationToken ct);
}

