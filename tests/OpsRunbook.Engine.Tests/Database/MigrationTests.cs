using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// Get-DatabaseMigration's reader against the real PostgreSQL: the tables the real alembic (Debian's 1.8) and the real
/// knex (3.3, npm) write when they migrate, and Prisma's, Flyway's and golang-migrate's tables made with the tools' own
/// DDL and filled as they fill them (those tools cannot run here), compared with migration folders.
/// </summary>
public sealed class MigrationTests(TestServers servers) : IAsyncLifetime
{
    private readonly Db _db = new(servers);
    private readonly string _dir = Directory.CreateTempSubdirectory("opsrunbook-migrations-").FullName;
    private string _database = "";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _database = await _db.CreateDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        await _db.DropDatabaseAsync(_database);
        Directory.Delete(_dir, recursive: true);
    }

    private async Task<IReadOnlyList<DatabaseMigrationStatus>> ReadAsync(MigrationTool? tool = null, string? folder = null, string? schema = null, string? table = null, bool requireCurrent = false)
    {
        await using var session = await _db.SessionAsync(database: _database);
        return await MigrationReader.ReadAsync(session, tool, schema, table, folder, requireCurrent, Ct);
    }

    private async Task SqlAsync(string sql)
    {
        await using var c = await _db.AppAsync(database: _database);
        await Db.ExecAsync(c, sql);
    }

    private static async Task<string> RunAsync(string file, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync(Ct);
        var stderr = p.StandardError.ReadToEndAsync(Ct);
        await p.WaitForExitAsync(Ct);
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {await stderr}{await stdout}");
        return await stdout;
    }

    [Fact]
    public async Task Alembic_heads_from_the_real_alembic_and_the_revisions_still_to_run()
    {
        if (!File.Exists("/usr/bin/python3")) { Assert.Fail("Debian's python3 with alembic is a test prerequisite (tests/servers.sh install)"); return; }
        var project = Path.Combine(_dir, "alembic-project");
        Directory.CreateDirectory(project);
        var env = new Dictionary<string, string>();
        await RunAsync("/usr/bin/python3", project, env, "-m", "alembic", "init", "alembic");
        // The URL in alembic.ini, as a project keeps it ('%' doubled for configparser).
        var ini = Path.Combine(project, "alembic.ini");
        File.WriteAllText(ini, File.ReadAllText(ini).Replace("driver://user:pass@localhost/dbname", _db.Url(_database).Replace("postgres://", "postgresql://", StringComparison.Ordinal).Replace("%", "%%", StringComparison.Ordinal), StringComparison.Ordinal));
        var revisions = new List<string>();
        foreach (var message in (string[])["create orders", "add status", "index orders"])
        {
            var output = await RunAsync("/usr/bin/python3", project, env, "-m", "alembic", "revision", "-m", message);
            revisions.Add(System.Text.RegularExpressions.Regex.Match(output, @"versions/([0-9a-f]+)_").Groups[1].Value);
        }
        await RunAsync("/usr/bin/python3", project, env, "-m", "alembic", "upgrade", revisions[1]);
        var status = Assert.Single(await ReadAsync(folder: Path.Combine(project, "alembic")));
        Assert.Equal(MigrationTool.Alembic, status.Tool);
        Assert.Equal("\"public\".\"alembic_version\"", status.Table);
        Assert.Equal(revisions[1], status.Current);
        Assert.Equal(revisions, status.Migrations.Select(m => m.Version));
        Assert.Equal(2, status.Applied);
        Assert.Equal([$"{revisions[2]} index_orders"], status.Pending);
        Assert.Equal("Healthy", status.Status);
        Assert.Equal("Degraded", Assert.Single(await ReadAsync(folder: Path.Combine(project, "alembic"), requireCurrent: true)).Status);

        // A branch off the second revision, both heads applied: two rows, nothing pending.
        var branch = await RunAsync("/usr/bin/python3", project, env, "-m", "alembic", "revision", "-m", "hotfix", "--head", revisions[1], "--splice");
        var hotfix = System.Text.RegularExpressions.Regex.Match(branch, @"versions/([0-9a-f]+)_").Groups[1].Value;
        await RunAsync("/usr/bin/python3", project, env, "-m", "alembic", "upgrade", "heads");
        status = Assert.Single(await ReadAsync(folder: Path.Combine(project, "alembic")));
        Assert.Equal(string.Join(", ", new[] { revisions[2], hotfix }.Order(StringComparer.Ordinal)), status.Current);
        Assert.Empty(status.Pending);
        Assert.Equal(4, status.Applied);

        // The database ahead of the code: a head this folder does not have.
        File.Delete(Directory.GetFiles(Path.Combine(project, "alembic", "versions"), $"{hotfix}_*.py").Single());
        status = Assert.Single(await ReadAsync(folder: Path.Combine(project, "alembic")));
        Assert.Equal([hotfix], status.Unknown);
        Assert.Equal("Degraded", status.Status);
        Assert.Contains("applied but not in", status.Reason);
    }

    [Fact]
    public async Task Knex_migrations_from_the_real_knex_pending_files_and_a_lock_left_by_a_crash()
    {
        var project = Path.Combine(_dir, "knex-project");
        var migrations = Path.Combine(project, "migrations");
        Directory.CreateDirectory(migrations);
        Directory.CreateSymbolicLink(Path.Combine(project, "node_modules"), Path.Combine(TestServers.RepoRoot, "tests", "servers", "node_modules"));
        File.WriteAllText(Path.Combine(project, "knexfile.js"), "module.exports = { client: 'pg', connection: process.env.DATABASE_URL, migrations: { directory: __dirname + '/migrations' } };\n");
        File.WriteAllText(Path.Combine(migrations, "20261101000000_create_orders.js"), "exports.up = (knex) => knex.schema.createTable('orders', (t) => { t.increments('id'); });\nexports.down = (knex) => knex.schema.dropTable('orders');\n");
        File.WriteAllText(Path.Combine(migrations, "20261102000000_add_status.js"), "exports.up = (knex) => knex.schema.alterTable('orders', (t) => { t.string('status'); });\nexports.down = (knex) => knex.schema.alterTable('orders', (t) => { t.dropColumn('status'); });\n");
        var env = new Dictionary<string, string> { ["DATABASE_URL"] = _db.Url(_database) };
        await RunAsync("node", project, env, Path.Combine("node_modules", "knex", "bin", "cli.js"), "migrate:latest");
        File.WriteAllText(Path.Combine(migrations, "20261103000000_add_total.js"), "exports.up = (knex) => knex.schema.alterTable('orders', (t) => { t.integer('total'); });\nexports.down = () => {};\n");
        var status = Assert.Single(await ReadAsync(folder: migrations));
        Assert.Equal((MigrationTool.Knex, "20261102000000_add_status.js", 2), (status.Tool, status.Current, status.Applied));
        Assert.Equal(["20261103000000_add_total.js"], status.Pending);
        Assert.Equal("batch 1", status.Migrations[0].Detail);
        Assert.False(status.Locked);
        Assert.Equal("Healthy", status.Status);
        // A migration process killed half-way leaves knex's lock taken; the next `knex migrate:latest` refuses to run.
        await SqlAsync("UPDATE knex_migrations_lock SET is_locked = 1");
        status = Assert.Single(await ReadAsync(MigrationTool.Knex, migrations));
        Assert.True(status.Locked);
        Assert.Equal("Unhealthy", status.Status);
        Assert.Contains("knex migrate:unlock", status.Reason);
    }

    [Fact]
    public async Task Prisma_applied_failed_rolled_back_and_changed_migrations_by_their_checksums()
    {
        // prisma-engines' DDL for PostgreSQL and rows as `prisma migrate deploy` writes them.
        await SqlAsync("""
            CREATE TABLE "_prisma_migrations" (
                "id" VARCHAR(36) NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL,
                "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0,
                CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id"))
            """);
        var folder = Path.Combine(_dir, "prisma", "migrations");
        string Script(string name, string sql)
        {
            Directory.CreateDirectory(Path.Combine(folder, name));
            File.WriteAllText(Path.Combine(folder, name, "migration.sql"), sql);
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql))).ToLowerInvariant();
        }
        var init = Script("20261101000000_init", "-- CreateTable\nCREATE TABLE \"Order\" (\"id\" SERIAL NOT NULL);\n");
        var status = Script("20261102000000_status", "ALTER TABLE \"Order\" ADD COLUMN \"status\" TEXT;\n");
        var total = Script("20261103000000_total", "ALTER TABLE \"Order\" ADD COLUMN \"total\" INTEGER;\n");
        Script("20261104000000_index", "CREATE INDEX ON \"Order\" (\"status\");\n");
        await SqlAsync($"""
            INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) VALUES
            ('0a', '{init}', '2026-11-01 10:00:01+00', '20261101000000_init', NULL, NULL, '2026-11-01 10:00:00+00', 1),
            ('0b', '{status}', NULL, '20261102000000_status', 'Database error code: 42701\nERROR: column "status" of relation "Order" already exists', '2026-11-02 10:05:00+00', '2026-11-02 10:00:00+00', 0),
            ('0c', '{status}', '2026-11-02 11:00:01+00', '20261102000000_status', NULL, NULL, '2026-11-02 11:00:00+00', 1),
            ('0d', '{new string('0', 64)}', '2026-11-03 10:00:01+00', '20261103000000_total', NULL, NULL, '2026-11-03 10:00:00+00', 1)
            """);
        _ = total;
        var result = Assert.Single(await ReadAsync(folder: Path.Combine(_dir, "prisma")));
        Assert.Equal(MigrationTool.Prisma, result.Tool);
        Assert.Equal(["20261101000000_init", "20261102000000_status", "20261103000000_total", "20261104000000_index"], result.Migrations.Select(m => m.Version));
        // The failed attempt of "status" was rolled back and the migration applied after: it counts as applied.
        Assert.Equal([MigrationState.Applied, MigrationState.Applied, MigrationState.Modified, MigrationState.Pending], result.Migrations.Select(m => m.State));
        Assert.Equal("20261103000000_total", result.Current);
        Assert.Equal("Degraded", result.Status);
        // A migration that failed and was not resolved blocks `prisma migrate deploy` (P3009): Unhealthy, with its log.
        await SqlAsync("INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, started_at) VALUES ('0e', 'x', NULL, '20261104000000_index', E'Database error code: 42P07\\nERROR: relation already exists', now())");
        result = Assert.Single(await ReadAsync(MigrationTool.Prisma, Path.Combine(_dir, "prisma")));
        Assert.Equal("Unhealthy", result.Status);
        Assert.Equal("Database error code: 42P07", result.Migrations.Single(m => m.State == MigrationState.Failed).Detail);
        // Prisma accepts a script saved with Windows line endings as the one it applied.
        Assert.True(MigrationReader.PrismaChecksumMatches(Encoding.UTF8.GetBytes("A;\r\nB;\r\n"), Convert.ToHexString(SHA256.HashData("A;\nB;\n"u8.ToArray()))));
    }

    [Fact]
    public async Task Flyway_history_versions_checksums_failures_repeatables_and_the_baseline()
    {
        // Flyway's PostgreSQL DDL (createMetaDataTable.sql) and rows as `flyway migrate` writes them.
        await SqlAsync("""
            CREATE TABLE "flyway_schema_history" (
                "installed_rank" INT NOT NULL, "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL, "type" VARCHAR(20) NOT NULL,
                "script" VARCHAR(1000) NOT NULL, "checksum" INT, "installed_by" VARCHAR(100) NOT NULL, "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
                "execution_time" INT NOT NULL, "success" BOOLEAN NOT NULL, CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank"));
            CREATE INDEX "flyway_schema_history_s_idx" ON "flyway_schema_history" ("success");
            """);
        var folder = Path.Combine(_dir, "sql");
        Directory.CreateDirectory(folder);
        int Script(string name, string sql)
        {
            File.WriteAllText(Path.Combine(folder, name), sql);
            return MigrationReader.FlywayChecksum(Encoding.UTF8.GetBytes(sql));
        }
        var v1 = Script("V1__create_orders.sql", "CREATE TABLE orders (id int);\n");
        Script("V1.1__add_status.sql", "ALTER TABLE orders ADD status text;\n");
        Script("V2__add_total.sql", "ALTER TABLE orders ADD total int;\n");
        Script("V10__index.sql", "CREATE INDEX ON orders (status);\n");
        var views = Script("R__views.sql", "CREATE OR REPLACE VIEW open_orders AS SELECT * FROM orders;\n");
        await SqlAsync($"""
            INSERT INTO flyway_schema_history VALUES
            (1, '1', 'create orders', 'SQL', 'V1__create_orders.sql', {v1}, 'app', '2026-11-01 10:00:00', 12, true),
            (2, '1.1', 'add status', 'SQL', 'V1.1__add_status.sql', 12345, 'app', '2026-11-02 10:00:00', 5, true),
            (3, NULL, 'views', 'SQL', 'R__views.sql', {views + 1}, 'app', '2026-11-02 10:00:01', 3, true),
            (4, '2', 'add total', 'SQL', 'V2__add_total.sql', NULL, 'app', '2026-11-03 10:00:00', 9, false)
            """);
        var result = Assert.Single(await ReadAsync(folder: folder));
        Assert.Equal(MigrationTool.Flyway, result.Tool);
        Assert.Equal("1.1", result.Current);
        Assert.Equal(["1.1 add status"], result.Modified);
        Assert.Equal(["2 add total"], result.Failed);
        // V10 sorts after V2 (numbers, not text); the repeatable changed, so it runs again.
        Assert.Equal(["10 index", "R views"], result.Pending);
        Assert.Equal("Unhealthy", result.Status);
        Assert.Contains("flyway repair", result.Migrations.Single(m => m.State == MigrationState.Failed).Detail);
        Assert.True(MigrationReader.CompareFlywayVersions("10", "2") > 0);
        Assert.True(MigrationReader.CompareFlywayVersions("1.1", "1_1") == 0);

        // A database baselined at version 2: the scripts up to it are not pending.
        await SqlAsync("DELETE FROM flyway_schema_history; INSERT INTO flyway_schema_history VALUES (1, '2', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app', now(), 0, true)");
        result = Assert.Single(await ReadAsync(MigrationTool.Flyway, folder));
        Assert.Equal("2", result.Current);
        Assert.Equal(["10 index", "R views"], result.Pending);
        Assert.Equal("Healthy", result.Status);
    }

    [Fact]
    public void Flyway_checksums_are_crc32_of_the_lines_without_their_endings()
    {
        // CRC-32's check value: "123456789" → 0xCBF43926, as a signed int; line endings and a BOM do not count.
        var expected = unchecked((int)0xCBF43926);
        Assert.Equal(expected, MigrationReader.FlywayChecksum("123456789"u8.ToArray()));
        Assert.Equal(expected, MigrationReader.FlywayChecksum("1234\n56789\n"u8.ToArray()));
        Assert.Equal(expected, MigrationReader.FlywayChecksum("1234\r\n56789"u8.ToArray()));
        Assert.Equal(expected, MigrationReader.FlywayChecksum([0xEF, 0xBB, 0xBF, .. "1234\r56789"u8.ToArray()]));
        Assert.NotEqual(expected, MigrationReader.FlywayChecksum("1234 56789"u8.ToArray()));
        Assert.Equal(0, MigrationReader.FlywayChecksum([]));
    }

    [Fact]
    public async Task Golang_migrate_dirty_version_pending_files_and_other_tools_tables_told_apart()
    {
        // golang-migrate's postgres driver DDL; the version it was migrating to when it failed, dirty.
        await SqlAsync("CREATE TABLE schema_migrations (version bigint not null primary key, dirty boolean not null); INSERT INTO schema_migrations VALUES (3, true)");
        var folder = Path.Combine(_dir, "migrate");
        Directory.CreateDirectory(folder);
        foreach (var (v, title) in new[] { (1, "create_orders"), (2, "add_status"), (3, "add_total"), (4, "index") })
        {
            File.WriteAllText(Path.Combine(folder, $"{v:D6}_{title}.up.sql"), "SELECT 1;\n");
            File.WriteAllText(Path.Combine(folder, $"{v:D6}_{title}.down.sql"), "SELECT 1;\n");
        }
        var result = Assert.Single(await ReadAsync(folder: folder));
        Assert.Equal((MigrationTool.GolangMigrate, "3", true), (result.Tool, result.Current, result.Dirty));
        Assert.Equal([MigrationState.Applied, MigrationState.Applied, MigrationState.Failed, MigrationState.Pending], result.Migrations.Select(m => m.State));
        Assert.Equal("Unhealthy", result.Status);
        Assert.Contains("migrate force 3", result.Reason);

        // A Rails schema_migrations (no dirty column) is not golang-migrate's; a custom knex table is found when named.
        await SqlAsync("""
            CREATE SCHEMA rails; CREATE TABLE rails.schema_migrations (version varchar PRIMARY KEY);
            CREATE TABLE app_migrations (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz);
            INSERT INTO app_migrations (name, batch, migration_time) VALUES ('001_init.js', 1, now());
            """);
        Assert.Empty(await ReadAsync(schema: "rails"));
        var knex = Assert.Single(await ReadAsync(MigrationTool.Knex, table: "app_migrations"));
        Assert.Equal(("\"public\".\"app_migrations\"", "001_init.js", false), (knex.Table, knex.Current, knex.Locked));
        Assert.Empty(await ReadAsync(MigrationTool.Alembic));
    }
}
