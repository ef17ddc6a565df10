using System.Xml.Linq;

namespace OpsRunbook.HelpGen;

/// <summary>Writes PowerShell's MAML help format (what Get-Help reads for binary modules).</summary>
public static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    /// <summary>The help document; <paramref name="defaults"/> maps cmdlet type → parameter → default value.</summary>
    public static XDocument Write(IEnumerable<CmdletInfo> cmdlets, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> defaults) => new(
        new XDeclaration("1.0", "utf-8", null),
        new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
            cmdlets.Select(c => Command_(WithShouldProcess(c), defaults.GetValueOrDefault(c.TypeName)))));

    /// <summary>
    /// -WhatIf and -Confirm are added by PowerShell, not declared by the cmdlet; Get-Help shows them only when the help
    /// lists them (as PowerShell's own cmdlets' help does).
    /// </summary>
    private static CmdletInfo WithShouldProcess(CmdletInfo c) => !c.SupportsShouldProcess ? c : c with
    {
        Parameters =
        [
            .. c.Parameters,
            new ParameterInfoRecord("WhatIf", "SwitchParameter", "System.Management.Automation.SwitchParameter", null, false, int.MinValue, false, false, ["wi"],
                "Shows what would happen if the cmdlet runs. The cmdlet is not run: it makes no change anywhere.", true),
            new ParameterInfoRecord("Confirm", "SwitchParameter", "System.Management.Automation.SwitchParameter", null, false, int.MinValue, false, false, ["cf"],
                $"Prompts you for confirmation before each change. {c.Name} asks without it when its impact ({c.ConfirmImpact}) is at least $ConfirmPreference (High by default); -Confirm:$false or -Force skips the prompt.", true),
        ],
    };

    private static XElement Paras(XName name, string text) =>
        new(name, text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(p => new XElement(Maml + "para", p)));

    private static XElement Command_(CmdletInfo c, IReadOnlyDictionary<string, string>? defaults) => new(Command + "command",
        new XAttribute(XNamespace.Xmlns + "maml", Maml),
        new XAttribute(XNamespace.Xmlns + "command", Command),
        new XAttribute(XNamespace.Xmlns + "dev", Dev),
        new XElement(Command + "details",
            new XElement(Command + "name", c.Name),
            Paras(Maml + "description", c.Synopsis),
            new XElement(Command + "verb", c.Verb),
            new XElement(Command + "noun", c.Noun)),
        Paras(Maml + "description", c.Description),
        new XElement(Command + "syntax",
            CmdletMetadata.ParameterSets(c).Select(set => new XElement(Command + "syntaxItem",
                new XElement(Maml + "name", c.Name),
                CmdletMetadata.InSet(c, set).Select(p => Parameter(p, null))))),
        new XElement(Command + "parameters",
            c.Parameters.GroupBy(p => p.Name).Select(g => Parameter(Merge(g), defaults?.GetValueOrDefault(g.Key) ?? (g.First().IsSwitch ? "False" : "None")))),
        new XElement(Command + "inputTypes",
            c.Parameters.Where(p => p.ValueFromPipeline || p.ValueFromPipelineByPropertyName).GroupBy(p => p.TypeFullName).Select(g =>
                new XElement(Command + "inputType",
                    new XElement(Dev + "type", new XElement(Maml + "name", g.Key)),
                    Paras(Maml + "description", "Binds " + string.Join(", ", g.Select(p => "-" + p.Name + (p.ValueFromPipeline ? " (by value)" : " (by property name)")).Distinct()) + ".")))),
        new XElement(Command + "returnValues",
            c.OutputTypes.Select(t => new XElement(Command + "returnValue",
                new XElement(Dev + "type", new XElement(Maml + "name", t))))),
        new XElement(Command + "examples",
            c.Examples.Select((e, i) => new XElement(Command + "example",
                new XElement(Maml + "title", $"---------- Example {i + 1} ----------"),
                new XElement(Dev + "code", e.Code),
                new XElement(Dev + "remarks", new XElement(Maml + "para", e.Remarks))))));

    private static ParameterInfoRecord Merge(IEnumerable<ParameterInfoRecord> sets)
    {
        var list = sets.ToList();
        return list[0] with
        {
            Mandatory = list.Any(p => p.Mandatory),
            ValueFromPipeline = list.Any(p => p.ValueFromPipeline),
            ValueFromPipelineByPropertyName = list.Any(p => p.ValueFromPipelineByPropertyName),
            Position = list.Select(p => p.Position).Max(),
        };
    }

    /// <summary>A parameter; with <paramref name="defaultValue"/> (in PARAMETERS), its description and default too.</summary>
    private static XElement Parameter(ParameterInfoRecord p, string? defaultValue)
    {
        var pipeline = (p.ValueFromPipeline, p.ValueFromPipelineByPropertyName) switch
        {
            (true, true) => "True (ByValue, ByPropertyName)",
            (true, false) => "True (ByValue)",
            (false, true) => "True (ByPropertyName)",
            _ => "False",
        };
        var e = new XElement(Command + "parameter",
            new XAttribute("required", p.Mandatory ? "true" : "false"),
            new XAttribute("variableLength", p.TypeName.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false"),
            new XAttribute("globbing", p.SupportsWildcards ? "true" : "false"),
            new XAttribute("pipelineInput", pipeline),
            new XAttribute("position", p.Position >= 0 ? (p.Position + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : "named"),
            new XAttribute("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases)),
            new XElement(Maml + "name", p.Name));
        if (defaultValue is not null) e.Add(Paras(Maml + "description", p.Description));
        if (!p.IsSwitch)
        {
            e.Add(new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), p.TypeName));
        }
        e.Add(new XElement(Dev + "type", new XElement(Maml + "name", p.TypeFullName)));
        if (defaultValue is not null) e.Add(new XElement(Dev + "defaultValue", defaultValue));
        return e;
    }
}
