namespace OpsRunbook.Engine.Health;

/// <summary>How a session runs its checks.</summary>
public sealed class HealthCheckOptions
{
    /// <summary>Default for <see cref="ThrottleLimit"/>: enough to check an environment quickly, small enough not to look like an attack.</summary>
    public const int DefaultThrottleLimit = 32;

    /// <summary>Default for <see cref="TotalThrottleLimit"/>: a fleet's environments each get their own checks at once, within this many sockets in all.</summary>
    public const int DefaultTotalThrottleLimit = 256;

    /// <summary>How many checks of one environment (targets without one count as one) run at once.</summary>
    public int ThrottleLimit { get; init; } = DefaultThrottleLimit;

    /// <summary>How many checks run at once in all, whatever their environments (set it to <see cref="ThrottleLimit"/> for one limit).</summary>
    public int TotalThrottleLimit { get; init; } = DefaultTotalThrottleLimit;

    /// <summary>Per-attempt timeout for targets that set none; when <see cref="OverrideTimeout"/> it wins over theirs.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether <see cref="Timeout"/> replaces the targets' own timeouts (<c>-TimeoutSec</c> given).</summary>
    public bool OverrideTimeout { get; init; }

    /// <summary>Extra attempts for an Unhealthy outcome: the same as FailureThreshold = RetryCount + 1.</summary>
    public int RetryCount { get; init; }

    /// <summary>
    /// Consecutive failing attempts before a target is reported Unhealthy (Fly.io's rule is 3). Attempts stop early
    /// once <see cref="SuccessThreshold"/> consecutive attempts pass.
    /// </summary>
    public int FailureThreshold { get; init; } = 1;

    /// <summary>Consecutive passing attempts (Healthy or Degraded) before a target is reported as passing.</summary>
    public int SuccessThreshold { get; init; } = 1;

    /// <summary>The failure threshold in force: the larger of FailureThreshold and RetryCount + 1.</summary>
    public int EffectiveFailureThreshold => Math.Max(FailureThreshold, RetryCount + 1);

    /// <summary>First delay between attempts; doubles each time (with jitter).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Accept any TLS certificate for every target.</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the setting to fix.</summary>
    public void Validate()
    {
        if (ThrottleLimit is < 1 or > 1024) throw new ArgumentException($"ThrottleLimit must be between 1 and 1024 (got {ThrottleLimit})");
        if (TotalThrottleLimit is < 1 or > 4096) throw new ArgumentException($"TotalThrottleLimit must be between 1 and 4096 (got {TotalThrottleLimit})");
        if (Timeout <= TimeSpan.Zero) throw new ArgumentException("the timeout must be greater than zero");
        if (RetryCount is < 0 or > 100) throw new ArgumentException($"RetryCount must be between 0 and 100 (got {RetryCount})");
        if (RetryDelay < TimeSpan.Zero) throw new ArgumentException("the retry delay must not be negative");
        if (FailureThreshold is < 1 or > 100) throw new ArgumentException($"FailureThreshold must be between 1 and 100 (got {FailureThreshold})");
        if (SuccessThreshold is < 1 or > 100) throw new ArgumentException($"SuccessThreshold must be between 1 and 100 (got {SuccessThreshold})");
    }
}
