using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Health.Checks;

/// <summary>How a health target is named in a failure: its name, or its address, and the host:port behind a secret reference.</summary>
public static class TargetFailures
{
    /// <summary>Describes a failure to check <paramref name="target"/>.</summary>
    public static string Describe(Exception ex, HealthCheckTarget target) => FailureDescriber.Describe(ex, Where(target));

    /// <summary>How a target is named in messages: its address, or its name when the address is a secret reference.</summary>
    public static string Where(HealthCheckTarget target) => target.Connection?.Reference is not null ? target.Name : target.DisplayAddress;

    /// <summary>
    /// Like <see cref="Where(HealthCheckTarget)"/>, but a target whose connection is a secret reference is named with the
    /// host:port it resolves to ("database (10.0.0.5:5432)"): a failure must say what was tried, never the credentials.
    /// Resolving is bounded to 2 s; when it fails the name alone is used.
    /// </summary>
    public static async Task<string> WhereAsync(HealthCheckTarget target, ISecretResolver secrets, CancellationToken ct)
    {
        if (target.Connection?.Reference is null) return Where(target);
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(TimeSpan.FromSeconds(2));
            var value = await target.Connection.ResolveAsync(secrets, bounded.Token).ConfigureAwait(false);
            return HostPort.OfConnection(value) is { } hostPort ? $"{target.Name} ({hostPort})" : target.Name;
        }
#pragma warning disable CA1031 // naming the target must not replace the failure being reported
        catch (Exception)
#pragma warning restore CA1031
        {
            return target.Name;
        }
    }
}
