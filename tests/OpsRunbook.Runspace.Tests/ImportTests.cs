using System.Runtime.Loader;
using OpsRunbook.Engine.Tests;

namespace OpsRunbook.Runspace.Tests;

/// <summary>
/// Import-Module of the built module in real runspaces: beside another Npgsql, again after Remove-Module, and in many
/// runspaces at once, each running a real PostgreSQL health check through the isolated Engine.
/// </summary>
public class ImportTests(TestServers servers)
{
    private Dictionary<string, object?> Database() => new() { ["Url"] = servers.Settings["OPSRUNBOOK_DATABASE_URL"] };

    [Fact]
    public void Imports_beside_another_npgsql_and_checks_postgres_with_its_own()
    {
        servers.Require();
        var output = ModuleHost.RunClean("""
            Import-Module $Module -ErrorAction Stop
            (Invoke-HealthCheck -Uri $Url -FailureThreshold 1).Status.ToString()
            """, Database());
        Assert.Equal("Healthy", Assert.Single(output).BaseObject);

        var npgsqls = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "Npgsql").ToList();
        Assert.Contains(npgsqls, a => AssemblyLoadContext.GetLoadContext(a) == AssemblyLoadContext.Default && a.GetName().Version!.Major == 9);
        var ours = Assert.Single(npgsqls, a => AssemblyLoadContext.GetLoadContext(a)!.Name == "OpsRunbook");
        Assert.Equal(10, ours.GetName().Version!.Major);
        var engine = Assert.Single(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "OpsRunbook.Engine");
        Assert.Equal("OpsRunbook", AssemblyLoadContext.GetLoadContext(engine)!.Name);
        // Nothing third-party of ours leaked into the default context (its AWSSDK.Core is the other module's, 4.0.102).
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a =>
            a.GetName().Name is "Polly.Core" or "AWSSDK.S3" && AssemblyLoadContext.GetLoadContext(a) == AssemblyLoadContext.Default);
    }

    [Fact]
    public void Checks_s3_with_its_own_AWSSDK_beside_another_one()
    {
        servers.Require();
        // Only the S3 emulator's settings (its fixed, public key pair) reach the process environment.
        foreach (var name in new[] { "OPSRUNBOOK_S3_ENDPOINT", "OPSRUNBOOK_S3_ACCESS_KEY" }) Environment.SetEnvironmentVariable(name, servers.Settings[name]);
        var output = ModuleHost.RunClean("""
            Import-Module $Module -ErrorAction Stop
            $r = Invoke-HealthCheck sandbox -ConfigPath $Config -Name backups -FailureThreshold 1
            "$($r.Status) $($r.Reason)"
            """);
        Assert.StartsWith("Healthy", (string)Assert.Single(output).BaseObject);
        // AWS keeps the assembly version at 4.0.0.0 across releases: the files tell 4.0.102 (theirs) from 4.1 (ours).
        var cores = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "AWSSDK.Core").ToList();
        static string FileVersion(System.Reflection.Assembly a) => System.Diagnostics.FileVersionInfo.GetVersionInfo(a.Location).FileVersion!;
        var theirs = Assert.Single(cores, a => AssemblyLoadContext.GetLoadContext(a) == AssemblyLoadContext.Default);
        var ours = Assert.Single(cores, a => AssemblyLoadContext.GetLoadContext(a)!.Name == "OpsRunbook");
        Assert.StartsWith("4.0.", FileVersion(theirs));
        Assert.StartsWith("4.1.", FileVersion(ours));
    }

    [Fact]
    public void Imports_again_after_Remove_Module()
    {
        servers.Require();
        var output = ModuleHost.RunClean("""
            Import-Module $Module -ErrorAction Stop
            Remove-Module OpsRunbook -ErrorAction Stop
            if (Get-Command Invoke-HealthCheck -ErrorAction SilentlyContinue) { throw 'still there after Remove-Module' }
            Import-Module $Module -ErrorAction Stop
            (Invoke-HealthCheck -Uri $Url -FailureThreshold 1).Status.ToString()
            """, Database());
        Assert.Equal("Healthy", Assert.Single(output).BaseObject);
    }

    [Fact]
    public void Eight_runspaces_import_and_check_at_once()
    {
        servers.Require();
        var statuses = new string[8];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var output = ModuleHost.RunClean("""
                Import-Module $Module -ErrorAction Stop
                (Invoke-HealthCheck -Uri $Url -FailureThreshold 1).Status.ToString()
                """, Database());
            statuses[i] = (string)Assert.Single(output).BaseObject;
        });
        Assert.All(statuses, s => Assert.Equal("Healthy", s));
    }

    [Fact]
    public void ForEach_Object_Parallel_runspaces_import_and_check()
    {
        servers.Require();
        var output = ModuleHost.RunClean("""
            1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
                Import-Module $using:Module -ErrorAction Stop
                (Invoke-HealthCheck -Uri $using:Url -FailureThreshold 1).Status.ToString()
            }
            """, Database());
        Assert.Equal(8, output.Count);
        Assert.All(output, o => Assert.Equal("Healthy", o.BaseObject));
    }

    [Fact]
    public void Exports_exactly_the_manifests_cmdlets_and_no_loader_commands()
    {
        var output = ModuleHost.RunClean("""
            Import-Module $Module -ErrorAction Stop
            $manifest = Import-PowerShellDataFile $Module
            $exported = @((Get-Command -Module OpsRunbook).Name | Sort-Object)
            $wanted = @($manifest.CmdletsToExport | Sort-Object)
            if (Compare-Object $exported $wanted) { throw "exported: $($exported -join ', ')" }
            $exported.Count
            """);
        Assert.True((int)Assert.Single(output).BaseObject >= 42);
    }
}
