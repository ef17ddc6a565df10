using System.Diagnostics;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Deploy;

/// <summary>One round of Watch-Deployment.</summary>
public sealed class WatchRound : IReportable
{
    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Deployment watch rounds", $"round {Round}", Status == HealthStatus.Unhealthy ? ReportOutcome.Warn : ReportOutcome.Pass, Status.ToString(), Environment,
            Failing.Count == 0 ? $"{Healthy} healthy" : string.Join("; ", Failing), new KeyValuePair<string, string>[] { new("InARow", ConsecutiveFailures.ToString(System.Globalization.CultureInfo.InvariantCulture)) }, Timestamp);
    }

    public string? Environment { get; init; }
    public required int Round { get; init; }
    public required HealthStatus Status { get; init; }
    public int Healthy { get; init; }
    public int Unhealthy { get; init; }
    /// <summary>Unhealthy rounds in a row, this one included.</summary>
    public int ConsecutiveFailures { get; init; }
    /// <summary>The targets that were not healthy.</summary>
    public IReadOnlyList<string> Failing { get; init; } = [];
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public override string ToString() => $"round {Round}: {Status} ({ConsecutiveFailures} failing in a row)";
}

/// <summary>
/// How a watch ended: Healthy (the whole duration passed), Unhealthy (threshold reached, no auto rollback), RolledBack
/// (and healthy again), or RolledBackUnhealthy (rolled back, but not healthy within the rollback timeout).
/// </summary>
public sealed class WatchVerdict : IReportable
{
    public string? Environment { get; init; }
    public required string Verdict { get; init; }
    public required int Rounds { get; init; }
    public required TimeSpan Duration { get; init; }
    public int FailedRounds { get; init; }
    public RollbackResult? Rollback { get; init; }
    public string? Reason { get; init; }

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        yield return new ReportRow("Deployment watch", Environment ?? "", Verdict == "Healthy" ? ReportOutcome.Pass : ReportOutcome.Fail, Verdict, Environment,
            Reason ?? $"{Rounds} rounds, {FailedRounds} unhealthy", new KeyValuePair<string, string>[] { new("Rounds", Rounds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("RolledBackTo", Rollback?.To.ToString() ?? "") }, DateTimeOffset.UtcNow, Duration.TotalMilliseconds);
    }

    public override string ToString() => $"{Environment}: {Verdict} after {Rounds} rounds";
}

/// <summary>Watch-Deployment's settings.</summary>
public sealed record WatchOptions
{
    /// <summary>How long to watch (runbook 000: 15 minutes after a deploy).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Unhealthy rounds in a row that mean the deploy failed (Fly's rule: 3).</summary>
    public int FailureThreshold { get; init; } = 3;
    public bool AutoRollback { get; init; }
    /// <summary>After an automatic rollback, how long its health checks may take: the watch's verdict comes at most this
    /// long (plus the rollback itself) after its duration.</summary>
    public TimeSpan RollbackTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Test hooks: a virtual clock (elapsed time) and how to wait between rounds.</summary>
    internal Func<TimeSpan>? Elapsed { get; init; }
    internal Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }
}

/// <summary>
/// Watches an environment's health after a deploy; after <see cref="WatchOptions.FailureThreshold"/> unhealthy rounds in
/// a row it stops and, with AutoRollback, rolls back — Fly's automatic rule, for every provider. Degraded does not count
/// as a failure; one healthy round resets the count.
/// </summary>
public static class DeploymentWatch
{
    public static async Task<WatchVerdict> RunAsync(IReadOnlyList<HealthCheckTarget> targets, WatchOptions options, IDeploymentProvider? provider, string? environment,
        SecretResolver secrets, Action<WatchRound> onRound, Action<string> progress, CancellationToken ct)
    {
        if (targets.Count == 0) throw new ArgumentException($"environment '{environment}' has no health checks to watch (endpoints, database, redis in runbook.json)");
        if (options.FailureThreshold < 1) throw new ArgumentException("the failure threshold must be at least 1");
        if (options.AutoRollback && provider is null) throw new ArgumentException($"-AutoRollback needs a \"deploy\" provider for environment '{environment}'");
        var stopwatch = Stopwatch.StartNew();
        var elapsed = options.Elapsed ?? (() => stopwatch.Elapsed);
        var delay = options.Delay ?? Task.Delay;
        var consecutive = 0;
        var failed = 0;
        for (var round = 1; ; round++)
        {
            var started = elapsed();
            var results = new List<HealthCheckResult>(targets.Count);
            using (var session = new HealthCheckSession(new HealthCheckOptions(), secrets))
            {
                await foreach (var r in session.RunAsync(targets, ct).ConfigureAwait(false)) results.Add(r);
            }
            var report = HealthReport.From(results, elapsed() - started, DateTimeOffset.UtcNow, round);
            var unhealthy = report.Status == HealthStatus.Unhealthy;
            consecutive = unhealthy ? consecutive + 1 : 0;
            if (unhealthy) failed++;
            onRound(new WatchRound
            {
                Environment = environment, Round = round, Status = report.Status, Healthy = report.Healthy, Unhealthy = report.Unhealthy, ConsecutiveFailures = consecutive,
                Failing = report.Entries.Where(e => e.Status != HealthStatus.Healthy).Select(e => $"{e.Name}: {e.Reason}").ToList(),
            });
            if (consecutive >= options.FailureThreshold)
            {
                var why = $"{consecutive} unhealthy rounds in a row (threshold {options.FailureThreshold})";
                if (!options.AutoRollback)
                {
                    return new WatchVerdict { Environment = environment, Verdict = "Unhealthy", Rounds = round, FailedRounds = failed, Duration = elapsed(), Reason = why };
                }
                progress($"{why}: rolling back");
                var rollback = await DeploymentOperations.RollbackAsync(provider!, environment, null, false, targets, secrets, options.RollbackTimeout, progress, ct,
                    unhealthyIsData: true).ConfigureAwait(false);
                var healthy = rollback.FinalHealth is null or HealthStatus.Healthy;
                return new WatchVerdict
                {
                    Environment = environment, Verdict = healthy ? "RolledBack" : "RolledBackUnhealthy", Rounds = round, FailedRounds = failed, Duration = elapsed(), Rollback = rollback,
                    Reason = healthy ? why : $"{why}; rolled back to {rollback.To}, but not healthy within {OpsRunbook.Engine.Common.Duration.Format(options.RollbackTimeout)}: {string.Join("; ", rollback.FinalFailing)}",
                };
            }
            var next = options.Interval - (elapsed() - started);
            if (next < TimeSpan.Zero) next = TimeSpan.Zero;
            if (elapsed() + next >= options.Duration)
            {
                return new WatchVerdict
                {
                    Environment = environment, Verdict = consecutive == 0 ? "Healthy" : "Unhealthy", Rounds = round, FailedRounds = failed, Duration = elapsed(),
                    Reason = consecutive == 0 ? null : $"the watch ended on {consecutive} unhealthy round(s), below the threshold of {options.FailureThreshold}",
                };
            }
            await delay(next, ct).ConfigureAwait(false);
        }
    }
}
