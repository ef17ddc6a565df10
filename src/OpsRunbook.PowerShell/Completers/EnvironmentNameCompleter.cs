using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.PowerShell.Completers;

/// <summary>Completes environment names from the runbook.json the command would use (-ConfigPath, $env:OPSRUNBOOK_CONFIG, ./runbook.json).</summary>
public sealed class EnvironmentNameCompleter : IArgumentCompleter
{
    /// <summary>Environment names starting with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var configPath = fakeBoundParameters["ConfigPath"] as string;
        var prefix = wordToComplete.Trim('\'', '"');
        // PowerShell's current location, not the process's: they differ after Set-Location.
        var here = System.Management.Automation.Runspaces.Runspace.DefaultRunspace?.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath
            ?? Directory.GetCurrentDirectory();
        foreach (var name in RunbookConfigLoader.TryListEnvironmentNames(configPath, here))
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, name);
            }
        }
    }
}
