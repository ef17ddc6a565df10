using Polly;
using Polly.Retry;

namespace OpsRunbook.Engine.Common;

/// <summary>
/// The one retry rule of every remote call the module makes (S3, Secrets Manager, the deploy providers' APIs): a
/// transient failure — a 429, a 5xx, a throttling error, a dropped connection — is tried again up to a number of times,
/// waiting what the server's Retry-After says (capped at <see cref="MaxWait"/>) or an exponential backoff from
/// <see cref="FirstWait"/> with jitter. Built on Polly; the wait goes through <c>delay</c> so tests record it instead
/// of sleeping. What counts as transient is the caller's: each service says it differently.
/// </summary>
internal static class Retries
{
    /// <summary>The first backoff; each retry doubles it.</summary>
    public static readonly TimeSpan FirstWait = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait, whatever Retry-After asks.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    /// <summary>For calls that fail by exception: retries when <paramref name="transient"/> says so.</summary>
    public static ResiliencePipeline OnExceptions(int maxRetries, Func<Exception, bool> transient, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        if (maxRetries <= 0) return ResiliencePipeline.Empty;
        var wait = delay ?? Task.Delay;
        return new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = maxRetries,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && transient(e)),
            // The wait is ours (OnRetry), so that one rule and one test hook decide it for every client.
            DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(TimeSpan.Zero),
            OnRetry = async args => await wait(Wait(null, args.AttemptNumber), args.Context.CancellationToken).ConfigureAwait(false),
        }).Build();
    }

    /// <summary>For calls that answer with a result (an HTTP status): retries when <paramref name="transient"/> says so, waiting <paramref name="retryAfter"/> when the answer carries one.</summary>
    public static ResiliencePipeline<T> OnResults<T>(int maxRetries, Func<T, bool> transient, Func<T, TimeSpan?> retryAfter, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        if (maxRetries <= 0) return ResiliencePipeline<T>.Empty;
        var wait = delay ?? Task.Delay;
        return new ResiliencePipelineBuilder<T>().AddRetry(new RetryStrategyOptions<T>
        {
            MaxRetryAttempts = maxRetries,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is null && transient(args.Outcome.Result!)),
            DelayGenerator = _ => ValueTask.FromResult<TimeSpan?>(TimeSpan.Zero),
            OnRetry = async args => await wait(Wait(retryAfter(args.Outcome.Result!), args.AttemptNumber), args.Context.CancellationToken).ConfigureAwait(false),
        }).Build();
    }

    /// <summary>Retry-After when given (never negative, never over <see cref="MaxWait"/>), else 200 ms × 2^attempt ± 20 %.</summary>
    public static TimeSpan Wait(TimeSpan? retryAfter, int attempt)
    {
        var wait = retryAfter ?? FirstWait * Math.Pow(2, attempt) * (0.8 + 0.4 * Random.Shared.NextDouble());
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxWait ? MaxWait : wait;
    }
}
