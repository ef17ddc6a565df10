using System.Diagnostics;
using System.Threading.Channels;
using OpsRunbook.Engine.Clients;
using OpsRunbook.Engine.Health.Checks;
using OpsRunbook.Engine.Secrets;
using Polly.Retry;
using Polly;

namespace OpsRunbook.Engine.Health;

/// <summary>
/// Runs health checks concurrently (at most ThrottleLimit at once) and hands out each result as soon as it is done.
/// Targets can be submitted while earlier ones run, so a PowerShell pipeline streams: the cmdlet submits in
/// ProcessRecord, writes whatever finished, and drains the rest in EndProcessing. A check that fails is a result
/// (Unhealthy with a reason); only cancellation stops a session.
/// </summary>
public sealed class HealthCheckSession : IDisposable
{
    private static readonly Dictionary<TargetKind, ITargetCheck> Checks = new()
    {
        [TargetKind.Http] = new HttpCheck(),
        [TargetKind.Tcp] = new TcpCheck(),
        [TargetKind.Postgres] = new PostgresCheck(),
        [TargetKind.Redis] = new RedisCheck(),
        [TargetKind.Jwks] = new JwksCheck(),
        [TargetKind.Dns] = new DnsCheck(),
        [TargetKind.S3] = new S3Check(),
        [TargetKind.SecretsManager] = new SecretsManagerCheck(),
    };

    private readonly HealthCheckOptions _options;
    private readonly CheckServices _services;
    private readonly HttpClientCache _http = new();
    private readonly SemaphoreSlim _throttle;
    // Each environment's own limit (the same hosts), inside the session's total (sockets, memory).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _perEnvironment = new(StringComparer.OrdinalIgnoreCase);
    private readonly Channel<HealthCheckResult> _results = Channel.CreateUnbounded<HealthCheckResult>();
    private readonly CancellationTokenSource _cancel = new();
    private readonly ResiliencePipeline<CheckOutcome> _retry;
    private readonly Stopwatch _clock = new();
    private static readonly ResiliencePropertyKey<Attempts> AttemptsKey = new("OpsRunbook.Attempts");
    private readonly int _failureThreshold;
    private readonly int _successThreshold;
    private int _pending;
    private int _completing;

    /// <summary>Attempts a target gets at most: enough to reach either threshold, plus a little room for a flapping target.</summary>
    private int MaxAttempts => _failureThreshold == 1 && _successThreshold == 1 ? 1 : _failureThreshold + _successThreshold + 1;

    /// <summary>Consecutive passing and failing attempts of one target.</summary>
    private sealed class Attempts
    {
        public int Count;
        public int Failing;
        public int Passing;
        public int FailedTotal;
        public bool Decided;
    }

    /// <summary>Starts a session; <paramref name="secrets"/> resolves database and Redis connections when they are checked.</summary>
    public HealthCheckSession(HealthCheckOptions options, SecretResolver secrets)
    {
        options.Validate();
        _options = options;
        _services = new CheckServices(_http, secrets, secrets.Redactor, options.SkipCertificateCheck);
        _throttle = new SemaphoreSlim(options.TotalThrottleLimit, options.TotalThrottleLimit);
        _failureThreshold = options.EffectiveFailureThreshold;
        _successThreshold = options.SuccessThreshold;
        _retry = MaxAttempts == 1
            ? ResiliencePipeline<CheckOutcome>.Empty
            : new ResiliencePipelineBuilder<CheckOutcome>()
                .AddRetry(new RetryStrategyOptions<CheckOutcome>
                {
                    MaxRetryAttempts = MaxAttempts - 1,
                    Delay = options.RetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    MaxDelay = TimeSpan.FromSeconds(30),
                    UseJitter = true,
                    // Attempt again until one of the thresholds is reached (the callback keeps the count per target).
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is null && !args.Context.Properties.GetValue(AttemptsKey, new Attempts()).Decided),
                })
                .Build();
    }

    /// <summary>Wall-clock time since the first submission.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Starts checking a target. Throws <see cref="ArgumentException"/> (what to fix) for a target that cannot be checked at all.</summary>
    public void Submit(HealthCheckTarget target)
    {
        Validate(target);
        if (Volatile.Read(ref _completing) != 0) throw new InvalidOperationException("the session no longer accepts targets");
        // What a URL's ${VAR}s expanded to is masked wherever the check's words go (a token in a query string).
        foreach (var value in target.SubstitutedValues) _services.Redactor.Add(value);
        if (!_clock.IsRunning) _clock.Start();
        Interlocked.Increment(ref _pending);
        _ = Task.Run(() => RunAndPublishAsync(target));
    }

    /// <summary>Takes a finished result without waiting.</summary>
    public bool TryTakeResult(out HealthCheckResult result) => _results.Reader.TryRead(out result!);

    /// <summary>Stops accepting targets and yields every remaining result as it completes (blocking the caller between results).</summary>
    public IEnumerable<HealthCheckResult> CompleteAndDrain(CancellationToken cancellationToken = default)
    {
        Complete();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancel.Token);
        while (true)
        {
            while (_results.Reader.TryRead(out var r)) yield return r;
            bool more;
            try
            {
                more = _results.Reader.WaitToReadAsync(linked.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
            if (!more) yield break;
        }
    }

    /// <summary>Checks all <paramref name="targets"/> and yields results as they complete.</summary>
    public async IAsyncEnumerable<HealthCheckResult> RunAsync(IEnumerable<HealthCheckTarget> targets,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var t in targets) Submit(t);
        Complete();
        await foreach (var r in _results.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)) yield return r;
    }

    /// <summary>Cancels every running check (Ctrl+C in PowerShell).</summary>
    public void Cancel() => _cancel.Cancel();

    /// <summary>Rejects targets that cannot be checked, saying what to fix.</summary>
    public static void Validate(HealthCheckTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var kind = target.Kind;
        switch (kind)
        {
            case TargetKind.Http or TargetKind.Jwks when !Uri.TryCreate(target.Address, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"):
                throw new ArgumentException($"target '{target.Name}': '{target.DisplayAddress}' is not an http:// or https:// URL");
            case TargetKind.Dns:
                DnsCheck.Parse(target.Address);
                break;
            case TargetKind.S3:
                S3Check.Parse(target.Address);
                break;
            case TargetKind.SecretsManager:
                SecretsManagerCheck.Parse(target.Address);
                break;
            case TargetKind.Tcp:
                TcpCheck.Parse(target.Address);
                break;
            case TargetKind.Postgres or TargetKind.Redis when target.Connection is null:
                throw new ArgumentException($"target '{target.Name}': a {kind} target needs a Connection (a reference such as env:DATABASE_URL, or a URL)");
        }
        if (target.Timeout is { } t && t <= TimeSpan.Zero) throw new ArgumentException($"target '{target.Name}': the timeout must be greater than zero");
        foreach (var c in target.Conditions) Conditions.ConditionParser.ParseCached(c);
    }

    private void Complete()
    {
        if (Interlocked.Exchange(ref _completing, 1) == 0 && Volatile.Read(ref _pending) == 0)
        {
            _results.Writer.TryComplete();
        }
    }

    private async Task RunAndPublishAsync(HealthCheckTarget target)
    {
        try
        {
            var result = await CheckAsync(target).ConfigureAwait(false);
            _results.Writer.TryWrite(result);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Session cancelled: no result for this target.
        }
        catch (Exception ex)
        {
            // A defect must not lose a target silently: report it as a result, scrubbed like any other reason.
            _results.Writer.TryWrite(new HealthCheckResult
            {
                Environment = target.Environment,
                Target = target,
                Status = HealthStatus.Unhealthy,
                Reason = _services.Redactor.Scrub($"internal error while checking: {ex.GetType().Name}: {ex.Message}"),
                CheckedAt = DateTimeOffset.UtcNow,
            });
        }
        finally
        {
            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _completing) != 0)
            {
                _results.Writer.TryComplete();
            }
        }
    }

    private async Task<HealthCheckResult> CheckAsync(HealthCheckTarget target)
    {
        var ct = _cancel.Token;
        // The environment's slot first, then one of the session's: a check waiting for its environment holds no socket.
        var environment = _options.ThrottleLimit >= _options.TotalThrottleLimit ? null
            : _perEnvironment.GetOrAdd(target.Environment ?? "", _ => new SemaphoreSlim(_options.ThrottleLimit, _options.ThrottleLimit));
        if (environment is not null) await environment.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _throttle.WaitAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            environment?.Release();
            throw;
        }
        try
        {
            var timeout = _options.OverrideTimeout ? _options.Timeout : target.Timeout ?? _options.Timeout;
            var state = new Attempts();
            var context = ResilienceContextPool.Shared.Get(ct);
            context.Properties.Set(AttemptsKey, state);
            CheckOutcome outcome;
            try
            {
                outcome = await _retry.ExecuteAsync(async (ctx, s) =>
                {
                    var result = await AttemptAsync(target, timeout, ctx.CancellationToken).ConfigureAwait(false);
                    s.Count++;
                    if (result.Status == HealthStatus.Unhealthy)
                    {
                        s.Failing++;
                        s.FailedTotal++;
                        s.Passing = 0;
                    }
                    else
                    {
                        s.Passing++;
                        s.Failing = 0;
                    }
                    s.Decided = s.Failing >= _failureThreshold || s.Passing >= _successThreshold;
                    return result;
                }, context, state).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
            if (!state.Decided)
            {
                // Neither threshold reached within the attempts: the target flaps. Not down, not fine.
                outcome = outcome with
                {
                    Status = HealthStatus.Degraded,
                    Reason = $"flapping: {state.FailedTotal} of {state.Count} attempts failed, never {_failureThreshold} in a row; last: {outcome.Reason}",
                };
            }
            var attempts = state.Count;
            var redactor = _services.Redactor;
            return new HealthCheckResult
            {
                Environment = target.Environment,
                Target = target,
                Status = outcome.Status,
                LatencyMs = Math.Round(outcome.LatencyMs, 3),
                Reason = redactor.Scrub(outcome.Reason),
                Data = outcome.Data,
                Conditions = outcome.Conditions.Select(c => c with { Description = redactor.Scrub(c.Description) }).ToList(),
                Attempts = attempts,
                CheckedAt = DateTimeOffset.UtcNow,
            };
        }
        finally
        {
            _throttle.Release();
            environment?.Release();
        }
    }

    private async Task<CheckOutcome> AttemptAsync(HealthCheckTarget target, TimeSpan timeout, CancellationToken sessionToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(sessionToken);
        attempt.CancelAfter(timeout);
        var sw = Stopwatch.StartNew();
        try
        {
            return await Checks[target.Kind].RunAsync(target, _services, timeout, attempt.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!sessionToken.IsCancellationRequested && (ex is OperationCanceledException || IsTimeout(ex)) && attempt.IsCancellationRequested)
        {
            var where = await Health.Checks.TargetFailures.WhereAsync(target, _services.Secrets, sessionToken).ConfigureAwait(false);
            return CheckOutcome.Failed($"no answer from {where} within {OpsRunbook.Engine.Common.Duration.Format(timeout)}", sw.Elapsed.TotalMilliseconds);
        }
        catch (Exception ex) when (!sessionToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            var where = await Health.Checks.TargetFailures.WhereAsync(target, _services.Secrets, sessionToken).ConfigureAwait(false);
            return CheckOutcome.Failed(_services.Redactor.Scrub(FailureDescriber.Describe(ex, where)), sw.Elapsed.TotalMilliseconds);
        }
    }

    private static bool IsTimeout(Exception ex) => ex is TimeoutException || ex.InnerException is TimeoutException or OperationCanceledException;

    /// <inheritdoc />
    public void Dispose()
    {
        _cancel.Cancel();
        _http.Dispose();
        _throttle.Dispose();
        foreach (var environment in _perEnvironment.Values) environment.Dispose();
        _cancel.Dispose();
    }
}
