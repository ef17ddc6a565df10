using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace OpsRunbook.PowerShell;

/// <summary>
/// Isolates OpsRunbook's dependencies from every other module in the session (Microsoft's "Resolving PowerShell module
/// assembly dependency conflicts" pattern). PowerShell loads only this assembly; when it first needs OpsRunbook.Engine,
/// the handler below loads the Engine into <see cref="DependencyLoadContext"/>, which then resolves Npgsql, Polly and the
/// rest from Dependencies/. Other modules' versions of those assemblies never meet ours. Import does no I/O.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private const string EngineName = "OpsRunbook.Engine";

    /// <summary>Registers the resolver for the Engine.</summary>
    public void OnImport() => AssemblyLoadContext.Default.Resolving += ResolveEngine;

    /// <summary>Unregisters it when the module is removed.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => AssemblyLoadContext.Default.Resolving -= ResolveEngine;

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        string.Equals(name.Name, EngineName, StringComparison.Ordinal) ? DependencyLoadContext.Instance.LoadFromAssemblyName(name) : null;
}

/// <summary>The load context holding OpsRunbook.Engine and every third-party assembly it uses.</summary>
public sealed class DependencyLoadContext : AssemblyLoadContext
{
    private static readonly Lazy<DependencyLoadContext> Shared = new(() => new DependencyLoadContext(
        Path.Combine(Path.GetDirectoryName(typeof(DependencyLoadContext).Assembly.Location)!, "Dependencies")));

    private readonly string _directory;

    /// <summary>Creates a context over <paramref name="directory"/>.</summary>
    public DependencyLoadContext(string directory)
        : base("OpsRunbook", isCollectible: false) => _directory = directory;

    /// <summary>The module's context, over the Dependencies folder beside this assembly.</summary>
    public static DependencyLoadContext Instance => Shared.Value;

    /// <summary>Assemblies in Dependencies/ load here; anything else (the framework, PowerShell) comes from the default context.</summary>
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(_directory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
