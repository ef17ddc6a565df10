using System.Collections.Concurrent;
using System.Globalization;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Environments;

/// <summary>
/// Values for tab completion that live outside runbook.json (an environment's releases, its backups). Completion runs
/// at the prompt, so each lookup is bounded (<see cref="Timeout"/>), kept for <see cref="Lifetime"/> so repeated Tabs
/// cost nothing, and never fails: a provider that cannot be reached offers nothing.
/// </summary>
public static class CompletionSource
{
    private static readonly ConcurrentDictionary<string, (DateTimeOffset At, IReadOnlyList<string> Values)> Cache = new(StringComparer.Ordinal);

    /// <summary>How long one lookup may take.</summary>
    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a lookup's answer is reused.</summary>
    public static TimeSpan Lifetime { get; } = TimeSpan.FromSeconds(30);

    /// <summary>The environment's releases, newest first, as -Release takes them (the version, else the id).</summary>
    public static IReadOnlyList<string> Releases(RunbookConfig config, string environment) =>
        Cached($"releases\u0001{config.Path}\u0001{environment}", async ct =>
        {
            var env = config.GetEnvironment(environment);
            var secrets = Resolver(env);
            var provider = await DeploymentOperations.ProviderAsync(env, new OperationContext(secrets, secrets.Redactor) { Aws = env.Aws, Environment = env.Name, Cancellation = ct }, config.Path).ConfigureAwait(false);
            try
            {
                var releases = await DeploymentOperations.ReleasesAsync(provider, env.Name, 50, ct).ConfigureAwait(false);
                return releases.Select(r => r.Version?.ToString(CultureInfo.InvariantCulture) ?? r.Id).ToList();
            }
            finally
            {
                (provider as IDisposable)?.Dispose();
            }
        });

    /// <summary>The backups in the environment's destination, newest first, as -BackupUri takes them.</summary>
    public static IReadOnlyList<string> Backups(RunbookConfig config, string environment, string currentDirectory) =>
        Cached($"backups\u0001{config.Path}\u0001{environment}\u0001{currentDirectory}", async ct =>
        {
            var env = config.GetEnvironment(environment);
            if (env.Backup?.Destination is not { } destination) return [];
            var location = new BackupLocation(destination.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? destination : Path.GetFullPath(destination, currentDirectory));
            var secrets = Resolver(env);
            using var store = await BackupStores.OpenAsync(location, new OperationContext(secrets, secrets.Redactor) { Aws = env.Aws, Environment = env.Name, Cancellation = ct }).ConfigureAwait(false);
            var backups = await BackupCatalog.ListAsync(store, null, null, null, ct).ConfigureAwait(false);
            return backups.OrderByDescending(b => b.StartedAt).Select(b => b.BackupUri).ToList();
        });

    private static SecretResolver Resolver(EnvironmentConfig env)
    {
        var secrets = new SecretResolver();
        if (env.Aws is not null) secrets.UseAws(env.Aws);
        return secrets;
    }

    private static IReadOnlyList<string> Cached(string key, Func<CancellationToken, Task<IReadOnlyList<string>>> load)
    {
        if (Cache.TryGetValue(key, out var hit) && DateTimeOffset.UtcNow - hit.At < Lifetime) return hit.Values;
        using var cancel = new CancellationTokenSource(Timeout);
        try
        {
            var values = Task.Run(() => load(cancel.Token), cancel.Token).GetAwaiter().GetResult();
            Cache[key] = (DateTimeOffset.UtcNow, values);
            return values;
        }
#pragma warning disable CA1031 // completion at a prompt must never throw: an unreachable provider offers nothing
        catch (Exception)
#pragma warning restore CA1031
        {
            return [];
        }
    }
}
