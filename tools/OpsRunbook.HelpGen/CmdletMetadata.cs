using System.Reflection;
using System.Runtime.InteropServices;
using System.Xml.Linq;

namespace OpsRunbook.HelpGen;

/// <summary>A cmdlet as its attributes and XML documentation describe it.</summary>
public sealed record CmdletInfo(
    string Verb,
    string Noun,
    string TypeName,
    bool SupportsShouldProcess,
    string ConfirmImpact,
    string? DefaultParameterSet,
    IReadOnlyList<string> OutputTypes,
    IReadOnlyList<ParameterInfoRecord> Parameters,
    string Synopsis,
    string Description,
    IReadOnlyList<(string Code, string Remarks)> Examples)
{
    public string Name => Verb + "-" + Noun;
}

/// <summary>One parameter in one parameter set.</summary>
public sealed record ParameterInfoRecord(
    string Name,
    string TypeName,
    string TypeFullName,
    string? ParameterSet,
    bool Mandatory,
    int Position,
    bool ValueFromPipeline,
    bool ValueFromPipelineByPropertyName,
    IReadOnlyList<string> Aliases,
    string Description,
    bool IsSwitch,
    bool SupportsWildcards = false);

/// <summary>Reads cmdlets from an assembly without running it.</summary>
public static class CmdletMetadata
{
    private const string AllSets = "__AllParameterSets";

    /// <summary>Opens <paramref name="assemblyPath"/> in a MetadataLoadContext that can see the framework, System.Management.Automation and the assembly's folder.</summary>
    public static MetadataLoadContext Open(string assemblyPath, string smaPath, out Assembly assembly)
    {
        var paths = new List<string>(Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll"));
        paths.AddRange(Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!, "*.dll"));
        var deps = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!, "Dependencies");
        if (Directory.Exists(deps)) paths.AddRange(Directory.GetFiles(deps, "*.dll"));
        paths.Add(smaPath);
        var distinct = paths.GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase).Select(g => g.First());
        var context = new MetadataLoadContext(new PathAssemblyResolver(distinct), "System.Private.CoreLib");
        assembly = context.LoadFromAssemblyPath(Path.GetFullPath(assemblyPath));
        return context;
    }

    /// <summary>Every public cmdlet class in <paramref name="assembly"/>, with its documentation from <paramref name="docXmlPath"/>.</summary>
    public static IReadOnlyList<CmdletInfo> Read(Assembly assembly, string docXmlPath)
    {
        var docs = XDocument.Load(docXmlPath).Descendants("member")
            .ToDictionary(m => (string)m.Attribute("name")!, m => m, StringComparer.Ordinal);
        var result = new List<CmdletInfo>();
        foreach (var type in assembly.GetExportedTypes().Where(t => !t.IsAbstract).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var cmdlet = type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.CmdletAttribute");
            if (cmdlet is null) continue;
            var named = cmdlet.NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);
            var outputs = type.GetCustomAttributesData()
                .Where(a => a.AttributeType.FullName == "System.Management.Automation.OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments.SelectMany(Flatten))
                .ToList();
            docs.TryGetValue("T:" + type.FullName, out var typeDoc);
            var parameters = new List<ParameterInfoRecord>();
            foreach (var prop in AllProperties(type))
            {
                docs.TryGetValue("P:" + prop.DeclaringType!.FullName + "." + prop.Name, out var propDoc);
                var aliases = prop.GetCustomAttributesData().Where(a => a.AttributeType.FullName == "System.Management.Automation.AliasAttribute")
                    .SelectMany(a => a.ConstructorArguments.SelectMany(Flatten)).ToList();
                foreach (var p in prop.GetCustomAttributesData().Where(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute"))
                {
                    var pn = p.NamedArguments.ToDictionary(n => n.MemberName, n => n.TypedValue.Value);
                    parameters.Add(new ParameterInfoRecord(
                        prop.Name,
                        FriendlyName(prop.PropertyType),
                        FullName(prop.PropertyType),
                        pn.GetValueOrDefault("ParameterSetName") as string,
                        pn.GetValueOrDefault("Mandatory") is true,
                        pn.GetValueOrDefault("Position") is int pos ? pos : int.MinValue,
                        pn.GetValueOrDefault("ValueFromPipeline") is true,
                        pn.GetValueOrDefault("ValueFromPipelineByPropertyName") is true,
                        aliases,
                        Text(propDoc?.Element("summary")),
                        prop.PropertyType.FullName == "System.Management.Automation.SwitchParameter",
                        prop.GetCustomAttributesData().Any(a => a.AttributeType.FullName == "System.Management.Automation.SupportsWildcardsAttribute")));
                }
            }
            result.Add(new CmdletInfo(
                (string)cmdlet.ConstructorArguments[0].Value!,
                (string)cmdlet.ConstructorArguments[1].Value!,
                type.FullName!,
                named.GetValueOrDefault("SupportsShouldProcess") is true,
                named.GetValueOrDefault("ConfirmImpact") is int impact ? ((string[])["None", "Low", "Medium", "High"])[impact] : "Medium",
                named.GetValueOrDefault("DefaultParameterSetName") as string,
                outputs,
                parameters,
                Text(typeDoc?.Element("summary")),
                Text(typeDoc?.Element("remarks")),
                typeDoc?.Elements("example").Select(e => (Text(e.Element("code")), Text(e.Element("para")))).ToList() ?? []));
        }
        return result;
    }

    /// <summary>The parameter sets of a cmdlet (excluding the all-sets marker).</summary>
    public static IReadOnlyList<string> ParameterSets(CmdletInfo cmdlet)
    {
        var sets = cmdlet.Parameters.Select(p => p.ParameterSet).Where(s => s is not null && s != AllSets).Distinct().Cast<string>().ToList();
        return sets.Count == 0 ? [AllSets] : sets;
    }

    /// <summary>The parameters that exist in <paramref name="set"/> (including those in all sets).</summary>
    public static IEnumerable<ParameterInfoRecord> InSet(CmdletInfo cmdlet, string set) =>
        cmdlet.Parameters.Where(p => p.ParameterSet is null || p.ParameterSet == AllSets || p.ParameterSet == set);

    private static IEnumerable<PropertyInfo> AllProperties(Type type)
    {
        // Base-class parameters first (e.g. ConfigPath), as PowerShell lists them after the cmdlet's own; order by declaration.
        var chain = new List<Type>();
        for (var t = type; t is not null && t.FullName != "System.Management.Automation.PSCmdlet"; t = t.BaseType) chain.Insert(0, t);
        return chain.AsEnumerable().Reverse().SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly));
    }

    private static IEnumerable<string> Flatten(CustomAttributeTypedArgument arg) => arg.Value switch
    {
        IReadOnlyCollection<CustomAttributeTypedArgument> items => items.SelectMany(Flatten),
        Type t => [t.FullName!],
        string s => [s],
        _ => [],
    };

    private static string FullName(Type t) =>
        t.IsGenericType && t.GetGenericTypeDefinition().FullName == "System.Nullable`1" ? FullName(t.GetGenericArguments()[0]) : t.FullName ?? t.Name;

    private static string FriendlyName(Type t)
    {
        if (t.IsArray) return FriendlyName(t.GetElementType()!) + "[]";
        if (t.IsGenericType && t.GetGenericTypeDefinition().FullName == "System.Nullable`1") return FriendlyName(t.GetGenericArguments()[0]);
        return t.Name;
    }

    /// <summary>Element text with whitespace folded, keeping paragraph breaks (blank lines).</summary>
    public static string Text(XElement? e)
    {
        if (e is null) return "";
        var raw = string.Concat(e.Nodes().Select(n => n is XElement x && x.Name == "see" ? ((string?)x.Attribute("cref") ?? "").Split('.').Last() : n is XElement xe ? xe.Value : n.ToString()));
        raw = System.Net.WebUtility.HtmlDecode(raw);
        var paragraphs = new List<string>();
        var current = new List<string>();
        foreach (var line in raw.Replace("\r", "", StringComparison.Ordinal).Split('\n').Select(l => l.Trim()))
        {
            if (line.Length > 0)
            {
                current.Add(line);
                continue;
            }
            if (current.Count > 0) paragraphs.Add(string.Join(" ", current));
            current.Clear();
        }
        if (current.Count > 0) paragraphs.Add(string.Join(" ", current));
        return string.Join("\n\n", paragraphs);
    }
}
