using System.Management.Automation;
using OpsRunbook.Engine.Environments;
using OpsRunbook.PowerShell.Completers;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Shows the environments defined in runbook.json, with every secret redacted.
/// </summary>
/// <remarks>
/// Get-RunbookEnvironment reads runbook.json (from -ConfigPath, $env:OPSRUNBOOK_CONFIG, or the current directory)
/// and returns one RunbookEnvironmentInfo per environment: endpoints and their conditions, database, replica and
/// Redis connections, backup destination and retention, deployment provider, thresholds and notification targets.
/// Secrets show as their references (env:DATABASE_URL, secret:aws:prod/db) or masked (postgres://app:***@db/app);
/// their values are never read. A malformed file fails with its path, line and the offending field; an unknown
/// environment name fails listing the known ones. Its output pipes into Invoke-HealthCheck by the Environment property.
/// </remarks>
/// <example>
/// <code>Get-RunbookEnvironment</code>
/// <para>Lists every environment in ./runbook.json.</para>
/// </example>
/// <example>
/// <code>Get-RunbookEnvironment prod* -ConfigPath ./ops/runbook.json | Format-List</code>
/// <para>Shows all settings of the environments whose names start with prod.</para>
/// </example>
/// <example>
/// <code>Get-RunbookEnvironment staging | Invoke-HealthCheck</code>
/// <para>Checks every target of the staging environment.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "RunbookEnvironment")]
[OutputType(typeof(RunbookEnvironmentInfo))]
public sealed class GetRunbookEnvironmentCommand : OpsRunbookCmdlet
{
    /// <summary>Names of the environments to show (wildcards allowed). Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(EnvironmentNameCompleter))]
    public string[]? Environment { get; set; }

    /// <summary>Writes the matching environments.</summary>
    protected override void ProcessRecord()
    {
        var config = LoadConfig();
        IReadOnlyList<EnvironmentConfig> environments;
        try
        {
            environments = config.FindEnvironments(Environment?.Where(e => !string.IsNullOrEmpty(e)).ToArray());
        }
        catch (RunbookConfigException ex)
        {
            ThrowTerminatingError(ConfigError(ex));
            return;
        }
        foreach (var env in environments)
        {
            WriteObject(RunbookEnvironmentInfo.From(config, env));
        }
    }
}
