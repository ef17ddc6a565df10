namespace OpsRunbook.PowerShell.Tests;

/// <summary>
/// Every cmdlet's parameters, parameter sets and pipeline bindings, pinned in <c>parameters.txt</c> (dbatools' "validate
/// parameters" idea): a parameter renamed, a set lost or a pipeline binding dropped by accident breaks somebody's script,
/// so it fails here. A change on purpose: run with OPSRUNBOOK_UPDATE_PARAMETERS=1 once, and commit the file with it.
/// </summary>
public class ParameterSurfaceTests
{
    private static readonly string Pinned = Path.Combine(Engine.Tests.TestServers.RepoRoot, "tests", "OpsRunbook.PowerShell.Tests", "parameters.txt");

    /// <summary>One line per cmdlet, set and parameter: what a caller relies on.</summary>
    internal static string Surface() => string.Join("\n", Module.Cmdlets.OrderBy(c => c.Name, StringComparer.Ordinal).SelectMany(c =>
        new[] { $"{c.Name} default={c.DefaultParameterSet ?? "-"} shouldprocess={c.SupportsShouldProcess} impact={c.ConfirmImpact}" }
        .Concat(c.Parameters
            .OrderBy(p => p.ParameterSet ?? "", StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => $"  [{p.ParameterSet ?? "*"}] {p.Name}: {p.TypeName}" +
                (p.Mandatory ? " mandatory" : "") + (p.Position >= 0 ? $" position={p.Position}" : "") +
                (p.ValueFromPipeline ? " pipeline" : "") + (p.ValueFromPipelineByPropertyName ? " bypropertyname" : "") +
                (p.Aliases.Count > 0 ? $" aliases={string.Join(",", p.Aliases)}" : "")))))
        + "\n";

    [Fact]
    public void No_parameter_changes_by_accident()
    {
        var now = Surface();
        if (Environment.GetEnvironmentVariable("OPSRUNBOOK_UPDATE_PARAMETERS") == "1") File.WriteAllText(Pinned, now);
        Assert.True(File.Exists(Pinned), $"{Pinned} is missing: run the tests once with OPSRUNBOOK_UPDATE_PARAMETERS=1 and commit it");
        var pinned = File.ReadAllText(Pinned).ReplaceLineEndings("\n");
        var added = now.Split('\n').Except(pinned.Split('\n')).ToList();
        var removed = pinned.Split('\n').Except(now.Split('\n')).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            "the cmdlets' parameters changed; if on purpose, run with OPSRUNBOOK_UPDATE_PARAMETERS=1 and commit parameters.txt\n" +
            string.Join("\n", removed.Select(l => "- " + l).Concat(added.Select(l => "+ " + l))));
    }
}
