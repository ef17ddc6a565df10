using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell;

/// <summary>How a cmdlet needs its environment.</summary>
public enum EnvironmentNeed
{
    /// <summary>Without one the cmdlet cannot work: a missing name or an unknown environment stops it.</summary>
    Required,
    /// <summary>Without a name the cmdlet works from its other parameters; a name that is given must exist.</summary>
    Optional,
    /// <summary>
    /// The name may come from data (a backup's manifest) about an environment this machine's runbook.json lacks: then
    /// it is not an error by itself; one warning says so, and the explicit parameters and AWS defaults apply.
    /// </summary>
    FromData,
}

/// <summary>
/// The one -Environment parameter and the one way it is resolved: runbook.json located and parsed once per file for the
/// whole pipeline (<see cref="OpsRunbookCmdlet.LoadConfig"/> caches it), each environment resolved once, its AWS
/// settings and vault: secrets handed to the resolver. Every cmdlet that reads an environment's configuration derives
/// from it.
/// </summary>
public abstract class EnvironmentCmdlet : OpsRunbookCmdlet
{
    private readonly Dictionary<string, EnvironmentConfig?> _environments = new(StringComparer.OrdinalIgnoreCase);
    private string? _unavailable;

    /// <summary>The runbook.json environment to use.</summary>
    /// <remarks>A cmdlet whose parameter sets make the environment mandatory in some of them overrides the declaration
    /// (PowerShell reads the most derived property's attributes only); the resolution below stays the one way.</remarks>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public virtual string? Environment { get; set; }

    /// <summary>What this chapter reads from an environment, for the message when none is given ("deploy", "secrets"...).</summary>
    protected virtual string EnvironmentSection => "environment";

    /// <summary>Why the named environment could not be used (FromData), for messages about what is missing instead.</summary>
    protected string EnvironmentUnavailable => _unavailable is null ? "" : $" (environment '{Environment}': {_unavailable})";

    /// <summary>
    /// The environment named by <paramref name="name"/> (default -Environment), resolved once per pipeline; null when
    /// <paramref name="need"/> allows it. Configuration errors stop the cmdlet with the file, line and field. Call it on
    /// the pipeline thread (never inside Engine work): it may write a warning or a verbose line. <paramref name="configPath"/>
    /// names another runbook.json than -ConfigPath (an environment piped from Get-RunbookEnvironment carries its own).
    /// </summary>
    protected EnvironmentConfig? ResolveEnvironment(EnvironmentNeed need, string? name = null, string? configPath = null)
    {
        name ??= Environment;
        if (string.IsNullOrEmpty(name))
        {
            if (need == EnvironmentNeed.Required)
            {
                ThrowTerminatingError(new ErrorRecord(new PSArgumentException($"give -Environment: the runbook.json environment whose \"{EnvironmentSection}\" to use"),
                    ErrorIds.EnvironmentMissing, ErrorCategory.InvalidArgument, null));
            }
            return null;
        }
        var key = configPath is null ? name : $"{configPath}\u0001{name}";
        if (_environments.TryGetValue(key, out var known)) return known;
        EnvironmentConfig? env;
        if (need == EnvironmentNeed.FromData)
        {
            env = TryEnvironment(name);
        }
        else
        {
            try
            {
                env = LoadConfig(configPath).GetEnvironment(name);
            }
            catch (RunbookConfigException ex)
            {
                ThrowTerminatingError(ConfigError(ex));
                throw;
            }
        }
        if (env is not null) Prepare(env);
        _environments[key] = env;
        return env;
    }

    /// <summary>
    /// The context Engine work runs in: this session's secrets and redactor, <paramref name="env"/>'s AWS settings and
    /// name, the pipeline's cancellation. Build it on the pipeline thread; give it progress with <c>with</c>.
    /// </summary>
    protected OperationContext ContextOf(EnvironmentConfig? env) =>
        new(Secrets, Secrets.Redactor) { Aws = env?.Aws, Environment = env?.Name, Cancellation = Cancellation };

    /// <summary>The environment's AWS settings and the vault: secrets this chapter needs go to the resolver (on the pipeline thread).</summary>
    protected virtual void Prepare(EnvironmentConfig env)
    {
        if (env.Aws is not { } aws) return;
        Secrets.UseAws(aws);
        SupplyVaultSecret(Secrets, aws.AccessKeyId);
        SupplyVaultSecret(Secrets, aws.SecretAccessKey);
        SupplyVaultSecret(Secrets, aws.SessionToken);
    }

    private EnvironmentConfig? TryEnvironment(string name)
    {
        try
        {
            var path = RunbookConfigLoader.Locate(ConfigPath, SessionState.Path.CurrentFileSystemLocation.ProviderPath);
            var config = LoadConfig();
            var env = config.Environments.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
            if (env is null) Unavailable(name, $"{path} has no environment '{name}' (known: {string.Join(", ", config.Environments.Select(e => e.Name))})");
            return env;
        }
        catch (RunbookConfigException ex) when (ex.Field is null && ex.Line is null && ConfigPath is null)
        {
            // No runbook.json here at all (and none named): the environment is only a name from the data.
            Unavailable(name, ex.Message);
            return null;
        }
    }

    private void Unavailable(string name, string why)
    {
        if (_unavailable is null) EnvironmentUnavailableFor(name, why);
        _unavailable = why;
    }

    /// <summary>Says once that an environment named by data is not available (FromData); by default a warning.</summary>
    protected virtual void EnvironmentUnavailableFor(string name, string why) =>
        WriteWarning($"environment '{name}' is not available ({why}); using the explicit parameters and AWS defaults");
}
