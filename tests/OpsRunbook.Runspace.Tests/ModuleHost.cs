using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using OpsRunbook.Engine.Tests;

namespace OpsRunbook.Runspace.Tests;

/// <summary>Runs scripts in real PowerShell runspaces against the built module in out/OpsRunbook.</summary>
public static class ModuleHost
{
    public static string Manifest => Path.Combine(TestServers.RepoRoot, "out", "OpsRunbook", "OpsRunbook.psd1");
    public static string SandboxConfig => Path.Combine(TestServers.RepoRoot, "examples", "runbook.sandbox.jsonc");

    /// <summary>Another module's Npgsql (9) and AWSSDK.Core (4.0.102) are in the default load context before any test imports OpsRunbook.</summary>
    [ModuleInitializer]
    internal static void LoadForeignAssembliesFirst()
    {
        _ = new Npgsql.NpgsqlConnectionStringBuilder { Host = "127.0.0.1" }.ConnectionString;
        _ = Amazon.RegionEndpoint.USEast1.SystemName;
    }

    /// <summary>Runs <paramref name="script"/> in a new runspace (or <paramref name="runspace"/>) with $Module, $Config and the given variables set.</summary>
    public static (Collection<PSObject> Output, IReadOnlyList<ErrorRecord> Errors) Run(string script, IDictionary<string, object?>? variables = null,
        System.Management.Automation.Runspaces.Runspace? runspace = null)
    {
        var own = runspace is null;
        runspace ??= RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        if (own) runspace.Open();
        try
        {
            runspace.SessionStateProxy.SetVariable("Module", Manifest);
            runspace.SessionStateProxy.SetVariable("Config", SandboxConfig);
            foreach (var (name, value) in variables ?? new Dictionary<string, object?>()) runspace.SessionStateProxy.SetVariable(name, value);
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript(script);
            var output = ps.Invoke();
            return (output, ps.Streams.Error.ToList());
        }
        finally
        {
            if (own) runspace.Dispose();
        }
    }

    /// <summary>Runs <paramref name="script"/> in a new runspace and returns the PowerShell with every stream it wrote (progress too).</summary>
    public static PowerShell RunWithStreams(string script, IDictionary<string, object?>? variables = null)
    {
        var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
        runspace.Open();
        runspace.SessionStateProxy.SetVariable("Module", Manifest);
        runspace.SessionStateProxy.SetVariable("Config", SandboxConfig);
        foreach (var (name, value) in variables ?? new Dictionary<string, object?>()) runspace.SessionStateProxy.SetVariable(name, value);
        var ps = PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript(script);
        ps.Invoke();
        return ps;
    }

    /// <summary>Like <see cref="Run"/>, failing the test on any error record.</summary>
    public static Collection<PSObject> RunClean(string script, IDictionary<string, object?>? variables = null, System.Management.Automation.Runspaces.Runspace? runspace = null)
    {
        var (output, errors) = Run(script, variables, runspace);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        return output;
    }
}
