using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace OpsRunbook.Loader;

/// <summary>
/// Isolates OpsRunbook's dependencies from every other module in the session (Microsoft's "Resolving PowerShell module
/// assembly dependency conflicts" pattern), with the resolver in place before PowerShell needs it.
/// </summary>
/// <remarks>
/// PowerShell enumerates a binary module's exported types before it calls that module's <c>OnImport</c>, and the
/// cmdlet assembly's types name Engine types (parameters, base classes, outputs). So the resolver cannot live in the
/// cmdlet assembly: it lives here, in an assembly that references nothing of OpsRunbook, which the manifest loads as
/// the first nested module. By the time PowerShell reflects over OpsRunbook.PowerShell.dll, a request for
/// OpsRunbook.Engine is answered from <see cref="DependencyLoadContext"/>, which then resolves Npgsql, AWSSDK, Polly and
/// the rest from Dependencies/; other modules' versions of those assemblies never meet ours.
/// The handler is registered once per process and stays: it answers only for OpsRunbook's own assemblies, the Engine
/// cannot be unloaded (the context is not collectible), and other runspaces (ForEach-Object -Parallel, thread jobs)
/// may still be using the module after one of them runs Remove-Module. Import does no I/O beyond loading assemblies.
/// </remarks>
public sealed class ModuleLoader : IModuleAssemblyInitializer
{
    private static int _registered;

    /// <summary>Registers the Engine's resolver (once per process).</summary>
    public void OnImport()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += Resolve;
        }
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name) =>
        DependencyLoadContext.IsOurs(name) ? DependencyLoadContext.Instance.LoadFromAssemblyName(name) : null;
}

/// <summary>The load context holding OpsRunbook.Engine and every third-party assembly it uses.</summary>
public sealed class DependencyLoadContext : AssemblyLoadContext
{
    /// <summary>The assembly the cmdlets reference; the only name the default context is answered for.</summary>
    public const string EngineName = "OpsRunbook.Engine";

    private static readonly Lazy<DependencyLoadContext> Shared = new(() => new DependencyLoadContext(
        Path.Combine(Path.GetDirectoryName(typeof(DependencyLoadContext).Assembly.Location)!, "Dependencies")));

    private readonly string _directory;

    /// <summary>Creates a context over <paramref name="directory"/>.</summary>
    public DependencyLoadContext(string directory)
        : base("OpsRunbook", isCollectible: false) => _directory = directory;

    /// <summary>The module's context, over the Dependencies folder beside this assembly.</summary>
    public static DependencyLoadContext Instance => Shared.Value;

    /// <summary>True for the one assembly the default context may ask this context for.</summary>
    public static bool IsOurs(AssemblyName name) => string.Equals(name.Name, EngineName, StringComparison.Ordinal);

    /// <summary>Assemblies in Dependencies/ load here; anything else (the framework, PowerShell) comes from the default context.</summary>
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(_directory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
