using OpsRunbook.Engine.Clients;
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
    /// <summary>
    /// Compares measured values with the target's thresholds: a Warning makes the target Degraded, a Critical Unhealthy.
    /// Returns the worst status and a note per value past a level.
    /// </summary>
    public static (HealthStatus status, IReadOnlyList<string> notes) Thresholds(HealthCheckTarget target, params (string metric, double? value, string label)[] values)
    {
        var profile = target.Thresholds ?? Metrics.ThresholdProfile.Defaults;
        var status = HealthStatus.Healthy;
        var notes = new List<string>();
        foreach (var (metric, value, label) in values)
        {
            if (value is not { } v || profile.RuleFor(metric) is not { } rule) continue;
            var severity = rule.Classify(v);
            if (severity == Metrics.AlertSeverity.Normal) continue;
            var s = Metrics.ThresholdEvaluator.ToHealth(severity);
            if (s < status) status = s;
            notes.Add($"{label} {v:0.##} is {severity.ToString().ToLowerInvariant()} ({rule.Describe()})");
        }
        return (status, notes);
    }

    public static CheckOutcome Decide(HealthCheckTarget target, HealthStatus baseStatus, string baseReason, double latencyMs,
        IReadOnlyDictionary<string, object?> data, ConditionContext context)
    {
        var results = target.Conditions.Select(c => ConditionParser.ParseCached(c).Evaluate(context)).ToList();
        var failed = results.Where(r => !r.Success).ToList();
        if (failed.Count > 0)
        {
            return new CheckOutcome(HealthStatus.Unhealthy, "condition failed: " + string.Join("; ", failed.Select(f => f.Description)) + " — " + baseReason,
                latencyMs, data, results);
        }
        if (baseStatus == HealthStatus.Healthy && target.DegradedAfter is { } limit && latencyMs > limit.TotalMilliseconds)
        {
            return new CheckOutcome(HealthStatus.Degraded,
                $"{baseReason}; slow: {latencyMs:0} ms is over the {OpsRunbook.Engine.Common.Duration.Format(limit)} degraded threshold", latencyMs, data, results);
        }
        return new CheckOutcome(baseStatus, baseReason, latencyMs, data, results);
    }
}
