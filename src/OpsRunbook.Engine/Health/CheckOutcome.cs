namespace OpsRunbook.Engine.Health;

/// <summary>What one attempt of a check found.</summary>
internal sealed record CheckOutcome(
    HealthStatus Status,
    string Reason,
    double LatencyMs,
    IReadOnlyDictionary<string, object?> Data,
    IReadOnlyList<ConditionResult> Conditions)
{
    public static CheckOutcome Failed(string reason, double latencyMs, IReadOnlyDictionary<string, object?>? data = null) =>
        new(HealthStatus.Unhealthy, reason, latencyMs, data ?? new Dictionary<string, object?>(), []);
}
