using System.Text.Json;
using Npgsql;
using OpsRunbook.Engine.Clients.Aws;
using OpsRunbook.Engine.Clients.Redis;
using OpsRunbook.Engine.Secrets;
using OpsRunbook.Engine.Secrets.Rotation;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Invoke-SecretRotation's engine against the real PostgreSQL and Redis, with Secrets Manager as the protocol fake.
/// After every fault the AWSCURRENT credential is tried against the real server, and a rerun must complete.
/// </summary>
public sealed class SecretRotationTests(TestServers servers) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly Db _db = new(servers);
    private readonly List<string> _roles = [];
    private readonly List<string> _redisUsers = [];
    private FakeSecretsManager _sm = null!;
    private readonly SecretRedactor _redactor = new();
    private readonly List<string> _progress = [];

    public async ValueTask InitializeAsync() => _sm = await FakeSecretsManager.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _sm.DisposeAsync();
        if (_roles.Count > 0)
        {
            await using var su = await _db.SuperuserAsync();
            foreach (var r in _roles)
            {
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", su) { Parameters = { new() { Value = r } } };
                if (await exists.ExecuteScalarAsync(CancellationToken.None) is not null) await Db.ExecAsync(su, $"DROP OWNED BY \"{r}\"; DROP ROLE \"{r}\"");
            }
        }
        if (_redisUsers.Count > 0)
        {
            await using var c = await RedisAdminAsync();
            foreach (var u in _redisUsers) await c.ExecuteAsync(CancellationToken.None, "ACL", "DELUSER", u);
        }
    }

    private int PgPort => int.Parse(servers["OPSRUNBOOK_PG_PORT"]);

    private SecretRotator Rotator() => new(SmClient(), _redactor) { Progress = _progress.Add };

    private SecretsManagerClient SmClient()
    {
        var keys = new Dictionary<string, string> { ["T_AWS_KEY_ID"] = FakeSecretsManager.AccessKey, ["T_AWS_SECRET"] = FakeSecretsManager.SecretKey };
        var resolver = new SecretResolver(_redactor, keys.GetValueOrDefault);
        var settings = new AwsSettings
        {
            Region = FakeSecretsManager.Region, AccessKeyId = SecretValue.Parse("env:T_AWS_KEY_ID"), SecretAccessKey = SecretValue.Parse("env:T_AWS_SECRET"),
            SecretsManagerEndpoint = _sm.Endpoint,
        };
        return new SecretsManagerClient(settings, resolver, _redactor);
    }

    /// <summary>A login role of the test's own, with a password set as a verifier (so even the setup's password stays out of the log).</summary>
    private async Task<(string role, string password)> NewRoleAsync(string? name = null, string extra = "")
    {
        servers.Require();
        var role = name ?? "rot_" + Guid.NewGuid().ToString("N")[..10];
        var password = PasswordGenerator.Generate();
        await using var su = await _db.SuperuserAsync();
        await Db.ExecAsync(su, $"CREATE ROLE \"{role}\" LOGIN {extra} PASSWORD '{ScramVerifier.Compute(password)}'");
        _roles.Add(role);
        return (role, password);
    }

    /// <summary>A role and an admin with CREATEROLE and ADMIN OPTION on it, stored as prod/app and prod/admin, and the alternating-users request.</summary>
    private async Task<(string role, string password, string adminRole, string adminPassword, SecretRotationRequest request)> AlternatingAsync(string secret = "prod/app", string admin = "prod/admin")
    {
        var (adminRole, adminPassword) = await NewRoleAsync(extra: "CREATEROLE");
        var (role, old) = await NewRoleAsync();
        await using (var su = await _db.SuperuserAsync()) await Db.ExecAsync(su, $"GRANT \"{role}\" TO \"{adminRole}\" WITH ADMIN OPTION");
        _roles.Insert(0, role + PostgresTarget.CloneSuffix);
        _sm.Add(admin, PgUrl(adminRole, adminPassword));
        _sm.Add(secret, PgUrl(role, old));
        return (role, old, adminRole, adminPassword, new SecretRotationRequest { SecretId = secret, Strategy = RotationStrategy.PostgresAlternatingUsers, AdminSecretId = admin });
    }

    /// <summary>The points a process can be killed at: before each step after Create.</summary>
    public static readonly TheoryData<RotationStepName> KillPoints = new() { RotationStepName.Set, RotationStepName.Test, RotationStepName.Finish, RotationStepName.Cleanup };

    /// <summary>Runs a rotation that stops before <paramref name="step"/> as if the process had been killed there.</summary>
    private async Task CrashBeforeAsync(SecretRotationRequest request, RotationStepName step)
    {
        var crashing = Rotator();
        crashing.CrashBefore = s => s == step;
        await Assert.ThrowsAsync<SimulatedCrashException>(() => crashing.RotateAsync(request, Ct));
    }

    private string PgUrl(string role, string password, int? port = null) => $"postgres://{role}:{password}@127.0.0.1:{port ?? PgPort}/opsrunbook";

    private async Task<bool> PgLogsInAsync(string secretValue)
    {
        var c = RotatableCredential.Parse(secretValue);
        var b = c.ToPostgres(new RotationConnectionOptions { ApplicationName = "rotation-test-probe" });
        b.Port = PgPort; // through a downed proxy or not, ask the real server
        try
        {
            await using var conn = new NpgsqlConnection(b.ConnectionString);
            await conn.OpenAsync(Ct);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            return false;
        }
    }

    private Task<bool> CurrentLogsInAsync(string secret) => PgLogsInAsync(_sm.ValueOf(secret)!);

    private static string PasswordOf(string value) => RotatableCredential.Parse(value).Password!;

    private static void AssertRotated(SecretRotationResult r)
    {
        Assert.True(r.Status == SecretRotationStatus.Rotated, string.Join("; ", r.Steps) + " | " + r.Error);
        Assert.Null(r.Error);
    }

    private void AssertLabelsSettled(string secret, string newVersion, string oldVersion)
    {
        var stages = _sm.StagesOf(secret);
        Assert.Equal(["AWSCURRENT"], stages[newVersion]);
        Assert.Equal(["AWSPREVIOUS"], stages[oldVersion]);
        Assert.DoesNotContain(stages.Values, s => s.Contains("AWSPENDING"));
    }

    [Fact]
    public async Task Single_user_rotation_changes_the_password_with_a_verifier_and_moves_the_labels()
    {
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        var oldVersion = _sm.StagesOf("prod/db").Single().Key;

        var r = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db", Environment = "production" }, Ct);

        AssertRotated(r);
        Assert.Equal(RotationStrategy.PostgresSingleUser, r.Strategy);
        Assert.Equal(role, r.Username);
        Assert.Equal("production", r.Environment);
        Assert.Equal([RotationStepName.Create, RotationStepName.Set, RotationStepName.Test, RotationStepName.Finish, RotationStepName.Cleanup], r.Steps.Select(s => s.Step));
        Assert.All(r.Steps.Take(4), s => Assert.Equal(RotationStepOutcome.Done, s.Outcome));
        AssertLabelsSettled("prod/db", r.NewVersionId!, oldVersion);
        var now = _sm.ValueOf("prod/db")!;
        Assert.NotEqual(old, PasswordOf(now));
        Assert.Equal(32, PasswordOf(now).Length);
        Assert.StartsWith($"postgres://{role}:", now);
        Assert.EndsWith($"@127.0.0.1:{PgPort}/opsrunbook", now);
        Assert.True(await PgLogsInAsync(now));
        Assert.False(await PgLogsInAsync(PgUrl(role, old)));

        // The server saw a SCRAM verifier, never the password.
        var log = _db.LogLines("opsrunbook-rotation");
        Assert.Contains(log, l => l.Contains("ALTER ROLE") && l.Contains("SCRAM-SHA-256$4096:"));
        Assert.DoesNotContain(log, l => l.Contains(PasswordOf(now), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_secrets_keep_their_shape_and_extra_fields()
    {
        var (role, old) = await NewRoleAsync();
        var value = JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = PgPort, username = role, password = old, dbname = "opsrunbook", owner = "team-a" });
        _sm.Add("prod/db-json", value);
        var r = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db-json", Password = new PasswordPolicy { Length = 40 } }, Ct);
        AssertRotated(r);
        using var doc = JsonDocument.Parse(_sm.ValueOf("prod/db-json")!);
        Assert.Equal("team-a", doc.RootElement.GetProperty("owner").GetString());
        Assert.Equal(PgPort, doc.RootElement.GetProperty("port").GetInt32());
        Assert.Equal(40, doc.RootElement.GetProperty("password").GetString()!.Length);
        Assert.True(await CurrentLogsInAsync("prod/db-json"));
    }

    [Fact]
    public async Task WhatIf_reads_but_changes_nothing_anywhere()
    {
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        var before = _sm.StagesOf("prod/db");
        var r = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db", WhatIf = true }, Ct);
        Assert.Equal(SecretRotationStatus.Planned, r.Status);
        Assert.All(r.Steps, s => Assert.Equal(RotationStepOutcome.Planned, s.Outcome));
        Assert.Contains(r.Steps, s => s.Step == RotationStepName.Set && s.Detail!.Contains("SCRAM"));
        Assert.All(_sm.Log, l => Assert.Contains(l.Operation, new[] { "DescribeSecret", "GetSecretValue" }));
        Assert.Equal(before, _sm.StagesOf("prod/db"));
        Assert.True(await PgLogsInAsync(PgUrl(role, old)));
        Assert.DoesNotContain(_db.LogLines("opsrunbook-rotation"), l => l.Contains(role));
    }

    [Fact]
    public async Task Alternating_users_create_the_clone_in_the_role_and_never_touch_the_live_login()
    {
        var (role, old, _, _, request) = await AlternatingAsync();

        var first = await Rotator().RotateAsync(request, Ct);
        AssertRotated(first);
        Assert.Equal(role + "_clone", first.Username);
        Assert.True(await CurrentLogsInAsync("prod/app"));
        Assert.True(await PgLogsInAsync(PgUrl(role, old)), "the user running instances use keeps working");
        await using (var su = await _db.SuperuserAsync())
        await using (var cmd = new NpgsqlCommand($"SELECT pg_has_role('{role}_clone', '{role}', 'MEMBER')", su))
        {
            Assert.Equal(true, await cmd.ExecuteScalarAsync(Ct));
        }

        var cloneValue = _sm.ValueOf("prod/app")!;
        var second = await Rotator().RotateAsync(request, Ct);
        AssertRotated(second);
        Assert.Equal(role, second.Username);
        Assert.True(await CurrentLogsInAsync("prod/app"));
        Assert.False(await PgLogsInAsync(PgUrl(role, old)));
        Assert.True(await PgLogsInAsync(cloneValue), "the clone keeps its password until the next rotation");
    }

    [Fact]
    public async Task Database_down_during_set_leaves_current_working_and_a_rerun_completes()
    {
        var (role, old) = await NewRoleAsync();
        await using var proxy = new TcpProxy(PgPort);
        _sm.Add("prod/db", PgUrl(role, old, proxy.Port));
        proxy.Down();
        var failed = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db", Connection = new RotationConnectionOptions { ConnectTimeout = TimeSpan.FromSeconds(3) } }, Ct);
        Assert.Equal(SecretRotationStatus.Failed, failed.Status);
        Assert.Equal(RotationStepOutcome.Failed, failed.Steps.Single(s => s.Step == RotationStepName.Set).Outcome);
        Assert.Contains("rerun to resume", failed.Error);
        Assert.Equal(false, failed.CurrentLogsIn); // through the downed proxy nothing logs in; the real server still takes AWSCURRENT:
        Assert.True(await CurrentLogsInAsync("prod/db"));
        Assert.Contains("AWSPENDING", _sm.StagesOf("prod/db")[failed.NewVersionId!]);

        proxy.Up();
        var rerun = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        AssertRotated(rerun);
        Assert.True(rerun.Resumed);
        Assert.Equal(failed.NewVersionId, rerun.NewVersionId);
        Assert.Equal(RotationStepOutcome.AlreadyDone, rerun.Steps[0].Outcome);
        Assert.True(await CurrentLogsInAsync("prod/db"));
    }

    [Fact]
    public async Task Wrong_admin_password_fails_cleanly_and_a_rerun_after_the_fix_completes()
    {
        var (_, _, adminRole, adminPassword, request) = await AlternatingAsync();
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        _sm.Add("prod/admin", PgUrl(adminRole, wrong));

        var failed = await Rotator().RotateAsync(request, Ct);
        Assert.Equal(SecretRotationStatus.Failed, failed.Status);
        Assert.Contains("password authentication failed", failed.Error);
        Assert.DoesNotContain(wrong, failed.Error);
        Assert.Equal(true, failed.CurrentLogsIn);
        Assert.True(await CurrentLogsInAsync("prod/app"));

        _sm.Add("prod/admin", PgUrl(adminRole, adminPassword));
        var rerun = await Rotator().RotateAsync(request, Ct);
        AssertRotated(rerun);
        Assert.True(rerun.Resumed);
        Assert.True(await CurrentLogsInAsync("prod/app"));
    }

    [Fact]
    public async Task A_refused_test_login_is_undone_so_current_still_logs_in_and_a_rerun_completes()
    {
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        var rotator = Rotator();
        rotator.TamperTestPassword = p => p + "x";
        var failed = await rotator.RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        Assert.Equal(SecretRotationStatus.Failed, failed.Status);
        Assert.Equal(RotationStepOutcome.Failed, failed.Steps.Single(s => s.Step == RotationStepName.Test).Outcome);
        Assert.Equal(RotationStepOutcome.Done, failed.Steps.Single(s => s.Step == RotationStepName.Revert).Outcome);
        Assert.Equal(true, failed.CurrentLogsIn);
        Assert.True(await PgLogsInAsync(PgUrl(role, old)));
        Assert.Equal(old, PasswordOf(_sm.ValueOf("prod/db")!));

        var rerun = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        AssertRotated(rerun);
        Assert.True(await CurrentLogsInAsync("prod/db"));
    }

    [Theory]
    [InlineData("ThrottlingException", 400)]
    [InlineData("InternalServiceError", 500)]
    public async Task Secrets_Manager_failing_during_finish_leaves_current_working_and_a_rerun_completes(string error, int status)
    {
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        _sm.Fail("UpdateSecretVersionStage", error, status, count: 4); // more than the client's 3 retries
        var failed = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        Assert.Contains(error, failed.Error);
        Assert.Equal(true, failed.CurrentLogsIn);
        if (status < 500)
        {
            // Refused, so certainly not applied: undone.
            Assert.Equal(SecretRotationStatus.Failed, failed.Status);
            Assert.Equal(RotationStepOutcome.Done, failed.Steps.Single(s => s.Step == RotationStepName.Revert).Outcome);
        }
        else
        {
            // A server error may have applied the move (or may still): completed, never undone.
            Assert.Equal(SecretRotationStatus.Rotated, failed.Status);
            Assert.Contains("finish was completed", failed.Error);
            Assert.DoesNotContain(failed.Steps, s => s.Step == RotationStepName.Revert);
        }
        Assert.True(await CurrentLogsInAsync("prod/db"));

        var rerun = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        AssertRotated(rerun);
        Assert.True(await CurrentLogsInAsync("prod/db"));
    }

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task Killed_between_steps_alternating_keeps_current_working_and_a_rerun_completes(RotationStepName killedBefore)
    {
        var (role, old, _, _, request) = await AlternatingAsync();

        await CrashBeforeAsync(request, killedBefore);
        Assert.True(await CurrentLogsInAsync("prod/app"), $"AWSCURRENT must log in after a kill before {killedBefore}");

        var rerun = await Rotator().RotateAsync(request, Ct);
        AssertRotated(rerun);
        Assert.True(rerun.Resumed, "the rerun resumes the interrupted rotation rather than starting another");
        Assert.True(await CurrentLogsInAsync("prod/app"));
    }

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task Killed_between_steps_single_user_resumes_to_a_working_credential(RotationStepName killedBefore)
    {
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        await CrashBeforeAsync(new SecretRotationRequest { SecretId = "prod/db" }, killedBefore);
        // One password per role: after Set, only the pending one works until the rerun finishes (use alternating users
        // where that window matters). Before Set, and after Finish, AWSCURRENT logs in.
        if (killedBefore is RotationStepName.Set or RotationStepName.Cleanup) Assert.True(await CurrentLogsInAsync("prod/db"));

        var rerun = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        AssertRotated(rerun);
        if (killedBefore is RotationStepName.Test or RotationStepName.Finish)
        {
            Assert.Equal(RotationStepOutcome.AlreadyDone, rerun.Steps.Single(s => s.Step == RotationStepName.Set).Outcome);
        }
        Assert.True(await CurrentLogsInAsync("prod/db"));
    }

    [Fact]
    public async Task A_label_left_inside_finish_is_tidied_by_the_rerun()
    {
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        _sm.Fail("UpdateSecretVersionStage", "ThrottlingException", 400, count: 0);
        var first = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        AssertRotated(first);
        // Simulate a run killed after AWSCURRENT moved but before AWSPENDING was dropped.
        var version = first.NewVersionId!;
        var raw = _sm.StagesOf("prod/db");
        Assert.Equal(["AWSCURRENT"], raw[version]);
        var client = Rotator();
        var r = await RotateWithPendingLeftAsync(version);
        AssertRotated(r);
        Assert.True(r.Resumed);
        Assert.Equal(RotationStepOutcome.AlreadyDone, r.Steps.Single(s => s.Step == RotationStepName.Finish).Outcome);
        Assert.DoesNotContain(_sm.StagesOf("prod/db").Values, s => s.Contains("AWSPENDING"));
        Assert.True(await CurrentLogsInAsync("prod/db"));

        async Task<SecretRotationResult> RotateWithPendingLeftAsync(string v)
        {
            using var http = new HttpClient();
            // Put AWSPENDING back on the current version through the API, as an interrupted finish leaves it.
            var keys = new Dictionary<string, string> { ["K"] = FakeSecretsManager.AccessKey, ["S"] = FakeSecretsManager.SecretKey };
            var sm = new SecretsManagerClient(new AwsSettings
            {
                Region = FakeSecretsManager.Region, AccessKeyId = SecretValue.Parse("env:K"), SecretAccessKey = SecretValue.Parse("env:S"), SecretsManagerEndpoint = _sm.Endpoint,
            }, new SecretResolver(environment: keys.GetValueOrDefault), new SecretRedactor());
            await sm.UpdateSecretVersionStageAsync("prod/db", "AWSPENDING", v, null, Ct);
            return await client.RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        }
    }

    private async Task<RedisConnection> RedisAdminAsync() =>
        await RedisConnection.ConnectAsync(RedisEndpoint.Parse($"redis://:{servers["OPSRUNBOOK_REDIS_DEFAULT_PASSWORD"]}@127.0.0.1:{servers["OPSRUNBOOK_REDIS_PORT"]}"), CancellationToken.None);

    private static async Task<bool> RedisLogsInAsync(string url)
    {
        try
        {
            await using var c = await RedisConnection.ConnectAsync(RedisEndpoint.Parse(url), Ct);
            return (await c.ExecuteAsync(Ct, "PING")).Text == "PONG";
        }
        catch (RedisServerException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Redis_acl_user_has_both_passwords_during_the_change_and_only_the_new_one_after()
    {
        servers.Require();
        var user = "rot_" + Guid.NewGuid().ToString("N")[..10];
        var old = PasswordGenerator.Generate();
        await using (var admin = await RedisAdminAsync())
        {
            await admin.ExecuteAsync(Ct, "ACL", "SETUSER", user, "on", "#" + RedisTarget.Hash(old), "~*", "&*", "+@all");
        }
        _redisUsers.Add(user);
        var port = servers["OPSRUNBOOK_REDIS_PORT"];
        var oldUrl = $"redis://{user}:{old}@127.0.0.1:{port}/0";
        _sm.Add("prod/redis", oldUrl);
        var request = new SecretRotationRequest { SecretId = "prod/redis", PersistRedis = false };

        await CrashBeforeAsync(request, RotationStepName.Finish);
        var pendingUrl = _sm.ValueOf("prod/redis", "AWSPENDING")!;
        Assert.True(await RedisLogsInAsync(oldUrl), "old password still valid mid-rotation");
        Assert.True(await RedisLogsInAsync(pendingUrl), "new password already valid mid-rotation");

        var r = await Rotator().RotateAsync(request, Ct);
        AssertRotated(r);
        Assert.Equal(RotationStrategy.RedisAcl, r.Strategy);
        Assert.Equal(RotationStepOutcome.Done, r.Steps.Single(s => s.Step == RotationStepName.Cleanup).Outcome);
        Assert.Equal(pendingUrl, _sm.ValueOf("prod/redis"));
        Assert.True(await RedisLogsInAsync(pendingUrl));
        Assert.False(await RedisLogsInAsync(oldUrl));

        // The server never saw the clear password: ACL GETUSER holds the hash, SLOWLOG/ACL LOG nothing.
        await using var a = await RedisAdminAsync();
        var info = (await a.ExecuteAsync(Ct, "ACL", "GETUSER", user)).ToString();
        Assert.DoesNotContain(PasswordOf(pendingUrl), info);
        Assert.Contains(RedisTarget.Hash(PasswordOf(pendingUrl)), info);
    }

    [Theory]
    [MemberData(nameof(KillPoints))]
    public async Task Killed_between_steps_redis_acl_keeps_current_working_and_a_rerun_completes(RotationStepName killedBefore)
    {
        servers.Require();
        var user = "rot_" + Guid.NewGuid().ToString("N")[..10];
        var old = PasswordGenerator.Generate();
        await using (var admin = await RedisAdminAsync())
        {
            await admin.ExecuteAsync(Ct, "ACL", "SETUSER", user, "on", "#" + RedisTarget.Hash(old), "~*", "&*", "+@all");
        }
        _redisUsers.Add(user);
        var oldUrl = $"redis://{user}:{old}@127.0.0.1:{servers["OPSRUNBOOK_REDIS_PORT"]}/0";
        _sm.Add("prod/redis", oldUrl);
        var request = new SecretRotationRequest { SecretId = "prod/redis", PersistRedis = false };
        await CrashBeforeAsync(request, killedBefore);
        Assert.True(await RedisLogsInAsync(_sm.ValueOf("prod/redis")!), $"AWSCURRENT must log in after a kill before {killedBefore}");

        var rerun = await Rotator().RotateAsync(request, Ct);
        AssertRotated(rerun);
        Assert.True(rerun.Resumed);
        Assert.True(await RedisLogsInAsync(_sm.ValueOf("prod/redis")!));
        Assert.False(await RedisLogsInAsync(oldUrl), "the old password is retired once the rotation completes");
    }

    [Fact]
    public async Task Redis_requirepass_rotates_without_downtime_and_persists_the_config()
    {
        var old = PasswordGenerator.Generate();
        using var redis = new PrivateRedis(old);
        _sm.Add("prod/redis-default", $"redis://:{old}@127.0.0.1:{redis.Port}");
        await CrashBeforeAsync(new SecretRotationRequest { SecretId = "prod/redis-default" }, RotationStepName.Finish);
        Assert.True(await RedisLogsInAsync($"redis://:{old}@127.0.0.1:{redis.Port}"));

        var r = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/redis-default" }, Ct);
        AssertRotated(r);
        Assert.Equal(RotationStrategy.RedisRequirePass, r.Strategy);
        var now = PasswordOf(_sm.ValueOf("prod/redis-default")!);
        Assert.True(await RedisLogsInAsync($"redis://:{now}@127.0.0.1:{redis.Port}"));
        Assert.False(await RedisLogsInAsync($"redis://:{old}@127.0.0.1:{redis.Port}"));
        Assert.Contains("CONFIG REWRITE", r.Steps.Single(s => s.Step == RotationStepName.Cleanup).Detail);
        Assert.Contains($"requirepass \"{now}\"", File.ReadAllText(redis.ConfigPath).Replace("requirepass " + now, $"requirepass \"{now}\""));
    }

    [Fact]
    public async Task Generic_values_are_generated_and_stored_only()
    {
        _sm.Add("prod/jwt", "old-jwt-secret-value-0123456789");
        _sm.Add("prod/api", """{"apiKey":"old-key-0123456789","note":"kept"}""");
        var jwt = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/jwt", Password = new PasswordPolicy { Length = 64 } }, Ct);
        AssertRotated(jwt);
        Assert.Equal(RotationStrategy.Generic, jwt.Strategy);
        Assert.Equal(64, _sm.ValueOf("prod/jwt")!.Length);
        Assert.All(jwt.Steps.Where(s => s.Step is RotationStepName.Set or RotationStepName.Test), s => Assert.Equal(RotationStepOutcome.Skipped, s.Outcome));

        var api = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/api", Field = "apiKey" }, Ct);
        AssertRotated(api);
        using var doc = JsonDocument.Parse(_sm.ValueOf("prod/api")!);
        Assert.Equal("kept", doc.RootElement.GetProperty("note").GetString());
        Assert.NotEqual("old-key-0123456789", doc.RootElement.GetProperty("apiKey").GetString());
    }

    [Fact]
    public async Task A_token_that_does_not_match_the_rotation_in_progress_is_refused_with_what_to_do()
    {
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        await CrashBeforeAsync(new SecretRotationRequest { SecretId = "prod/db" }, RotationStepName.Set);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db", ClientRequestToken = Guid.NewGuid().ToString() }, Ct));
        Assert.Contains("rerun without a ClientRequestToken", e.Message);
    }

    /// <summary>The canary: every path runs with known values; none may appear in anything the rotation hands back or the server logged.</summary>
    [Fact]
    public async Task Secret_values_never_appear_in_results_progress_errors_or_the_server_log()
    {
        var (_, old, _, adminPassword, _) = await AlternatingAsync("c/db", "c/admin");
        _sm.Add("c/jwt", "canary-jwt-" + Guid.NewGuid().ToString("N"));
        var results = new List<SecretRotationResult>
        {
            await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "c/db", WhatIf = true }, Ct),
            await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "c/db" }, Ct),
            await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "c/db", Strategy = RotationStrategy.PostgresAlternatingUsers, AdminSecretId = "c/admin" }, Ct),
            await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "c/jwt" }, Ct),
        };
        var tampering = Rotator();
        tampering.TamperTestPassword = p => p + "!";
        results.Add(await tampering.RotateAsync(new SecretRotationRequest { SecretId = "c/db" }, Ct));
        _sm.Fail("UpdateSecretVersionStage", "InternalServiceError", 500, 4);
        results.Add(await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "c/db" }, Ct));

        var canaries = new List<string> { old, adminPassword };
        foreach (var name in new[] { "c/db", "c/jwt" })
        {
            foreach (var stage in new[] { "AWSCURRENT", "AWSPREVIOUS", "AWSPENDING" })
            {
                if (_sm.ValueOf(name, stage) is { } v) canaries.Add(PasswordOf(v));
            }
        }
        var report = new OpsRunbook.Engine.Reporting.ReportWriter();
        foreach (var r in results) report.Add(r);
        var rendered = string.Join("\n", results.Select(r => r.ToString() + JsonSerializer.Serialize(r) + string.Join("|", r.Steps) + r.Error)) + string.Join("\n", _progress)
            + report.Write(OpsRunbook.Engine.Reporting.ReportFormat.Markdown, "t", DateTimeOffset.UtcNow).Content
            + report.Write(OpsRunbook.Engine.Reporting.ReportFormat.JUnit, "t", DateTimeOffset.UtcNow).Content;
        Assert.Contains("Secret rotation", rendered);
        var log = string.Join("\n", _db.LogLines("opsrunbook-rotation"));
        Assert.True(canaries.Count >= 6);
        foreach (var canary in canaries.Distinct())
        {
            Assert.DoesNotContain(canary, rendered, StringComparison.Ordinal);
            Assert.DoesNotContain(canary, log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_finish_still_in_flight_when_the_run_is_stopped_never_leaves_current_locked_out()
    {
        // Issue 12: the run was stopped while its finish request was on the wire; the module saw AWSCURRENT unchanged and
        // put the old password back, then the late request moved AWSCURRENT to the password the server no longer took.
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old));
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        _sm.Hold = async (operation, request) =>
        {
            if (operation != "UpdateSecretVersionStage" || request["VersionStage"]?.GetValue<string>() != "AWSCURRENT" || Interlocked.Increment(ref held) != 1) return;
            arrived.SetResult();
            await release.Task;
            // Applied after this returns; give the fake a moment to, then say so.
            _ = Task.Delay(200).ContinueWith(_ => applied.SetResult(), TaskScheduler.Default);
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var run = Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, stop.Token);
        await arrived.Task.WaitAsync(Ct);
        await stop.CancelAsync();
        var r = await run;
        release.SetResult();
        await applied.Task.WaitAsync(Ct);

        Assert.True(await CurrentLogsInAsync("prod/db"), $"AWSCURRENT must log in once the late request has landed: {r.Error} | {string.Join("; ", r.Steps)}");
        Assert.Equal(r.NewVersionId, _sm.StagesOf("prod/db").Single(kv => kv.Value.Contains("AWSCURRENT")).Key);
        Assert.Equal(SecretRotationStatus.Rotated, r.Status);
        Assert.True(r.CurrentLogsIn);
        Assert.DoesNotContain(r.Steps, x => x.Step == RotationStepName.Revert && x.Outcome == RotationStepOutcome.Done);

        // A rerun cleans up (AWSPENDING still marks the version) and checks the login.
        var rerun = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        AssertRotated(rerun);
        Assert.True(await CurrentLogsInAsync("prod/db"));
    }

    [Fact]
    public async Task A_rerun_repairs_a_current_credential_the_server_refuses()
    {
        // The state the race above used to leave: AWSCURRENT moved (AWSPENDING still on it), the server on the old password.
        // (No rotation rules: Secrets Manager's own rotation is not what left the label.)
        var (role, old) = await NewRoleAsync();
        _sm.Add("prod/db", PgUrl(role, old), rotationDays: null);
        await CrashBeforeAsync(new SecretRotationRequest { SecretId = "prod/db" }, RotationStepName.Cleanup);
        await using (var su = await _db.SuperuserAsync()) await Db.ExecAsync(su, $"ALTER ROLE \"{role}\" PASSWORD '{ScramVerifier.Compute(old)}'");
        Assert.False(await CurrentLogsInAsync("prod/db"));
        var status = SecretPolicy.Evaluate(await SmClient().DescribeSecretAsync("prod/db", Ct), null, null, DateTimeOffset.UtcNow);
        Assert.Equal(SecretRotationState.Interrupted, status.State);

        var rerun = await Rotator().RotateAsync(new SecretRotationRequest { SecretId = "prod/db" }, Ct);
        AssertRotated(rerun);
        Assert.Contains("repaired", rerun.Steps.Single(x => x.Step == RotationStepName.Set).Detail);
        Assert.True(await CurrentLogsInAsync("prod/db"));
    }
}
