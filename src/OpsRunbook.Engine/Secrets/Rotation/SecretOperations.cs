using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.Engine.Secrets.Rotation;

/// <summary>What the secrets cmdlets do, so they stay thin: pick secrets from runbook.json, build requests, evaluate policy.</summary>
public static class SecretOperations
{
    /// <summary>The environment's configured secrets matching <paramref name="patterns"/> (wildcards; all when none). A pattern matching nothing is an error naming the known ones.</summary>
    public static IReadOnlyList<ManagedSecretConfig> Select(EnvironmentConfig env, IReadOnlyCollection<string>? patterns)
    {
        if (patterns is { Count: > 0 })
        {
            foreach (var p in patterns)
            {
                if (!env.Secrets.Any(s => NamePattern.Matches(s.Name, p)))
                {
                    throw new ArgumentException(env.Secrets.Count == 0
                        ? $"environment '{env.Name}' has no \"secrets\" in runbook.json; add one (\"secrets\": {{\"database\": {{\"secretId\": \"prod/db\"}}}}) or use -SecretId"
                        : $"environment '{env.Name}' has no secret '{p}'; it has {string.Join(", ", env.Secrets.Select(s => s.Name))}");
                }
            }
        }
        return env.Secrets.Where(s => NamePattern.MatchesAny(s.Name, patterns)).ToList();
    }

    /// <summary>A rotation request for a configured secret, with command-line overrides.</summary>
    public static SecretRotationRequest Request(EnvironmentConfig? env, ManagedSecretConfig secret, RotationStrategy? strategy = null, int? length = null,
        string? excludeCharacters = null, string? token = null, TimeSpan? connectTimeout = null)
    {
        var chosen = strategy is null or RotationStrategy.Auto ? secret.Strategy : strategy.Value;
        var policy = secret.Password with
        {
            Length = length ?? secret.Password.Length,
            ExcludeCharacters = excludeCharacters ?? secret.Password.ExcludeCharacters,
        };
        return new SecretRotationRequest
        {
            SecretId = secret.SecretId,
            Strategy = chosen,
            AdminSecretId = secret.AdminSecretId,
            Password = policy,
            Field = secret.Field,
            ClientRequestToken = token,
            PersistRedis = secret.Persist,
            Environment = env?.Name,
            Connection = new RotationConnectionOptions
            {
                ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(10),
                CaCertificatePath = chosen is RotationStrategy.RedisAcl or RotationStrategy.RedisRequirePass ? env?.Redis?.CaCertificate : env?.Database?.CaCertificate,
            },
        };
    }

    /// <summary>A Secrets Manager client for the context's environment (its "aws" settings, else the SDK's chains).</summary>
    public static SecretsManagerClient Client(OperationContext context) =>
        new(context.Aws ?? AwsSettings.Default, context.Secrets, context.Redactor);

    /// <summary>
    /// Rotation status of the configured secrets, and with <paramref name="listPrefix"/> of every secret whose name
    /// starts with it (an empty prefix lists all). A secret that cannot be read is reported, not thrown.
    /// </summary>
    public static async Task<IReadOnlyList<SecretRotationStatusInfo>> StatusAsync(SecretsManagerClient client, EnvironmentConfig? env,
        IReadOnlyList<ManagedSecretConfig> configured, string? listPrefix, DateTimeOffset now, TimeSpan dueSoon, CancellationToken ct)
    {
        var results = new List<SecretRotationStatusInfo>();
        foreach (var s in configured)
        {
            try
            {
                var d = await client.DescribeSecretAsync(s.SecretId, ct).ConfigureAwait(false);
                results.Add(SecretPolicy.Evaluate(d, s, env?.Name, now, dueSoon));
            }
            catch (AwsServiceException e)
            {
                results.Add(SecretPolicy.Unreadable(s.SecretId, s, env?.Name, e.Message));
            }
        }
        if (listPrefix is not null)
        {
            foreach (var d in await client.ListSecretsAsync(listPrefix.Length == 0 ? null : listPrefix, ct).ConfigureAwait(false))
            {
                if (configured.Any(c => c.SecretId == d.Name || c.SecretId == d.Arn)) continue;
                results.Add(SecretPolicy.Evaluate(d, null, env?.Name, now, dueSoon));
            }
        }
        return results;
    }
}
