using OpsRunbook.HelpGen;

// usage: OpsRunbook.HelpGen <cmdlet assembly> <its XML documentation> <System.Management.Automation.dll> <output -Help.xml>
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: OpsRunbook.HelpGen ASSEMBLY DOC_XML SMA_DLL OUTPUT_HELP_XML");
    return 2;
}
using var context = CmdletMetadata.Open(args[0], args[2], out var assembly);
var cmdlets = CmdletMetadata.Read(assembly, args[1]);
var missing = cmdlets.SelectMany(c =>
        (c.Synopsis.Length == 0 ? [$"{c.Name}: no <summary> (synopsis)"] : Array.Empty<string>())
        .Concat(c.Description.Length == 0 ? [$"{c.Name}: no <remarks> (description)"] : [])
        .Concat(c.Examples.Count == 0 ? [$"{c.Name}: no <example>"] : [])
        .Concat(c.Parameters.Where(p => p.Description.Length == 0).Select(p => $"{c.Name} -{p.Name}: no <summary>").Distinct()))
    .ToList();
foreach (var m in missing) Console.Error.WriteLine("help: " + m);
if (missing.Count > 0) return 1;
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[3]))!);
MamlWriter.Write(cmdlets, DefaultValues.Read(args[0], args[2], cmdlets)).Save(args[3]);
Console.WriteLine($"help: {cmdlets.Count} cmdlets -> {args[3]}");
return 0;
