using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Metrics;
using OpsRunbook.Engine.Reporting;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>The diagnostic and maintenance procedures against the real PostgreSQL 15 primary and replica.</summary>
public class DatabaseTests(TestServers servers)
{
    private readonly Db _db = new(servers);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Activity_lists_long_running_queries_and_cancel_stops_one()
    {
        var app = Unique("sleeper");
        await using var sleeper = await _db.AppAsync(app);
        await using var cmd = new NpgsqlCommand("SELECT pg_sleep(30) /* " + new string('x', 300) + " */", sleeper);
        var running = cmd.ExecuteScalarAsync(Ct);
        await using var session = await _db.SessionAsync();
        var found = await Db.EventuallyAsync(
            async () => (await DatabaseDiagnostics.GetActivityAsync(session, new ActivityFilter(["active"], TimeSpan.FromMilliseconds(300)), Ct)).Where(a => a.Application == app).ToList(),
            l => l.Count == 1);
        var activity = Assert.Single(found);
        Assert.Equal("opsrunbook", activity.User);
        Assert.Equal("client backend", activity.BackendType);
        Assert.True(activity.Duration >= TimeSpan.FromMilliseconds(300));
        Assert.Equal(DatabaseDiagnostics.QueryPreviewLength + 1, activity.Query!.Length);
        Assert.EndsWith("…", activity.Query);
        Assert.Equal(("test", "database"), (activity.Environment, activity.Target));
        Assert.DoesNotContain(await DatabaseDiagnostics.GetActivityAsync(session, new ActivityFilter(), Ct), a => a.Application == session.ApplicationName);
        // By default only client connections: the server's own processes have no user or state to show.
        Assert.All(await DatabaseDiagnostics.GetActivityAsync(session, new ActivityFilter(), Ct), a => Assert.Equal("client backend", a.BackendType));
        Assert.Contains(await DatabaseDiagnostics.GetActivityAsync(session, new ActivityFilter(IncludeBackground: true), Ct), a => a.BackendType == "checkpointer");

        var plan = await DatabaseOperations.PlanStopAsync(session, [activity.Pid], null, null, Ct);
        var result = await DatabaseOperations.StopAsync(session, Assert.Single(plan), terminate: false, Ct);
        Assert.Equal(("Stopped", "Cancel"), (result.Outcome, result.Action));
        var ex = await Assert.ThrowsAsync<PostgresException>(() => running);
        Assert.Equal("57014", ex.SqlState); // query_canceled: the connection stays
        Assert.Equal(1, await new NpgsqlCommand("SELECT 1", sleeper).ExecuteScalarAsync(Ct));
    }

    [Fact]
    public async Task Terminate_closes_the_connection_and_the_log_shows_the_statement_only_when_acted()
    {
        var app = Unique("victim");
        var victim = await _db.AppAsync(app);
        var running = new NpgsqlCommand("SELECT pg_sleep(30)", victim).ExecuteScalarAsync(Ct);
        await using var session = await _db.SessionAsync();
        var plan = await Db.EventuallyAsync(
            async () => (await DatabaseOperations.PlanStopAsync(session, null, TimeSpan.FromMilliseconds(200), null, Ct)).Where(c => c.Query?.Contains("pg_sleep(30)") == true && c.SkipReason is null).ToList(),
            l => l.Count >= 1);
        var candidate = plan.First(c => c.Query!.Contains("pg_sleep(30)"));
        // Planning (what -WhatIf does) sent no signal at all.
        Assert.DoesNotContain(_db.LogLines(session.ApplicationName), l => l.Contains("pg_terminate_backend") || l.Contains("pg_cancel_backend"));
        Assert.Contains(_db.LogLines(session.ApplicationName), l => l.Contains("BEGIN READ ONLY"));
        var result = await DatabaseOperations.StopAsync(session, candidate, terminate: true, Ct);
        Assert.Equal("Stopped", result.Outcome);
        await Assert.ThrowsAnyAsync<Exception>(() => running);
        Assert.Contains(_db.LogLines(session.ApplicationName), l => l.Contains("pg_terminate_backend"));
        await victim.DisposeAsync();
    }

    [Fact]
    public async Task Own_connections_are_never_candidates_and_system_processes_only_when_named()
    {
        await using var session = await _db.SessionAsync();
        await using var admin = await _db.SuperuserAsync();
        var walsender = (int)(await new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender' LIMIT 1", admin).ExecuteScalarAsync(Ct))!;
        var own = await DatabaseOperations.PlanStopAsync(session, null, TimeSpan.Zero, ["active", "idle"], Ct);
        Assert.All(own.Where(c => c.SkipReason is null), c => Assert.NotEqual("walsender", c.BackendType));
        Assert.Contains(own, c => c.SkipReason == "OpsRunbook's own connection");
        var named = await DatabaseOperations.PlanStopAsync(session, [walsender, 999999], null, null, Ct);
        Assert.Null(named.Single(c => c.Pid == walsender).SkipReason);
        var missing = named.Single(c => c.Pid == 999999);
        Assert.False(missing.Found);
        Assert.Equal("NotFound", (await DatabaseOperations.StopAsync(session, missing, true, Ct)).Outcome);
        Assert.Throws<ArgumentException>(() => DatabaseOperations.PlanStopAsync(session, null, null, null, Ct).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task Stopping_a_superuser_query_fails_with_a_clear_permission_message()
    {
        await using var admin = await _db.SuperuserAsync(application: Unique("admin-sleeper"));
        var running = new NpgsqlCommand("SELECT pg_sleep(5)", admin).ExecuteScalarAsync(Ct);
        await using var session = await _db.SessionAsync();
        var adminPid = admin.ProcessID;
        var result = await DatabaseOperations.StopAsync(session, Assert.Single(await DatabaseOperations.PlanStopAsync(session, [adminPid], null, null, Ct)), false, Ct);
        Assert.Equal("Failed", result.Outcome);
        Assert.Contains("permission denied", result.Reason);
        Assert.Contains("superuser", result.Reason);
        await running;
    }

    [Fact]
    public async Task Locks_pair_the_blocked_with_the_blocker()
    {
        var table = Unique("locks");
        await using var setup = await _db.AppAsync();
        await Db.ExecAsync(setup, $"CREATE TABLE {table} (id int PRIMARY KEY, v int); INSERT INTO {table} VALUES (1, 0)");
        await using var holder = await _db.AppAsync(Unique("holder"));
        await Db.ExecAsync(holder, $"BEGIN; UPDATE {table} SET v = v + 1 WHERE id = 1");
        await using var waiter = await _db.AppAsync(Unique("waiter"));
        var blocked = new NpgsqlCommand($"UPDATE {table} SET v = v + 10 WHERE id = 1", waiter).ExecuteNonQueryAsync(Ct);
        await using var session = await _db.SessionAsync();
        var locks = await Db.EventuallyAsync(async () => (await DatabaseDiagnostics.GetLocksAsync(session, false, Ct)).Where(l => l.BlockedPid == waiter.ProcessID).ToList(), l => l.Count == 1);
        var pair = Assert.Single(locks);
        Assert.Equal(holder.ProcessID, pair.BlockingPid);
        Assert.Equal(pair.BlockingPid, pair.Pid);
        Assert.Equal("idle in transaction", pair.BlockingState);
        Assert.Contains("v + 10", pair.BlockedQuery);
        var stop = await DatabaseOperations.StopAsync(session, Assert.Single(await DatabaseOperations.PlanStopAsync(session, [pair.Pid], null, null, Ct)), terminate: true, Ct);
        Assert.Equal("Stopped", stop.Outcome);
        Assert.Equal(1, await blocked);
        await Db.ExecAsync(setup, $"DROP TABLE {table}");
    }

    [Fact]
    public async Task Slow_queries_come_from_pg_stat_statements_with_version_aware_columns()
    {
        await using var app = await _db.AppAsync();
        for (var i = 0; i < 3; i++) await Db.ExecAsync(app, "SELECT count(*) FROM generate_series(1, 20000)");
        await using var session = await _db.SessionAsync();
        var top = await DatabaseDiagnostics.GetSlowQueriesAsync(session, 5000, SlowQueryOrder.Calls, false, Ct);
        Assert.NotEmpty(top);
        var q = top.First(x => x.Query.Contains("generate_series"));
        Assert.True(q.Calls >= 3);
        Assert.True(q.MeanMs > 0 && q.TotalMs >= q.MeanMs);
        // Each share is rounded to 2 decimals, so the sum may exceed 100 by up to 0.005 per row.
        Assert.InRange(top.Sum(t => t.PercentOfTotal), 0, 100 + 0.005 * top.Count + 1e-9);
        Assert.True(top.Zip(top.Skip(1)).All(p => p.First.Calls >= p.Second.Calls));
    }

    [Fact]
    public async Task A_database_without_pg_stat_statements_says_how_to_enable_it()
    {
        await using var session = await _db.SessionAsync(database: "postgres");
        var ex = await Assert.ThrowsAsync<DatabaseFeatureMissingException>(() => DatabaseDiagnostics.GetSlowQueriesAsync(session, 5, SlowQueryOrder.Mean, false, Ct));
        Assert.Contains("CREATE EXTENSION pg_stat_statements;", ex.Message);
        Assert.Contains("database postgres", ex.Message);
    }

    [Fact]
    public async Task Table_sizes_index_usage_and_index_advice()
    {
        var table = Unique("orders");
        await using var app = await _db.AppAsync();
        await Db.ExecAsync(app, $"""
            CREATE TABLE {table} (id int PRIMARY KEY, customer int, status text);
            INSERT INTO {table} SELECT g, (random() * 100000)::int, 'pending' FROM generate_series(1, 20000) g;
            CREATE INDEX {table}_status ON {table} (status);
            ANALYZE {table};
            """);
        for (var i = 0; i < 3; i++) await Db.ExecAsync(app, $"SELECT count(*) FROM {table} WHERE customer = 42");
        await using var session = await _db.SessionAsync();
        var sizes = await DatabaseDiagnostics.GetTableSizesAsync(session, "public", 1000, Ct);
        var size = sizes.Single(s => s.Table == table);
        Assert.True(size.TotalBytes >= size.TableBytes + size.IndexBytes && size.IndexBytes > 0);
        Assert.Equal($"\"public\".\"{table}\"", size.QualifiedName);

        var usage = await DatabaseDiagnostics.GetIndexUsageAsync(session, 50, Ct);
        Assert.Equal("Unused", usage.Single(u => u.Index == table + "_status").Usage);
        Assert.Equal("Constraint", usage.Single(u => u.Index == table + "_pkey").Usage);

        var advice = await Db.EventuallyAsync(async () => await DatabaseDiagnostics.GetIndexAdviceAsync(session, "public", 10000, Ct),
            a => a.Any(x => x.Table == table && x.Kind == "SequentialScans"));
        var column = advice.Single(a => a.Table == table && a.Kind == "ColumnStatistics");
        Assert.Equal("customer", column.Column);
        Assert.Equal($"CREATE INDEX CONCURRENTLY ON \"public\".\"{table}\" (\"customer\");", column.Suggestion);
        Assert.DoesNotContain(advice, a => a.Table == table && a.Column is "id" or "status");
        Assert.Contains(advice, a => a.Table == table && a.Kind == "SequentialScans" && a.SequentialScans >= 3);
        await Db.ExecAsync(app, $"DROP TABLE {table}");
    }

    [Fact]
    public async Task Connection_usage_and_replication_with_thresholds()
    {
        await using var session = await _db.SessionAsync();
        var usage = await DatabaseDiagnostics.GetConnectionUsageAsync(session, null, Ct);
        Assert.Equal(100, usage.MaxConnections);
        Assert.Equal(3, usage.Reserved);
        Assert.True(usage.Total >= 1 && usage.ByState.Values.Sum() == usage.Total);
        Assert.Equal("Normal", usage.Severity);
        Assert.Equal("warning > 80, critical > 90", usage.Threshold);
        var tight = await DatabaseDiagnostics.GetConnectionUsageAsync(session, ThresholdProfile.Defaults.With("t", [new ThresholdRule("pool_utilization", 0.0001, null)]), Ct);
        Assert.Equal("Warning", tight.Severity);

        var primary = await DatabaseDiagnostics.GetReplicationAsync(session, null, Ct);
        Assert.Equal("primary", primary.Role);
        var replica = Assert.Single(primary.Replicas);
        Assert.Equal("streaming", replica.State);
        Assert.Null(primary.MissingPrivilege);
        await using var replicaSession = await _db.SessionAsync(replica: true);
        var standby = await DatabaseDiagnostics.GetReplicationAsync(replicaSession, null, Ct);
        Assert.Equal(("replica", "streaming", "Normal"), (standby.Role, standby.ReceiverStatus, standby.Severity));
    }

    [Fact]
    public async Task Slow_queries_and_activity_never_show_a_password_the_statistics_kept()
    {
        // pg_stat_statements keeps utility statements verbatim: CREATE ROLE ... PASSWORD '...' as it was sent.
        var role = Unique("canaryrole");
        var canary = "Canary-" + Guid.NewGuid().ToString("N");
        await using (var admin = await _db.SuperuserAsync())
        {
            await Db.ExecAsync(admin, "SET log_statement = 'none'");
            await Db.ExecAsync(admin, $"CREATE ROLE {role} LOGIN PASSWORD '{canary}'");
            await Db.ExecAsync(admin, $"DROP ROLE {role}");
        }
        await using var session = await _db.SessionAsync();
        var slow = await DatabaseDiagnostics.GetSlowQueriesAsync(session, 5000, SlowQueryOrder.Mean, fullQuery: true, Ct);
        Assert.Contains(slow, q => q.Query.Contains($"CREATE ROLE {role} LOGIN PASSWORD '***'", StringComparison.Ordinal));
        Assert.DoesNotContain(slow, q => q.Query.Contains(canary, StringComparison.Ordinal));
        Assert.DoesNotContain(await DatabaseDiagnostics.GetActivityAsync(session, new ActivityFilter(FullQuery: true, IncludeBackground: true), Ct),
            a => a.Query?.Contains(canary, StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Diagnostics_seen_without_pg_monitor_say_what_is_missing_instead_of_blanks()
    {
        var role = Unique("nomonitor");
        var password = Guid.NewGuid().ToString("N");
        await using (var admin = await _db.SuperuserAsync())
        {
            await Db.ExecAsync(admin, $"SET log_statement = 'none'; CREATE ROLE {role} LOGIN PASSWORD '{password}'");
        }
        try
        {
            var url = _db.Url("opsrunbook").Replace("opsrunbook:" + Uri.EscapeDataString(servers["OPSRUNBOOK_PG_PASSWORD"]), $"{role}:{password}", StringComparison.Ordinal);
            await using var session = await DatabaseSession.OpenAsync(SecretValue.Parse(url), new DatabaseSessionOptions(), "database", _db.Context());
            var primary = await DatabaseDiagnostics.GetReplicationAsync(session, null, Ct);
            Assert.Null(Assert.Single(primary.Replicas).State); // what PostgreSQL hides
            Assert.Equal("Unknown", primary.Severity);
            Assert.Contains("GRANT pg_monitor", primary.MissingPrivilege);
            Assert.Equal(ReportOutcome.Warn, Assert.Single(primary.ToReportRows()).Outcome);

            // Another role's session: its query and state are hidden from this login, and the rows say why.
            var app = Unique("visible");
            await using var other = await _db.AppAsync(app);
            var activity = await DatabaseDiagnostics.GetActivityAsync(session, new ActivityFilter(), Ct);
            // (other tests' sessions run meanwhile: every hidden row, however many, must say why)
            var hidden = activity.Where(a => a.Query == "<insufficient privilege>").ToList();
            Assert.Contains(hidden, a => a.User == "opsrunbook");
            Assert.All(hidden, a =>
            {
                Assert.Null(a.State);
                Assert.Contains("pg_read_all_stats", a.MissingPrivilege);
            });
            Assert.All(activity.Where(a => a.User == role), a => Assert.Null(a.MissingPrivilege)); // its own sessions are whole
            var slow = await DatabaseDiagnostics.GetSlowQueriesAsync(session, 1000, SlowQueryOrder.Mean, false, Ct);
            var hiddenStatements = slow.Where(q => q.Query == "<insufficient privilege>").ToList();
            Assert.NotEmpty(hiddenStatements); // opsrunbook's statements, recorded by pg_stat_statements
            Assert.All(hiddenStatements, q => Assert.Contains("pg_read_all_stats", q.MissingPrivilege));
            var usage = await DatabaseDiagnostics.GetConnectionUsageAsync(session, null, Ct);
            Assert.True(usage.ByState.ContainsKey("unknown"));
            Assert.Contains("GRANT pg_monitor", usage.MissingPrivilege);
        }
        finally
        {
            await using var admin = await _db.SuperuserAsync();
            await Db.ExecAsync(admin, $"DROP ROLE IF EXISTS {role}");
        }
    }

    [Fact]
    public async Task The_role_audit_reports_privileges_expiry_and_public_schema()
    {
        var prefix = Unique("audit");
        var db = prefix + "_db";
        await using (var admin = await _db.SuperuserAsync(database: "postgres"))
        {
            await Db.ExecAsync(admin, $"""
                CREATE ROLE {prefix}_expired LOGIN VALID UNTIL '2001-01-01';
                CREATE ROLE {prefix}_creator LOGIN CREATEROLE VALID UNTIL 'infinity';
                CREATE ROLE {prefix}_reader LOGIN VALID UNTIL '2999-01-01' IN ROLE pg_read_all_data;
                """);
            await Db.ExecAsync(admin, $"CREATE DATABASE {db}");
        }
        try
        {
            await using (var admin = await _db.SuperuserAsync(database: db))
            {
                await Db.ExecAsync(admin, "GRANT CREATE ON SCHEMA public TO PUBLIC");
            }
            await using var session = await _db.SessionAsync(database: db);
            var (roles, publicSchema) = await DatabaseDiagnostics.GetRoleAuditAsync(session, DateTimeOffset.UtcNow, Ct);
            var expired = roles.Single(r => r.Role == prefix + "_expired");
            Assert.Equal("Expired", expired.PasswordExpiry);
            Assert.Contains(expired.Findings, f => f.StartsWith("password expired on 2001-01-01"));
            var creator = roles.Single(r => r.Role == prefix + "_creator");
            Assert.Equal("None", creator.PasswordExpiry);
            Assert.Contains(creator.Findings, f => f.StartsWith("CREATEROLE"));
            var reader = roles.Single(r => r.Role == prefix + "_reader");
            Assert.Equal(["pg_read_all_data"], reader.PrivilegedMemberships);
            Assert.Equal("Valid", reader.PasswordExpiry);
            Assert.True(roles.Single(r => r.Role == "postgres").Superuser);
            Assert.DoesNotContain(roles, r => r.Role.StartsWith("pg_"));
            Assert.True(publicSchema.PublicCanCreate);
            Assert.Contains("REVOKE CREATE ON SCHEMA public FROM PUBLIC", publicSchema.Findings.Single());
        }
        finally
        {
            await using var admin = await _db.SuperuserAsync(database: "postgres");
            await Db.ExecAsync(admin, $"DROP DATABASE {db} WITH (FORCE)");
            await Db.ExecAsync(admin, $"DROP ROLE {prefix}_expired; DROP ROLE {prefix}_creator; DROP ROLE {prefix}_reader;");
        }
    }

    [Fact]
    public async Task Maintenance_resolves_names_safely_and_reports_sizes()
    {
        var table = Unique("maint");
        await using var app = await _db.AppAsync();
        await Db.ExecAsync(app, $"""
            CREATE TABLE {table} (id int PRIMARY KEY, v text);
            CREATE TABLE "{table} Mixed" (id int);
            INSERT INTO {table} SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g;
            DELETE FROM {table} WHERE id % 2 = 0;
            """);
        await using var session = await _db.SessionAsync();
        var plan = await DatabaseOperations.PlanMaintenanceAsync(session, [table, $"public.\"{table} Mixed\""], Ct);
        Assert.Equal([$"\"public\".\"{table}\"", $"\"public\".\"{table} Mixed\""], plan.Select(p => p.Object));
        // Nothing ran while planning.
        Assert.DoesNotContain(_db.LogLines(session.ApplicationName), l => l.Contains("VACUUM") || l.Contains("REINDEX") || l.Contains("statement: ANALYZE"));

        var results = new List<MaintenanceResult>();
        foreach (var op in new[] { MaintenanceOperation.Analyze, MaintenanceOperation.Vacuum, MaintenanceOperation.Reindex, MaintenanceOperation.VacuumFull })
        {
            results.Add(await DatabaseOperations.RunMaintenanceAsync(session, plan[0], op, analyzeToo: false, TimeSpan.FromMinutes(1), Ct));
        }
        Assert.All(results, r => Assert.Equal("Succeeded", r.Outcome));
        Assert.Equal(["ANALYZE", "VACUUM", "REINDEX CONCURRENTLY", "VACUUM FULL"], results.Select(r => r.Operation));
        Assert.True(results[^1].SizeAfterBytes < results[^1].SizeBeforeBytes, "VACUUM FULL of a half-deleted table shrinks it");
        Assert.Contains(_db.LogLines(session.ApplicationName), l => l.Contains($"REINDEX TABLE CONCURRENTLY \"public\".\"{table}\""));

        var injection = await Assert.ThrowsAsync<ArgumentException>(() => DatabaseOperations.PlanMaintenanceAsync(session, [$"{table}; DROP TABLE {table}"], Ct));
        Assert.Contains("there is no table", injection.Message);
        Assert.Equal(2500L, (long)(await new NpgsqlCommand($"SELECT count(*) FROM {table}", app).ExecuteScalarAsync(Ct))!);
        await Db.ExecAsync(app, $"DROP TABLE {table}; DROP TABLE \"{table} Mixed\"");
    }

    [Fact]
    public async Task Read_only_work_is_read_only_and_bounded_by_the_statement_timeout()
    {
        await using var session = await _db.SessionAsync(statementTimeout: TimeSpan.FromMilliseconds(200));
        var timeout = await Assert.ThrowsAsync<PostgresException>(() => session.ReadAsync(async c => await new NpgsqlCommand("SELECT pg_sleep(2)", c).ExecuteScalarAsync(Ct), Ct));
        Assert.Equal("57014", timeout.SqlState);
        var readOnly = await Assert.ThrowsAsync<PostgresException>(() => session.ReadAsync(async c => await new NpgsqlCommand("CREATE TABLE nope (id int)", c).ExecuteNonQueryAsync(Ct), Ct));
        Assert.Equal("25006", readOnly.SqlState); // read_only_sql_transaction
    }

    [Theory]
    [InlineData("orders", null, "orders")]
    [InlineData("Public.Orders", "public", "orders")]
    [InlineData("\"My Schema\".\"Order \"\"Items\"\"\"", "My Schema", "Order \"Items\"")]
    public void Parses_qualified_names_like_postgres(string text, string? schema, string table) =>
        Assert.Equal((schema, table), Identifier.ParseQualified(text));

    [Theory]
    [InlineData("a.b.c")]
    [InlineData("\"open")]
    [InlineData("a.")]
    [InlineData("")]
    public void Rejects_malformed_names(string text) => Assert.Throws<ArgumentException>(() => Identifier.ParseQualified(text));

    [Fact]
    public void Quotes_identifiers() => Assert.Equal("\"a\"\"b\"", Identifier.Quote("a\"b"));
}
