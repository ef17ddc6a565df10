using System.Management.Automation;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.PowerShell;

/// <summary>What the backup cmdlets share: the environment (its database, backup destination, AWS settings) and overrides.</summary>
public abstract class BackupCmdlet : EnvironmentCmdlet
{
    /// <summary>A database connection instead of the environment's: a reference (env:DATABASE_URL, secret:aws:ID#key, vault:VAULT/NAME) or a postgres:// URL.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Connection { get; set; }

    /// <summary>
    /// The environment, or null without one. A backup's Environment (from its manifest) binds here from the pipeline,
    /// so an environment this machine's runbook.json lacks is not an error by itself (<see cref="EnvironmentNeed.FromData"/>).
    /// </summary>
    protected EnvironmentConfig? Env() => ResolveEnvironment(EnvironmentNeed.FromData);

    /// <summary>The database connection: -Connection, else the environment's primary.</summary>
    protected SecretValue DatabaseConnection()
    {
        SecretValue connection;
        try
        {
            connection = Connection is not null
                ? SecretValue.Parse(Connection)
                : Env()?.Database?.Connection ?? throw new ArgumentException("give -Environment (with \"database\" in runbook.json) or -Connection" + EnvironmentUnavailable);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.DatabaseMissing, ErrorCategory.InvalidArgument, null));
            throw;
        }
        SupplyVaultSecret(Secrets, connection);
        return connection;
    }

    /// <summary>The AWS settings for S3 locations (the environment's, or the SDK's chains).</summary>
    protected OperationContext Context() => ContextOf(Env());

    /// <summary>The environment's backup destination (runbook.json "backup"."destination").</summary>
    protected BackupLocation EnvironmentDestination() =>
        Env()?.Backup?.Destination is { } d
            ? new BackupLocation(System.IO.Path.IsPathRooted(d) || d.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? d : SessionState.Path.GetUnresolvedProviderPathFromPSPath(d))
            : throw new PSArgumentException("give -Environment (with \"backup\".\"destination\" in runbook.json) or -Destination" + EnvironmentUnavailable);

    /// <summary>A location from a path or s3:// URI typed by a person (relative paths against PowerShell's location).</summary>
    protected BackupLocation LocationOf(string pathOrUri) =>
        new(pathOrUri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? pathOrUri : SessionState.Path.GetUnresolvedProviderPathFromPSPath(pathOrUri));

    /// <summary>A backup URI typed by a person, made absolute.</summary>
    protected string UriOf(string pathOrUri) =>
        pathOrUri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase) ? pathOrUri : SessionState.Path.GetUnresolvedProviderPathFromPSPath(pathOrUri);

    /// <summary>Runs Engine work with the backup error id.</summary>
    protected T Run<T>(Func<Task<T>> work, string where) => RunEngine(work, where, ErrorIds.BackupError);
}
