using OpsRunbook.Engine.Health.Conditions;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>Checks one kind of target. Failures to reach the target are thrown and turned into reasons by <see cref="FailureDescriber"/>.</summary>
internal interface ITargetCheck
{
    Task<CheckOutcome> RunAsync(HealthCheckTarget target, CheckServices services, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>What checks share within a session.</summary>
internal sealed class CheckServices(HttpClientCache http, ISecretResolver secrets, SecretRedactor redactor, bool skipCertificateCheck)
{
    public HttpClientCache Http { get; } = http;
    public ISecretResolver Secrets { get; } = secrets;
    public SecretRedactor Redactor { get; } = redactor;
    public bool SkipCertificateCheck { get; } = skipCertificateCheck;
}

/// <summary>Applies a target's conditions and its degraded-latency threshold to what a check observed.</summary>
internal static class Verdict
{
    public static CheckOutcome Decide(HealthCheckTarget target, HealthStatus baseStatus, string baseReason, double latencyMs,
        IReadOnlyDictionary<string, object?> data, ConditionContext context)
    {
        var results = target.Conditions.Select(c => ConditionParser.ParseCached(c).Evaluate(context)).ToList();
        var failed = results.Where(r => !r.Success).ToList();
        if (failed.Count > 0)
        {
            return new CheckOutcome(HealthStatus.Unhealthy, "condition failed: " + string.Join("; ", failed.Select(f => f.Description)), latencyMs, data, results);
        }
        if (baseStatus == HealthStatus.Healthy && target.DegradedAfter is { } limit && latencyMs > limit.TotalMilliseconds)
        {
            return new CheckOutcome(HealthStatus.Degraded,
                $"{baseReason}; slow: {latencyMs:0} ms is over the {Environments.Duration.Format(limit)} degraded threshold", latencyMs, data, results);
        }
        return new CheckOutcome(baseStatus, baseReason, latencyMs, data, results);
    }
}
