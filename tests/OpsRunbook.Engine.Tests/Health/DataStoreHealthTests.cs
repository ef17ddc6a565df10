using OpsRunbook.Engine.Environments;
using OpsRunbook.Engine.Health;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>PostgreSQL and Redis checks against the real primary, replica and Redis of tests/servers.sh.</summary>
public class DataStoreHealthTests(TestServers servers)
{
    private SecretResolver Resolver() => new(environment: servers.Lookup);

    private async Task<HealthCheckResult> Check(HealthCheckTarget target, HealthCheckOptions? options = null) =>
        (await HealthCheckSessionTests.RunAll(options ?? new HealthCheckOptions(), Resolver(), target)).Single();

    private static HealthCheckTarget Pg(string connection, string? role = null) =>
        new() { Name = "db", Kind = TargetKind.Postgres, Connection = SecretValue.Parse(connection), ExpectedRole = role, Timeout = TimeSpan.FromSeconds(5) };

    private static HealthCheckTarget Redis(string connection) =>
        new() { Name = "cache", Kind = TargetKind.Redis, Connection = SecretValue.Parse(connection), Timeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task The_primary_is_healthy_and_reports_version_and_role()
    {
        var r = await Check(Pg("env:OPSRUNBOOK_DATABASE_URL", "primary"));
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Equal("primary", r.Data["Role"]);
        Assert.StartsWith("15.", (string)r.Data["ServerVersion"]!);
        Assert.Equal("opsrunbook", r.Data["Database"]);
        Assert.Contains("SELECT 1", r.Reason);
    }

    [Fact]
    public async Task The_replica_is_a_replica_and_a_primary_where_a_replica_is_expected_is_unhealthy()
    {
        var replica = await Check(Pg("env:OPSRUNBOOK_REPLICA_DATABASE_URL", "replica"));
        Assert.Equal(HealthStatus.Healthy, replica.Status);
        Assert.Equal("replica", replica.Data["Role"]);
        var wrong = await Check(Pg("env:OPSRUNBOOK_DATABASE_URL", "replica"));
        Assert.Equal(HealthStatus.Unhealthy, wrong.Status);
        Assert.Contains("expected a replica", wrong.Reason);
    }

    [Fact]
    public async Task Sslmode_is_honoured()
    {
        var baseUrl = $"postgres://opsrunbook:{Uri.EscapeDataString(servers["OPSRUNBOOK_PG_PASSWORD"])}@localhost:{servers["OPSRUNBOOK_PG_PORT"]}/opsrunbook";
        var verified = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse(baseUrl + "?sslmode=verify-full&sslrootcert=" + servers["OPSRUNBOOK_CA_CERT"]) });
        Assert.Equal(HealthStatus.Healthy, verified.Status);
        Assert.Equal(true, verified.Data["Ssl"]);
        var plain = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse(baseUrl + "?sslmode=disable") });
        Assert.Equal(HealthStatus.Healthy, plain.Status);
        Assert.Equal(false, plain.Data["Ssl"]);
        // verify-full without the CA: the server certificate is not trusted.
        var untrusted = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse(baseUrl + "?sslmode=verify-full") });
        Assert.Equal(HealthStatus.Unhealthy, untrusted.Status);
        Assert.DoesNotContain(servers["OPSRUNBOOK_PG_PASSWORD"], untrusted.Reason);
    }

    [Fact]
    public async Task A_wrong_password_is_unhealthy_and_never_shows_the_password()
    {
        var wrongPassword = "Wrong-" + Guid.NewGuid().ToString("N");
        var url = $"postgres://opsrunbook:{wrongPassword}@127.0.0.1:{servers["OPSRUNBOOK_PG_PORT"]}/opsrunbook";
        var r = await Check(new HealthCheckTarget { Name = "db", Kind = TargetKind.Postgres, Connection = SecretValue.Parse(url) });
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("password authentication failed", r.Reason);
        Assert.DoesNotContain(wrongPassword, r.Reason);
        Assert.DoesNotContain(wrongPassword, r.Target.Address);
        Assert.DoesNotContain(wrongPassword, r.ToString());
    }

    [Fact]
    public async Task A_stopped_database_port_is_unhealthy()
    {
        var r = await Check(new HealthCheckTarget { Kind = TargetKind.Postgres, Connection = SecretValue.Parse("postgres://u:pw12345@127.0.0.1:1/db") });
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("refused", r.Reason);
        Assert.DoesNotContain("pw12345", r.Reason);
    }

    [Fact]
    public async Task A_failure_behind_a_secret_reference_names_the_host_and_port_it_tried_never_the_credentials()
    {
        // The connection comes from env:; the reason must still say where it went (not just "database" or "redis").
        var password = "Ref-" + Guid.NewGuid().ToString("N");
        var settings = new Dictionary<string, string>
        {
            ["REF_DB"] = $"postgres://opsrunbook:{password}@127.0.0.1:1/opsrunbook",
            ["REF_REDIS"] = $"redis://opsrunbook:{password}@127.0.0.1:{servers["OPSRUNBOOK_REDIS_PORT"]}/0",
        };
        var resolver = new SecretResolver(environment: n => settings.GetValueOrDefault(n) ?? servers.Lookup(n));
        var results = await HealthCheckSessionTests.RunAll(new HealthCheckOptions(), resolver,
            new HealthCheckTarget { Name = "database", Kind = TargetKind.Postgres, Connection = SecretValue.Parse("env:REF_DB"), Timeout = TimeSpan.FromSeconds(5) },
            new HealthCheckTarget { Name = "redis", Kind = TargetKind.Redis, Connection = SecretValue.Parse("env:REF_REDIS"), Timeout = TimeSpan.FromSeconds(5) });
        var db = Assert.Single(results, r => r.Name == "database");
        Assert.Contains("database (127.0.0.1:1)", db.Reason);
        var redis = Assert.Single(results, r => r.Name == "redis");
        Assert.Contains($"redis (127.0.0.1:{servers["OPSRUNBOOK_REDIS_PORT"]})", redis.Reason);
        Assert.All(results, r => Assert.DoesNotContain(password, r.Reason));
        Assert.All(results, r => Assert.DoesNotContain("opsrunbook:", r.Reason));
    }

    [Fact]
    public async Task An_unset_reference_is_unhealthy_and_names_the_variable()
    {
        var r = await Check(Pg("env:OPSRUNBOOK_NOT_SET_ANYWHERE"));
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("OPSRUNBOOK_NOT_SET_ANYWHERE", r.Reason);
    }

    [Fact]
    public async Task Redis_is_healthy_with_role_and_memory_use()
    {
        var r = await Check(Redis("env:OPSRUNBOOK_REDIS_URL"));
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Equal("master", r.Data["Role"]);
        Assert.Equal(64L * 1024 * 1024, r.Data["MaxMemoryBytes"]);
        Assert.IsType<double>(r.Data["MemoryPercent"]);
        Assert.Contains("PONG", r.Reason);
    }

    [Fact]
    public async Task Redis_over_tls_with_the_private_ca()
    {
        var target = Redis("env:OPSRUNBOOK_REDIS_TLS_URL");
        target.CaCertificatePath = servers["OPSRUNBOOK_CA_CERT"];
        var r = await Check(target);
        Assert.Equal(HealthStatus.Healthy, r.Status);
        Assert.Equal(true, r.Data["Tls"]);
        var untrusted = await Check(Redis("env:OPSRUNBOOK_REDIS_TLS_URL"));
        Assert.Equal(HealthStatus.Unhealthy, untrusted.Status);
        Assert.Contains("TLS", untrusted.Reason);
    }

    [Fact]
    public async Task Redis_with_a_wrong_password_is_unhealthy_without_the_password()
    {
        var wrong = "nope-" + Guid.NewGuid().ToString("N");
        var r = await Check(Redis($"redis://opsrunbook:{wrong}@127.0.0.1:{servers["OPSRUNBOOK_REDIS_PORT"]}"));
        Assert.Equal(HealthStatus.Unhealthy, r.Status);
        Assert.Contains("WRONGPASS", r.Reason);
        Assert.DoesNotContain(wrong, r.Reason);
    }

    [Fact]
    public async Task The_whole_sandbox_environment_is_healthy_and_no_result_carries_a_secret()
    {
        // As in a shell that sourced servers.env: URLs and endpoints expand ${OPSRUNBOOK_*} from the process environment.
        using var _ = ServerEnvironment();
        var config = RunbookConfigLoader.Load(Path.Combine(TestServers.RepoRoot, "examples", "runbook.sandbox.jsonc"));
        var targets = config.GetEnvironment("sandbox").GetHealthCheckTargets();
        var results = await HealthCheckSessionTests.RunAll(new HealthCheckOptions(), Resolver(), [.. targets]);
        Assert.Equal(targets.Count, results.Count);
        Assert.All(results, r => Assert.True(r.Status == HealthStatus.Healthy, $"{r.Name}: {r.Status} {r.Reason}"));

        var secrets = new[] { servers["OPSRUNBOOK_PG_PASSWORD"], servers["OPSRUNBOOK_REDIS_PASSWORD"] };
        var text = System.Text.Json.JsonSerializer.Serialize(results.Select(r => new { r.Reason, r.Target.Address, Data = r.Data.ToDictionary(k => k.Key, v => v.Value?.ToString()), r.Conditions }));
        foreach (var s in secrets) Assert.DoesNotContain(s, text);
        // SCRAM never sends the password; the server log must not hold it either.
        var log = File.ReadAllText(Path.Combine(servers["OPSRUNBOOK_SERVERS_DIR"], "pg", "primary.log"));
        Assert.DoesNotContain(servers["OPSRUNBOOK_PG_PASSWORD"], log);
    }

    [Fact]
    public async Task The_sandbox_rotates_every_configured_secret_and_stays_healthy()
    {
        // What examples/rotate-secrets.ps1 and the Pester suite do through the cmdlets, against the sandbox of
        // tests/servers.sh (real PostgreSQL and Redis, the fake Secrets Manager process).
        Assert.False(string.IsNullOrEmpty(servers["OPSRUNBOOK_SM_ENDPOINT"]), "tests/servers.sh did not start the fake Secrets Manager (is tests/OpsRunbook.FakeCloud built?)");
        using var _ = ServerEnvironment();
        var env = RunbookConfigLoader.Load(Path.Combine(TestServers.RepoRoot, "examples", "runbook.sandbox.jsonc")).GetEnvironment("sandbox");
        var resolver = Resolver();
        resolver.UseAws(env.Aws!);
        using var client = OpsRunbook.Engine.Secrets.Rotation.SecretOperations.Client(new OperationContext(resolver, resolver.Redactor) { Aws = env.Aws });
        var rotator = new OpsRunbook.Engine.Secrets.Rotation.SecretRotator(client, resolver.Redactor);
        var configured = OpsRunbook.Engine.Secrets.Rotation.SecretOperations.Select(env, null);
        Assert.Equal(["database", "redis", "jwt"], configured.Select(c => c.Name));

        var before = await OpsRunbook.Engine.Secrets.Rotation.SecretOperations.StatusAsync(client, env, configured, null, DateTimeOffset.UtcNow, TimeSpan.FromDays(7), TestContext.Current.CancellationToken);
        Assert.All(before, s => Assert.NotEqual(OpsRunbook.Engine.Secrets.Rotation.SecretRotationState.Unknown, s.State));
        foreach (var secret in configured)
        {
            var r = await rotator.RotateAsync(OpsRunbook.Engine.Secrets.Rotation.SecretOperations.Request(env, secret), TestContext.Current.CancellationToken);
            Assert.True(r.Status == OpsRunbook.Engine.Secrets.Rotation.SecretRotationStatus.Rotated, $"{secret.Name}: {r.Error} {string.Join("; ", r.Steps)}");
            Assert.Equal("sandbox", r.Environment);
        }
        var after = await OpsRunbook.Engine.Secrets.Rotation.SecretOperations.StatusAsync(client, env, configured, null, DateTimeOffset.UtcNow, TimeSpan.FromDays(7), TestContext.Current.CancellationToken);
        Assert.All(after, s => Assert.Equal(OpsRunbook.Engine.Secrets.Rotation.SecretRotationState.Current, s.State));

        var targets = env.GetHealthCheckTargets();
        var results = await HealthCheckSessionTests.RunAll(new HealthCheckOptions(), Resolver(), [.. targets]);
        Assert.All(results, r => Assert.True(r.Status == HealthStatus.Healthy, $"{r.Name}: {r.Status} {r.Reason}"));
    }

    [Fact]
    public async Task The_sandbox_deployment_is_readable_and_a_rollback_can_be_planned()
    {
        Assert.False(string.IsNullOrEmpty(servers["OPSRUNBOOK_FLY_API"]), "tests/servers.sh did not start the fake Fly.io API (is tests/OpsRunbook.FakeCloud built?)");
        using var _ = ServerEnvironment();
        var env = RunbookConfigLoader.Load(Path.Combine(TestServers.RepoRoot, "examples", "runbook.sandbox.jsonc")).GetEnvironment("sandbox");
        var resolver = Resolver();
        var provider = await OpsRunbook.Engine.Deploy.DeploymentOperations.ProviderAsync(env, new OperationContext(resolver, resolver.Redactor) { Cancellation = TestContext.Current.CancellationToken });
        using (provider as IDisposable)
        {
            var instances = await OpsRunbook.Engine.Deploy.DeploymentOperations.StatusAsync(provider, "sandbox", TestContext.Current.CancellationToken);
            Assert.Equal(2, instances.Count);
            Assert.All(instances, i => Assert.Equal(OpsRunbook.Engine.Deploy.InstanceHealth.Healthy, i.Health));
            var plan = await OpsRunbook.Engine.Deploy.DeploymentOperations.RollbackAsync(provider, "sandbox", null, true, env.GetHealthCheckTargets(), resolver,
                TimeSpan.FromMinutes(1), _ => { }, TestContext.Current.CancellationToken);
            Assert.Equal(("Planned", 3, 1), (plan.Status, plan.From!.Version, plan.To.Version)); // release 2 failed: back to 1
        }
    }

    private sealed class Restore(Dictionary<string, string?> saved) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }

    private IDisposable ServerEnvironment()
    {
        var saved = new Dictionary<string, string?>();
        // Only what URLs in runbook.json expand (${VAR}): never a password or token, because other tests running at
        // the same time start child processes (pg_dump) whose environment is checked for secrets. References
        // (env:NAME) resolve through the test resolver instead.
        foreach (var (k, v) in servers.Settings)
        {
            if (k.EndsWith("PASSWORD", StringComparison.Ordinal) || k.EndsWith("TOKEN", StringComparison.Ordinal) || OpsRunbook.Engine.Secrets.SecretValue.ContainsCredential(v)) continue;
            saved[k] = Environment.GetEnvironmentVariable(k);
            Environment.SetEnvironmentVariable(k, v);
        }
        return new Restore(saved);
    }
}
