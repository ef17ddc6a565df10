using System.Diagnostics;
using Npgsql;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.Engine.Database;

/// <summary>What both failover drills share: the clock started when writes stop, the steps as they end, the wait for a write, the health checks.</summary>
internal sealed class DrillLog(IProgress<FailoverStep>? progress)
{
    private readonly List<FailoverStep> _steps = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>When the drill began (writes stopped).</summary>
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public TimeSpan Elapsed => _clock.Elapsed;

    public FailoverStep Step(string name, bool ok, string detail)
    {
        var step = new FailoverStep(name, DateTimeOffset.UtcNow, _clock.Elapsed, ok, detail);
        _steps.Add(step);
        progress?.Report(step);
        return step;
    }

    /// <summary>
    /// Tries <paramref name="write"/> (in a write transaction) until it commits on a server <paramref name="reject"/>
    /// has nothing against (it says why not, or null) or the drill is <paramref name="timeout"/> old; records "New
    /// primary takes writes". Returns the recovery time (null: never) and what the write returned.
    /// </summary>
    public async Task<(TimeSpan? Recovery, T? Value)> WaitForWriteAsync<T>(DatabaseSession session, TimeSpan timeout, Func<NpgsqlConnection, Task<T>> write,
        Func<T, string?>? reject, CancellationToken ct)
    {
        string? lastError = null;
        while (_clock.Elapsed < timeout)
        {
            try
            {
                var value = await session.WriteAsync(write, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
                if (reject?.Invoke(value) is { } why)
                {
                    lastError = why;
                    await Task.Delay(100, ct).ConfigureAwait(false);
                    continue;
                }
                var recovery = _clock.Elapsed;
                Step("New primary takes writes", true, $"after {recovery.TotalSeconds:0.00} s");
                return (recovery, value);
            }
            catch (Exception e) when (e is NpgsqlException or PostgresException or TimeoutException)
            {
                lastError = e.Message;
                await Task.Delay(100, ct).ConfigureAwait(false);
            }
        }
        Step("New primary takes writes", false, $"no write within {timeout.TotalSeconds:0} s: {lastError}");
        return (null, default);
    }

    /// <summary>Runs the environment's checks, if any, as the last step.</summary>
    public async Task<IReadOnlyList<HealthCheckResult>> HealthChecksAsync(Func<CancellationToken, Task<IReadOnlyList<HealthCheckResult>>>? checks, CancellationToken ct)
    {
        if (checks is null) return [];
        var health = await checks(ct).ConfigureAwait(false);
        Step("Health checks", true, $"{health.Count(h => h.Status == HealthStatus.Healthy)} of {health.Count} healthy");
        return health;
    }

    public FailoverDrillResult Result(string? environment, string target, string oldPrimary, string newPrimary, TimeSpan? recovery, TimeSpan recoveryTarget, string? targetSource,
        long lost, IReadOnlyList<HealthCheckResult> health, IReadOnlyList<string> nextSteps) => new()
    {
        Environment = environment,
        Target = target,
        OldPrimary = oldPrimary,
        NewPrimary = newPrimary,
        StartedAt = Started,
        RecoveryTime = recovery,
        RecoveryTarget = recoveryTarget,
        RecoveryTargetSource = targetSource,
        DataLossBytes = lost,
        Steps = _steps.ToArray(),
        HealthChecks = health,
        NextSteps = nextSteps,
    };
}
