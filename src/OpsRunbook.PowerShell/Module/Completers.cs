using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.PowerShell.Completers;

/// <summary>
/// Completes names from the runbook.json the command would use (-ConfigPath, $env:OPSRUNBOOK_CONFIG, ./runbook.json),
/// reading only that file: no connection, no cloud call.
/// </summary>
public abstract class RunbookConfigCompleter : IArgumentCompleter
{
    /// <summary>The candidate names, given the configuration and the -Environment typed so far (null when none).</summary>
    protected abstract IEnumerable<string> Names(RunbookConfig config, string? environment);

    /// <summary>False where the candidates come in an order of their own (newest first).</summary>
    protected virtual bool Sorted => true;

    /// <summary>Names starting with what was typed, quoted where PowerShell needs quotes.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var here = CurrentLocation();
        var config = RunbookConfigLoader.TryLoad(fakeBoundParameters["ConfigPath"] as string, here);
        if (config is null) return [];
        var environment = fakeBoundParameters["Environment"] switch
        {
            string s => s,
            object[] { Length: > 0 } a => a[0] as string,
            _ => config.Environments.Count == 1 ? config.Environments[0].Name : null,
        };
        var prefix = wordToComplete.Trim('\'', '"');
        IEnumerable<string> names;
        try
        {
            names = Names(config, environment).ToList();
            if (Sorted) names = names.Order(StringComparer.OrdinalIgnoreCase);
        }
        catch (RunbookConfigException)
        {
            return []; // an -Environment that does not exist (yet): nothing to offer
        }
        return names
            .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(n => new CompletionResult(n.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or ';' or '(' or ')' or '{' or '}' or ',') ? "'" + n.Replace("'", "''") + "'" : n,
                n, CompletionResultType.ParameterValue, n));
    }

    /// <summary>
    /// PowerShell's current location (not the process's: they differ after Set-Location). Read through a script block,
    /// which runs on the completing pipeline: SessionStateProxy may not be used while TabExpansion2 is running.
    /// </summary>
    protected static string CurrentLocation()
    {
        try
        {
            var output = ScriptBlock.Create("$ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath").Invoke();
            if (output.Count == 1 && output[0]?.BaseObject is string path && path.Length > 0) return path;
        }
        catch (RuntimeException)
        {
            // no runspace on this thread: fall back to the process's directory
        }
        return Directory.GetCurrentDirectory();
    }
}

/// <summary>Completes environment names.</summary>
public sealed class EnvironmentNameCompleter : RunbookConfigCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<string> Names(RunbookConfig config, string? environment) => config.Environments.Select(e => e.Name);
}

/// <summary>Completes the health-check target names of the -Environment given (endpoints, database, database-replica, redis).</summary>
public sealed class TargetNameCompleter : RunbookConfigCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<string> Names(RunbookConfig config, string? environment) =>
        environment is null ? [] : config.GetEnvironment(environment).GetHealthCheckTargets().Select(t => t.Name);
}

/// <summary>Completes the names under the -Environment's "secrets" (database, redis, jwt ...).</summary>
public sealed class SecretNameCompleter : RunbookConfigCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<string> Names(RunbookConfig config, string? environment) =>
        environment is null ? [] : config.GetEnvironment(environment).Secrets.Select(s => s.Name);
}

/// <summary>Completes the -Environment's releases, newest first (one provider call, at most 5 s, reused for 30 s).</summary>
public sealed class ReleaseCompleter : RunbookConfigCompleter
{
    /// <inheritdoc />
    protected override bool Sorted => false;

    /// <inheritdoc />
    protected override IEnumerable<string> Names(RunbookConfig config, string? environment) =>
        environment is null ? [] : CompletionSource.Releases(config, environment);
}

/// <summary>Completes the backups in the -Environment's destination, newest first (one listing, at most 5 s, reused for 30 s).</summary>
public sealed class BackupUriCompleter : RunbookConfigCompleter
{
    /// <inheritdoc />
    protected override bool Sorted => false;

    /// <inheritdoc />
    protected override IEnumerable<string> Names(RunbookConfig config, string? environment) =>
        environment is null ? [] : CompletionSource.Backups(config, environment, CurrentLocation());
}

/// <summary>Completes the severity levels of the -Environment's incident profile (P0…P4 as that runbook names them).</summary>
public sealed class IncidentSeverityCompleter : RunbookConfigCompleter
{
    /// <inheritdoc />
    protected override bool Sorted => false;

    /// <inheritdoc />
    protected override IEnumerable<string> Names(RunbookConfig config, string? environment) =>
        Engine.Incidents.IncidentProfile.For(environment is null ? null : config.GetEnvironment(environment)).Levels.Select(l => l.Severity);
}

/// <summary>Completes -GroupBy of the log cmdlets: the groupings, and Field: for a field's name.</summary>
public sealed class LogGroupingCompleter : IArgumentCompleter
{
    /// <inheritdoc />
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        new[] { "Template", "Level", "Service", "Instance", "Client", "Route", "Field:" }
            .Where(g => g.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(g => new CompletionResult(g, g, CompletionResultType.ParameterValue, g == "Field:" ? "Field:<name>, a field of the records (Field:error_type)" : g));
}
