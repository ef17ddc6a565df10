using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;

namespace OpsRunbook.HelpGen;

/// <summary>
/// The default value of every parameter, read from a fresh instance of each cmdlet (what its property initializers set),
/// so that help states the defaults the code has rather than what a comment claims.
/// </summary>
/// <remarks>
/// The cmdlet assembly is loaded for real into a collectible context that answers System.Management.Automation from
/// PowerShellStandard.Library (whose constructors do nothing) and everything else from the module folder and its
/// Dependencies/. Only constructors and property getters run.
/// </remarks>
public static class DefaultValues
{
    /// <summary>Cmdlet type name → parameter name → default as help shows it ("None" when unset).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Read(string assemblyPath, string smaPath, IEnumerable<CmdletInfo> cmdlets)
    {
        var context = new ModuleContext(Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!, smaPath);
        try
        {
            var assembly = context.LoadFromAssemblyPath(Path.GetFullPath(assemblyPath));
            var result = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
            foreach (var cmdlet in cmdlets)
            {
                var type = assembly.GetType(cmdlet.TypeName, throwOnError: true)!;
                var instance = Activator.CreateInstance(type)!;
                var values = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var name in cmdlet.Parameters.Select(p => p.Name).Distinct())
                {
                    var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance)!;
                    values[name] = property.PropertyType.FullName == "System.Management.Automation.SwitchParameter"
                        ? "False"
                        : Format(property.GetValue(instance));
                }
                result[cmdlet.TypeName] = values;
            }
            return result;
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>A value as a user would type it back: 10m, 500ms, 32, Healthy, a, b.</summary>
    public static string Format(object? value) => value switch
    {
        null => "None",
        string { Length: 0 } => "None",
        string s => s,
        TimeSpan t => Duration(t),
        bool b => b ? "True" : "False",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable items => string.Join(", ", items.Cast<object?>().Select(Format)) is { Length: > 0 } joined ? joined : "None",
        _ => value.ToString() ?? "None",
    };

    private static string Duration(TimeSpan t)
    {
        if (t == TimeSpan.Zero) return "0s";
        (double size, string unit)[] units = [(TimeSpan.TicksPerDay, "d"), (TimeSpan.TicksPerHour, "h"), (TimeSpan.TicksPerMinute, "m"), (TimeSpan.TicksPerSecond, "s")];
        foreach (var (size, unit) in units)
        {
            if (t.Ticks % (long)size == 0) return (t.Ticks / (long)size).ToString(CultureInfo.InvariantCulture) + unit;
        }
        return t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
    }

    private sealed class ModuleContext(string moduleDir, string smaPath) : AssemblyLoadContext("OpsRunbook.HelpGen", isCollectible: true)
    {
        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name == "System.Management.Automation") return LoadFromAssemblyPath(smaPath);
            foreach (var dir in new[] { moduleDir, Path.Combine(moduleDir, "Dependencies") })
            {
                var path = Path.Combine(dir, name.Name + ".dll");
                if (File.Exists(path)) return LoadFromAssemblyPath(path);
            }
            return null;
        }
    }
}
