using System.Diagnostics;
using System.Runtime.CompilerServices;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Health;

/// <summary>
/// Checks a set of targets in rounds until every one reaches a status ("verify deployment", "monitor for 15 minutes"):
/// one HealthReport per round; a <see cref="HealthWaitTimeoutException"/> naming what still fails when time runs out.
/// </summary>
public static class HealthWait
{
    /// <summary>Runs rounds every <paramref name="interval"/> until all targets are at least <paramref name="until"/>, or <paramref name="timeout"/> passes.</summary>
    public static async IAsyncEnumerable<HealthReport> RunAsync(
        IReadOnlyList<HealthCheckTarget> targets,
        HealthCheckOptions options,
        SecretResolver secrets,
        HealthStatus until,
        TimeSpan timeout,
        TimeSpan interval,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (targets.Count == 0) throw new ArgumentException("there is nothing to wait for: no targets");
        if (timeout <= TimeSpan.Zero) throw new ArgumentException("the timeout must be greater than zero");
        if (interval <= TimeSpan.Zero) throw new ArgumentException("the interval must be greater than zero");
        var clock = Stopwatch.StartNew();
        for (var round = 1; ; round++)
        {
            var started = clock.Elapsed;
            var results = new List<HealthCheckResult>(targets.Count);
            using (var session = new HealthCheckSession(options, secrets))
            {
                await foreach (var r in session.RunAsync(targets, cancellationToken).ConfigureAwait(false)) results.Add(r);
            }
            var report = HealthReport.From(results, clock.Elapsed - started, DateTimeOffset.UtcNow, round);
            yield return report;
            if (report.Status >= until) yield break;
            var next = clock.Elapsed - started < interval ? interval - (clock.Elapsed - started) : TimeSpan.Zero;
            if (clock.Elapsed + next >= timeout)
            {
                throw new HealthWaitTimeoutException(report, until, timeout, round);
            }
            await Task.Delay(next, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Wait-HealthCheck ran out of time; the message lists what is still below the wanted status.</summary>
public sealed class HealthWaitTimeoutException(HealthReport last, HealthStatus until, TimeSpan timeout, int rounds)
    : TimeoutException($"not {until} after {OpsRunbook.Engine.Common.Duration.Format(timeout)} ({rounds} round{(rounds == 1 ? "" : "s")}); still failing: " +
        string.Join("; ", last.Entries.Where(e => e.Status < until).Select(e => $"{e.Name}: {e.Status} ({e.Reason})")))
{
    /// <summary>The last round's report.</summary>
    public HealthReport LastReport { get; } = last;
}
