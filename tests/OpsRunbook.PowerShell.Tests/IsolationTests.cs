using System.Collections;
using System.Reflection;
using System.Runtime.Loader;

using OpsRunbook.Engine.Tests;

namespace OpsRunbook.PowerShell.Tests;

/// <summary>
/// Loads the built module the way PowerShell does (its cmdlet assembly into the default context, then OnImport),
/// while this process already holds a different Npgsql (9.0.3, referenced by this test project) in the default context,
/// and runs a real PostgreSQL health check through the isolated Engine.
/// </summary>
public class IsolationTests(TestServers servers)
{
    [Fact]
    public void The_engine_and_its_npgsql_load_in_their_own_context_beside_a_different_npgsql()
    {
        var ct = TestContext.Current.CancellationToken;
        var settings = servers.Settings;
        // Another "module" got there first: Npgsql 9 lives in the default context.
        var foreignNpgsql = typeof(Npgsql.NpgsqlConnection).Assembly;
        Assert.Equal(9, foreignNpgsql.GetName().Version!.Major);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(foreignNpgsql));

        var loader = AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.Combine(Module.Dir, "OpsRunbook.Loader.dll"));
        var initializer = Activator.CreateInstance(loader.GetType("OpsRunbook.Loader.ModuleLoader", throwOnError: true)!)!;
        ((System.Management.Automation.IModuleAssemblyInitializer)initializer).OnImport();
        var cmdlets = AssemblyLoadContext.Default.LoadFromAssemblyPath(Module.Dll);
        {
            // What PowerShell does when it binds a cmdlet whose parameters use Engine types.
            var command = cmdlets.GetType("OpsRunbook.PowerShell.Cmdlets.InvokeHealthCheckCommand", throwOnError: true)!;
            var targetType = command.GetProperty("Target")!.PropertyType.GetElementType()!;
            var engine = targetType.Assembly;
            Assert.Equal("OpsRunbook.Engine", engine.GetName().Name);
            var engineContext = AssemblyLoadContext.GetLoadContext(engine)!;
            Assert.NotSame(AssemblyLoadContext.Default, engineContext);
            Assert.Equal("OpsRunbook", engineContext.Name);

            // A real check through the isolated Engine: it must use its own Npgsql 10.
            var result = RunPostgresCheck(engine, settings["OPSRUNBOOK_DATABASE_URL"], ct);
            Assert.Equal("Healthy", result.GetType().GetProperty("Status")!.GetValue(result)!.ToString());

            var npgsqls = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "Npgsql").ToList();
            var ours = Assert.Single(npgsqls, a => AssemblyLoadContext.GetLoadContext(a) == engineContext);
            Assert.Equal(10, ours.GetName().Version!.Major);
            Assert.Contains(npgsqls, a => AssemblyLoadContext.GetLoadContext(a) == AssemblyLoadContext.Default && a.GetName().Version!.Major == 9);
        }
    }

    private static object RunPostgresCheck(Assembly engine, string url, CancellationToken ct)
    {
        var secretValue = engine.GetType("OpsRunbook.Engine.Secrets.SecretValue", true)!;
        var target = Activator.CreateInstance(engine.GetType("OpsRunbook.Engine.Health.HealthCheckTarget", true)!)!;
        var kind = engine.GetType("OpsRunbook.Engine.Health.TargetKind", true)!;
        target.GetType().GetProperty("Kind")!.SetValue(target, Enum.Parse(kind, "Postgres"));
        target.GetType().GetProperty("Connection")!.SetValue(target, secretValue.GetMethod("Parse")!.Invoke(null, [url]));
        var options = Activator.CreateInstance(engine.GetType("OpsRunbook.Engine.Health.HealthCheckOptions", true)!)!;
        var resolverType = engine.GetType("OpsRunbook.Engine.Secrets.SecretResolver", true)!;
        var resolver = resolverType.GetConstructors().Single().Invoke([null, null]);
        using var session = (IDisposable)Activator.CreateInstance(engine.GetType("OpsRunbook.Engine.Health.HealthCheckSession", true)!, options, resolver)!;
        session.GetType().GetMethod("Submit")!.Invoke(session, [target]);
        var results = (IEnumerable)session.GetType().GetMethod("CompleteAndDrain")!.Invoke(session, [ct])!;
        return results.Cast<object>().Single();
    }
}
