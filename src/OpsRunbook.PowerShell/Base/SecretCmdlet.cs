using System.Management.Automation;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets.Rotation;

namespace OpsRunbook.PowerShell;

/// <summary>What the Secrets Manager cmdlets share: the environment (its "aws" settings and "secrets") and the client.</summary>
public abstract class SecretCmdlet : EnvironmentCmdlet
{
    /// <summary>The environment, or null when none was given (then the AWS SDK's own credential and region chains apply).</summary>
    protected EnvironmentConfig? Env() => ResolveEnvironment(EnvironmentNeed.Optional);

    /// <summary>The configured secrets matching the names (all when none), or a terminating error naming the known ones.</summary>
    protected IReadOnlyList<ManagedSecretConfig> Configured(EnvironmentConfig env, string[]? names)
    {
        try
        {
            return SecretOperations.Select(env, names);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.SecretNotConfigured, ErrorCategory.ObjectNotFound, names));
            throw;
        }
    }

    /// <summary>A Secrets Manager client for the environment.</summary>
    protected SecretsManagerClient Client(EnvironmentConfig? env) => SecretOperations.Client(ContextOf(env));

    /// <summary>Runs Engine work with the secrets error id.</summary>
    protected T Run<T>(Func<Task<T>> work, string where) => RunEngine(work, where, ErrorIds.SecretsManagerError);
}
