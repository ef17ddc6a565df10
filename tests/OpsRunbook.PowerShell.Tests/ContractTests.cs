using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;
using OpsRunbook.HelpGen;

using OpsRunbook.Engine.Tests;

namespace OpsRunbook.PowerShell.Tests;

/// <summary>What every cmdlet must be, checked over the built module's metadata (no PowerShell needed).</summary>
public class ContractTests
{
    /// <summary>Get-Verb's approved verbs (PowerShell 7.4).</summary>
    private static readonly HashSet<string> ApprovedVerbs = new(StringComparer.Ordinal)
    {
        "Add", "Clear", "Close", "Copy", "Enter", "Exit", "Find", "Format", "Get", "Hide", "Join", "Lock", "Move", "New", "Open",
        "Optimize", "Pop", "Push", "Redo", "Remove", "Rename", "Reset", "Resize", "Search", "Select", "Set", "Show", "Skip", "Split",
        "Step", "Switch", "Undo", "Unlock", "Watch", "Connect", "Disconnect", "Read", "Receive", "Send", "Write", "Backup",
        "Checkpoint", "Compare", "Compress", "Convert", "ConvertFrom", "ConvertTo", "Dismount", "Edit", "Expand", "Export", "Group",
        "Import", "Initialize", "Limit", "Merge", "Mount", "Out", "Publish", "Restore", "Save", "Sync", "Unpublish", "Update",
        "Debug", "Measure", "Ping", "Repair", "Resolve", "Test", "Trace", "Approve", "Assert", "Build", "Complete", "Confirm", "Deny",
        "Deploy", "Disable", "Enable", "Install", "Invoke", "Register", "Request", "Restart", "Resume", "Start", "Stop", "Submit",
        "Suspend", "Uninstall", "Unregister", "Wait", "Block", "Grant", "Protect", "Revoke", "Unblock", "Unprotect", "Use",
    };

    /// <summary>Verbs that change a system: they must support -WhatIf/-Confirm.</summary>
    private static readonly HashSet<string> MutatingVerbs = new(StringComparer.Ordinal)
    {
        "Add", "Clear", "Copy", "Move", "New", "Remove", "Rename", "Reset", "Set", "Backup", "Restore", "Update", "Install",
        "Uninstall", "Register", "Unregister", "Start", "Stop", "Restart", "Resume", "Suspend", "Disable", "Enable", "Deploy",
        "Grant", "Revoke", "Block", "Unblock", "Protect", "Unprotect", "Publish", "Unpublish", "Import", "Initialize", "Repair",
        "Sync", "Submit", "Lock", "Unlock", "Mount", "Dismount", "Send",
    };

    /// <summary>New-* cmdlets that only return a value and touch no system (like New-Guid): no -WhatIf.</summary>
    private static readonly HashSet<string> PureGenerators = new(StringComparer.Ordinal) { "New-RandomSecret" };

    /// <summary>Names owned by PowerShell itself, SecretManagement and other widely used modules.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Get-Secret", "Set-Secret", "Remove-Secret", "Get-SecretInfo", "Set-SecretInfo", "Get-SecretVault", "Register-SecretVault",
        "Unregister-SecretVault", "Set-SecretVaultDefault", "Test-SecretVault", "Unlock-SecretVault", "Reset-SecretStore",
        "Get-Service", "Restart-Service", "Start-Service", "Stop-Service", "Get-Process", "Stop-Process", "Start-Process",
        "Invoke-WebRequest", "Invoke-RestMethod", "Test-Connection", "Test-NetConnection", "Get-Content", "Set-Content",
        "Get-Item", "Remove-Item", "Get-Date", "Get-Command", "Get-Help", "Get-Module", "Import-Module", "Get-Job", "Wait-Job",
        "Start-Job", "Get-Event", "Get-Member", "Measure-Command", "Export-Csv", "Get-Credential", "Test-Path", "Resolve-Path",
        "Get-Metric", "Backup-SqlDatabase", "Restore-SqlDatabase", "Invoke-Sqlcmd", "Get-Variable", "Get-Location", "Get-Random",
    };

    /// <summary>Output property of one cmdlet's result → the next cmdlet's ByPropertyName parameter. Later issues add rows.</summary>
    public static readonly TheoryData<string, string, string, string> PipelinePairings = new()
    {
        { "OpsRunbook.Engine.Health.HealthCheckResult", "Environment", "Get-RunbookEnvironment", "Environment" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Get-RunbookEnvironment", "Environment" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Get-ServiceMetric", "Environment" },
        { "OpsRunbook.Engine.Health.HealthCheckResult", "Environment", "Test-MetricThreshold", "Environment" },
        { "OpsRunbook.Engine.Metrics.MetricSample", "Environment", "Test-MetricThreshold", "Environment" },
        { "OpsRunbook.Engine.Metrics.HostResource", "Environment", "Test-MetricThreshold", "Environment" },
        { "OpsRunbook.Engine.Database.DatabaseActivity", "Pid", "Stop-DatabaseQuery", "Pid" },
        { "OpsRunbook.Engine.Database.DatabaseActivity", "Environment", "Stop-DatabaseQuery", "Environment" },
        { "OpsRunbook.Engine.Database.DatabaseActivity", "Target", "Stop-DatabaseQuery", "Target" },
        { "OpsRunbook.Engine.Database.DatabaseLock", "Pid", "Stop-DatabaseQuery", "Pid" },
        { "OpsRunbook.Engine.Database.DatabaseTableSize", "QualifiedName", "Invoke-DatabaseMaintenance", "QualifiedName" },
        { "OpsRunbook.Engine.Database.DatabaseTableSize", "Environment", "Invoke-DatabaseMaintenance", "Environment" },
        { "OpsRunbook.Engine.Database.DatabaseTableSize", "Target", "Invoke-DatabaseMaintenance", "Target" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Get-DatabaseActivity", "Environment" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Get-RedisInfo", "Environment" },
        { "OpsRunbook.Engine.Cache.RedisInfo", "Environment", "Clear-RedisDatabase", "Environment" },
        { "OpsRunbook.Engine.Backup.BackupInfo", "BackupUri", "Test-DatabaseBackup", "BackupUri" },
        { "OpsRunbook.Engine.Backup.BackupInfo", "BackupUri", "Restore-Database", "BackupUri" },
        { "OpsRunbook.Engine.Backup.BackupInfo", "Environment", "Test-DatabaseBackup", "Environment" },
        { "OpsRunbook.Engine.Backup.BackupInfo", "Environment", "Restore-Database", "Environment" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Backup-Database", "Environment" },
        { "OpsRunbook.Engine.Secrets.Rotation.SecretRotationStatusInfo", "SecretId", "Invoke-SecretRotation", "SecretId" },
        { "OpsRunbook.Engine.Secrets.Rotation.SecretRotationStatusInfo", "Environment", "Invoke-SecretRotation", "Environment" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Get-SecretRotationStatus", "Environment" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Get-DeploymentStatus", "Environment" },
        { "OpsRunbook.Engine.Environments.RunbookEnvironmentInfo", "Environment", "Get-DeploymentRelease", "Environment" },
        { "OpsRunbook.Engine.Health.HealthCheckResult", "Environment", "Start-Rollback", "Environment" },
    };

    /// <summary>Types that bind whole by value: HealthCheckTarget objects pipe into Invoke-HealthCheck. (Start-Rollback
    /// takes any object and reads releases and health results, live or deserialized: Deploy.Tests.ps1 pipes them.)</summary>
    public static readonly TheoryData<string, string, string> ByValuePairings = new()
    {
        { "OpsRunbook.Engine.Secrets.Rotation.SecretRotationResult", "Set-DeploymentSecret", "InputObject" },
    };

    public static TheoryData<string> CmdletNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Module.Cmdlets) data.Add(c.Name);
        return data;
    }

    [Fact]
    public void The_module_has_cmdlets() => Assert.NotEmpty(Module.Cmdlets);

    /// <summary>
    /// A collection expression aimed at IReadOnlyList/IReadOnlyCollection/IEnumerable makes the compiler synthesize an
    /// internal list type (&lt;&gt;z__ReadOnlyArray...) that PowerShell cannot index: $result.Steps[0] gave the whole list,
    /// and $result.NextSteps[1] nothing. Arrays and List&lt;T&gt; index as users expect, so no such type may be built.
    /// </summary>
    [Fact]
    public void No_list_is_of_a_type_powershell_cannot_index()
    {
        using var mlc = new MetadataLoadContext(new PathAssemblyResolver(Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Append(Module.EngineDll).Append(Module.SmaPath)));
        foreach (var path in new[] { Module.EngineDll, Module.Dll })
        {
            var assembly = mlc.LoadFromAssemblyPath(path);
            Type?[] types;
            try
            {
                types = assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException e)
            {
                types = e.Types;
            }
            var synthesized = types.Where(t => t is not null && t.Name.StartsWith("<>z__ReadOnly", StringComparison.Ordinal)).Select(t => t!.Name).ToList();
            Assert.True(synthesized.Count == 0, $"{Path.GetFileName(path)} builds {string.Join(", ", synthesized)}: a collection expression is aimed at IReadOnlyList<T>, IReadOnlyCollection<T> or IEnumerable<T>; make it an array (T[]) or a List<T>");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Uses_an_approved_verb_and_a_singular_noun(string name)
    {
        var c = Module.Cmdlet(name);
        Assert.Contains(c.Verb, ApprovedVerbs);
        var lastWord = System.Text.RegularExpressions.Regex.Matches(c.Noun, "[A-Z][a-z0-9]*").Last().Value;
        var plural = lastWord.EndsWith('s') && !lastWord.EndsWith("ss", StringComparison.Ordinal) && !lastWord.EndsWith("us", StringComparison.Ordinal) && !lastWord.EndsWith("is", StringComparison.Ordinal);
        Assert.False(plural, $"{name}: the noun '{c.Noun}' looks plural; nouns are singular");
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Declares_output_types_from_the_engine(string name)
    {
        var c = Module.Cmdlet(name);
        Assert.NotEmpty(c.OutputTypes);
        // Generators return PowerShell's own value types (New-RandomSecret: SecureString, or string with -AsPlainText).
        var allowedSystem = PureGenerators.Contains(name) ? new[] { "System.Security.SecureString", "System.String" } : [];
        var own = c.OutputTypes.Where(t => !allowedSystem.Contains(t)).ToList();
        Assert.Equal(PureGenerators.Contains(name), own.Count == 0);
        Assert.All(own, t => Assert.StartsWith("OpsRunbook.Engine.", t));
        using var mlc = new MetadataLoadContext(new PathAssemblyResolver(Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Append(Module.EngineDll)));
        var engine = mlc.LoadFromAssemblyPath(Module.EngineDll);
        Assert.All(own, t => Assert.NotNull(engine.GetType(t)));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Mutating_verbs_support_should_process(string name)
    {
        var c = Module.Cmdlet(name);
        if (MutatingVerbs.Contains(c.Verb) && !PureGenerators.Contains(name))
        {
            Assert.True(c.SupportsShouldProcess, $"{name} changes a system and must declare SupportsShouldProcess");
        }
        if (c.SupportsShouldProcess)
        {
            Assert.DoesNotContain(c.Parameters, p => p.Name is "WhatIf" or "Confirm");
        }
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Does_not_collide_with_other_modules(string name)
    {
        Assert.DoesNotContain(name, Reserved);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Has_help_with_synopsis_description_parameters_and_an_example(string name)
    {
        XNamespace maml = "http://schemas.microsoft.com/maml/2004/10";
        XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        XNamespace dev = "http://schemas.microsoft.com/maml/dev/2004/10";
        var help = XDocument.Load(Module.HelpXml).Descendants(command + "command")
            .Single(e => e.Element(command + "details")?.Element(command + "name")?.Value == name);
        Assert.False(string.IsNullOrWhiteSpace(help.Element(command + "details")!.Element(maml + "description")!.Value), "synopsis");
        Assert.True(help.Element(maml + "description")!.Value.Length > 80, "description");
        var documented = help.Element(command + "parameters")!.Elements(command + "parameter")
            .ToDictionary(p => p.Element(maml + "name")!.Value, p => p.Element(maml + "description")?.Value ?? "");
        foreach (var p in Module.Cmdlet(name).Parameters.Select(p => p.Name).Distinct())
        {
            Assert.True(documented.TryGetValue(p, out var d) && d.Length > 10, $"{name} -{p} has no description");
        }
        var examples = help.Descendants(command + "example").ToList();
        Assert.NotEmpty(examples);
        Assert.All(examples, e => Assert.Contains(name, e.Element(dev + "code")!.Value));
    }

    [Fact]
    public void The_manifest_exports_exactly_the_cmdlet_classes()
    {
        var text = File.ReadAllText(Path.Combine(TestServers.RepoRoot, "OpsRunbook.psd1"));
        Assert.DoesNotContain("'*'", text);
        var exported = Module.ManifestCmdlets(text);
        Assert.Equal(Module.Cmdlets.Select(c => c.Name).Order(), exported.Order());
        Assert.Equal(File.ReadAllText(Path.Combine(Module.Dir, "OpsRunbook.psd1")), text);
    }

    [Fact]
    public void The_manifest_declares_what_the_gallery_and_pwsh_need()
    {
        var text = File.ReadAllText(Path.Combine(TestServers.RepoRoot, "OpsRunbook.psd1"));
        Assert.Contains("PowerShellVersion    = '7.4'", text);
        Assert.Contains("CompatiblePSEditions = @('Core')", text);
        Assert.Contains("RootModule           = 'OpsRunbook.PowerShell.dll'", text);
        Assert.Contains("FormatsToProcess     = @('OpsRunbook.Format.ps1xml')", text);
        foreach (var key in new[] { "Tags", "ProjectUri", "LicenseUri", "ReleaseNotes" }) Assert.Matches(key + @"\s*=", text);
        foreach (var key in new[] { "FunctionsToExport", "VariablesToExport", "AliasesToExport" }) Assert.Matches(key + @"\s*=\s*@\(\)", text);
    }

    [Fact]
    public void The_module_folder_has_the_layout_powershell_expects()
    {
        foreach (var f in new[] { "OpsRunbook.psd1", "OpsRunbook.PowerShell.dll", "OpsRunbook.Format.ps1xml", "runbook.schema.json", "en-US/OpsRunbook.PowerShell.dll-Help.xml", "Dependencies/OpsRunbook.Engine.dll", "Dependencies/Npgsql.dll", "Dependencies/Polly.Core.dll" })
        {
            Assert.True(File.Exists(Path.Combine(Module.Dir, f)), f + " is missing from out/OpsRunbook");
        }
        // Only the loader and the cmdlet assembly sit at the top: everything else is isolated in Dependencies/.
        Assert.Equal(["OpsRunbook.Loader.dll", "OpsRunbook.PowerShell.dll"], Directory.GetFiles(Module.Dir, "*.dll").Select(Path.GetFileName).Order());
        Assert.Empty(Directory.GetFiles(Module.Dir, "System.Management.Automation.dll", SearchOption.AllDirectories));
    }

    [Fact]
    public void The_cmdlet_assembly_references_nothing_third_party()
    {
        var refs = Module.Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("OpsRunbook.Engine", refs);
        Assert.All(refs, r => Assert.True(r.StartsWith("System", StringComparison.Ordinal) || r is "OpsRunbook.Engine" or "netstandard" or "Microsoft.Win32.Primitives", $"unexpected reference {r}"));
    }

    [Fact]
    public void The_engine_public_api_exposes_no_third_party_types()
    {
        var deps = Directory.GetFiles(Path.Combine(Module.Dir, "Dependencies"), "*.dll");
        using var mlc = new MetadataLoadContext(new PathAssemblyResolver(Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Concat(deps)));
        var engine = mlc.LoadFromAssemblyPath(Module.EngineDll);
        var offenders = new List<string>();
        foreach (var type in engine.GetExportedTypes())
        {
            IEnumerable<Type> used = type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly).SelectMany(m => m switch
            {
                PropertyInfo p => [p.PropertyType],
                FieldInfo f => [f.FieldType],
                MethodInfo mi => mi.GetParameters().Select(x => x.ParameterType).Append(mi.ReturnType),
                ConstructorInfo ci => ci.GetParameters().Select(x => x.ParameterType),
                _ => [],
            }).Append(type.BaseType!).Where(t => t is not null);
            foreach (var t in used.SelectMany(Expand))
            {
                var asm = t.Assembly.GetName().Name!;
                if (asm != "OpsRunbook.Engine" && !asm.StartsWith("System", StringComparison.Ordinal) && asm != "netstandard")
                {
                    offenders.Add($"{type.FullName} uses {t.FullName} from {asm}");
                }
            }
        }
        Assert.Empty(offenders);

        static IEnumerable<Type> Expand(Type t)
        {
            if (t.HasElementType) return Expand(t.GetElementType()!);
            if (t.IsGenericType) return t.GetGenericArguments().SelectMany(Expand).Append(t.GetGenericTypeDefinition());
            return t.IsGenericParameter ? [] : [t];
        }
    }

    [Theory]
    [MemberData(nameof(PipelinePairings))]
    public void Output_properties_bind_to_the_next_cmdlet(string sourceType, string property, string cmdlet, string parameter)
    {
        var deps = Directory.GetFiles(Path.Combine(Module.Dir, "Dependencies"), "*.dll");
        using var mlc = new MetadataLoadContext(new PathAssemblyResolver(Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Concat(deps)));
        var type = mlc.LoadFromAssemblyPath(Module.EngineDll).GetType(sourceType);
        Assert.NotNull(type);
        var prop = type.GetProperty(property);
        Assert.NotNull(prop);
        var target = Module.Cmdlet(cmdlet).Parameters.Where(p => p.Name == parameter || p.Aliases.Contains(parameter)).ToList();
        Assert.True(target.Count > 0, $"{cmdlet} has no parameter or alias {parameter}");
        Assert.Contains(target, p => p.ValueFromPipelineByPropertyName);
        // PowerShell matches a property to the parameter's name before its aliases: a source that has a property with
        // the parameter's own name would bind that one instead of the intended property.
        var byName = target.First();
        if (byName.Name != property)
        {
            Assert.Null(type.GetProperty(byName.Name));
        }
        var paramType = target[0].TypeFullName.TrimEnd('[', ']');
        Assert.Equal(paramType, (Nullable(prop.PropertyType).FullName ?? "").TrimEnd('[', ']'));

        static Type Nullable(Type t) => t.IsGenericType && t.GetGenericTypeDefinition().FullName == "System.Nullable`1" ? t.GetGenericArguments()[0] : t;
    }

    [Theory]
    [MemberData(nameof(ByValuePairings))]
    public void Objects_bind_by_value(string sourceType, string cmdlet, string parameter)
    {
        var p = Module.Cmdlet(cmdlet).Parameters.Where(x => x.Name == parameter).ToList();
        Assert.Contains(p, x => x.ValueFromPipeline);
        Assert.Equal(sourceType, p[0].TypeFullName.TrimEnd('[', ']'));
    }

    [Fact]
    public void Parameters_bound_by_property_name_accept_null()
    {
        // An upstream object's property may be null (a result without an environment); PowerShell would then fail the
        // whole record on a ValidateNotNull/ValidateNotNullOrEmpty. Such parameters check emptiness in code instead.
        foreach (var type in Module.Assembly.GetExportedTypes())
        {
            foreach (var prop in type.GetProperties())
            {
                var attributes = prop.GetCustomAttributesData();
                var byName = attributes.Any(a => a.AttributeType.Name == "ParameterAttribute" && a.NamedArguments.Any(n => n.MemberName == "ValueFromPipelineByPropertyName" && n.TypedValue.Value is true));
                var mandatoryEverywhere = attributes.Where(a => a.AttributeType.Name == "ParameterAttribute").All(a => a.NamedArguments.Any(n => n.MemberName == "Mandatory" && n.TypedValue.Value is true));
                if (!byName || mandatoryEverywhere) continue;
                Assert.DoesNotContain(attributes, a => a.AttributeType.Name is "ValidateNotNullOrEmptyAttribute" or "ValidateNotNullAttribute");
            }
        }
    }

    [Fact]
    public void Validation_attributes_are_well_formed()
    {
        // PowerShell rejects ValidateRange when min and max differ in type, or differ from the parameter's type.
        foreach (var type in Module.Assembly.GetExportedTypes())
        {
            foreach (var prop in type.GetProperties())
            {
                foreach (var range in prop.GetCustomAttributesData().Where(a => a.AttributeType.Name == "ValidateRangeAttribute"))
                {
                    var args = range.ConstructorArguments;
                    Assert.Equal(args[0].ArgumentType, args[1].ArgumentType);
                    var element = prop.PropertyType.IsArray ? prop.PropertyType.GetElementType()! : prop.PropertyType;
                    // An int? parameter's value is validated as a boxed int.
                    if (element.IsGenericType && element.GetGenericTypeDefinition().FullName == "System.Nullable`1") element = element.GetGenericArguments()[0];
                    Assert.True(element.FullName == args[0].ArgumentType.FullName, $"{type.Name}.{prop.Name}: ValidateRange of {args[0].ArgumentType.Name} on a {element.Name}");
                }
            }
        }
    }

    /// <summary>Cmdlets that stop, flush, restore over, roll back or rotate: ConfirmImpact High (ARCHITECTURE.md). Later issues add rows.</summary>
    public static readonly TheoryData<string> HighImpact = new() { "Stop-DatabaseQuery", "Clear-RedisDatabase", "Restore-Database", "Remove-DatabaseBackup", "Invoke-SecretRotation", "Start-Rollback", "Watch-Deployment", "Stop-Deployment", "Set-DeploymentSecret" };

    [Theory]
    [MemberData(nameof(HighImpact))]
    public void Destructive_cmdlets_confirm_with_high_impact_and_offer_force(string name)
    {
        var c = Module.Cmdlet(name);
        Assert.True(c.SupportsShouldProcess);
        Assert.Equal("High", c.ConfirmImpact);
        Assert.Contains(c.Parameters, p => p.Name == "Force" && p.IsSwitch);
    }

    [Fact]
    public void Every_cmdlet_result_type_has_a_default_view()
    {
        var format = XDocument.Load(Path.Combine(Module.Dir, "OpsRunbook.Format.ps1xml"));
        var viewed = format.Descendants("TypeName").Select(e => e.Value).ToHashSet();
        // PowerShell's own types (string, SecureString) have their views already.
        foreach (var t in Module.Cmdlets.SelectMany(c => c.OutputTypes).Distinct().Where(t => !t.StartsWith("System.", StringComparison.Ordinal))) Assert.Contains(t, viewed);
    }

    [Fact]
    public void Every_table_column_is_a_property_a_user_can_filter_on()
    {
        // A user filters on what the table shows (Where-Object Current): every header is a property of the type, or an
        // alias in OpsRunbook.Types.ps1xml for the property the column displays.
        var format = XDocument.Load(Path.Combine(Module.Dir, "OpsRunbook.Format.ps1xml"));
        var types = XDocument.Load(Path.Combine(Module.Dir, "OpsRunbook.Types.ps1xml"));
        var aliases = types.Descendants("Type").ToDictionary(t => t.Element("Name")!.Value,
            t => t.Descendants("AliasProperty").ToDictionary(a => a.Element("Name")!.Value, a => a.Element("ReferencedMemberName")!.Value));
        var deps = Directory.GetFiles(Path.Combine(Module.Dir, "Dependencies"), "*.dll");
        using var mlc = new MetadataLoadContext(new PathAssemblyResolver(Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll").Concat(deps)));
        var engine = mlc.LoadFromAssemblyPath(Module.EngineDll);
        var problems = new List<string>();
        foreach (var view in format.Descendants("View").Where(v => v.Element("TableControl") is not null))
        {
            foreach (var typeName in view.Element("ViewSelectedBy")!.Elements("TypeName").Select(e => e.Value))
            {
                var type = engine.GetType(typeName, throwOnError: true)!;
                var typeAliases = aliases.GetValueOrDefault(typeName) ?? [];
                foreach (var alias in typeAliases)
                {
                    if (type.GetProperty(alias.Key) is not null) problems.Add($"{typeName}: alias {alias.Key} hides a property of that name");
                    if (type.GetProperty(alias.Value) is null) problems.Add($"{typeName}: alias {alias.Key} names no property {alias.Value}");
                }
                foreach (var label in view.Descendants("TableColumnHeader").Select(h => h.Element("Label")!.Value))
                {
                    if (type.GetProperty(label) is null && !typeAliases.ContainsKey(label)) problems.Add($"{typeName}: column {label} is no property");
                }
            }
        }
        Assert.Empty(problems);
    }

    [Fact]
    public void The_loader_needs_nothing_of_OpsRunbook_and_loads_before_the_cmdlets()
    {
        // PowerShell reflects over a binary module's types before its OnImport: the resolver must come from an assembly
        // that references nothing of ours, loaded as a nested module (nested modules load before the root module).
        using var context = new MetadataLoadContext(new PathAssemblyResolver(
            [Path.Combine(Module.Dir, "OpsRunbook.Loader.dll"), Module.SmaPath, .. Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")]));
        var loader = context.LoadFromAssemblyPath(Path.Combine(Module.Dir, "OpsRunbook.Loader.dll"));
        Assert.DoesNotContain(loader.GetReferencedAssemblies(), r => r.Name!.StartsWith("OpsRunbook", StringComparison.Ordinal));
        var init = loader.GetType("OpsRunbook.Loader.ModuleLoader", throwOnError: true)!;
        Assert.Contains("System.Management.Automation.IModuleAssemblyInitializer", init.GetInterfaces().Select(i => i.FullName));
        var manifest = File.ReadAllText(Path.Combine(Module.Dir, "OpsRunbook.psd1"));
        Assert.Matches(@"NestedModules\s*=\s*@\('OpsRunbook\.Loader\.dll'\)", manifest);
    }

    [Fact]
    public void The_schema_describes_every_field_of_the_sandbox_example()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(Module.Dir, "runbook.schema.json")));
        var envProps = schema.RootElement.GetProperty("definitions").GetProperty("environment").GetProperty("properties");
        var endpointProps = schema.RootElement.GetProperty("definitions").GetProperty("endpoint").GetProperty("properties");
        var example = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestServers.RepoRoot, "examples", "runbook.sandbox.jsonc")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        foreach (var env in example.RootElement.GetProperty("environments").EnumerateObject())
        {
            foreach (var p in env.Value.EnumerateObject()) Assert.True(envProps.TryGetProperty(p.Name, out _), $"schema lacks environment.{p.Name}");
            foreach (var ep in env.Value.GetProperty("endpoints").EnumerateArray())
                foreach (var p in ep.EnumerateObject()) Assert.True(endpointProps.TryGetProperty(p.Name, out _), $"schema lacks endpoint.{p.Name}");
        }
    }
}
