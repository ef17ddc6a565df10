using System.Reflection;
using System.Text.RegularExpressions;
using OpsRunbook.HelpGen;

using OpsRunbook.Engine.Tests;

namespace OpsRunbook.PowerShell.Tests;

/// <summary>The built module folder and its cmdlets, read once.</summary>
public static partial class Module
{
    public static string Dir => Path.Combine(TestServers.RepoRoot, "out", "OpsRunbook");
    public static string Dll => Path.Combine(Dir, "OpsRunbook.PowerShell.dll");
    public static string EngineDll => Path.Combine(Dir, "Dependencies", "OpsRunbook.Engine.dll");
    public static string HelpXml => Path.Combine(Dir, "en-US", "OpsRunbook.PowerShell.dll-Help.xml");

    public static string SmaPath => typeof(Module).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SmaPath").Value!;

    private static readonly Lazy<(MetadataLoadContext context, Assembly assembly, IReadOnlyList<CmdletInfo> cmdlets)> Loaded = new(() =>
    {
        var context = CmdletMetadata.Open(Dll, SmaPath, out var assembly);
        var doc = Path.Combine(TestServers.RepoRoot, "src", "OpsRunbook.PowerShell", "bin", "Debug", "net8.0", "OpsRunbook.PowerShell.xml");
        if (!File.Exists(doc)) doc = Directory.GetFiles(Path.Combine(TestServers.RepoRoot, "src", "OpsRunbook.PowerShell", "bin"), "OpsRunbook.PowerShell.xml", SearchOption.AllDirectories).First();
        return (context, assembly, CmdletMetadata.Read(assembly, doc));
    });

    public static Assembly Assembly => Loaded.Value.assembly;
    public static MetadataLoadContext Context => Loaded.Value.context;
    public static IReadOnlyList<CmdletInfo> Cmdlets => Loaded.Value.cmdlets;
    public static CmdletInfo Cmdlet(string name) => Cmdlets.Single(c => c.Name == name);

    /// <summary>CmdletsToExport from OpsRunbook.psd1.</summary>
    public static IReadOnlyList<string> ManifestCmdlets(string manifestText)
    {
        var block = ExportBlock().Match(manifestText);
        Assert.True(block.Success, "CmdletsToExport = @( ... ) not found in the manifest");
        return Quoted().Matches(block.Groups[1].Value).Select(m => m.Groups[1].Value).ToList();
    }

    [GeneratedRegex(@"CmdletsToExport\s*=\s*@\(([^)]*)\)", RegexOptions.Singleline)]
    private static partial Regex ExportBlock();

    [GeneratedRegex(@"'([^']+)'")]
    private static partial Regex Quoted();
}
