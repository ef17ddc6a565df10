using System.Management.Automation;
using OpsRunbook.Engine.Database;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Reads a database's schema-migration table (alembic, Prisma, Knex, Flyway, golang-migrate): current version, applied, failed, dirty or locked, and what a migrations folder still has pending.
/// </summary>
/// <remarks>
/// Get-DatabaseMigration is runbook 003's alembic flow turned into a pre-deploy gate, for the common migration tools.
/// It finds their tables in the schemas on the search path (or -Schema): alembic_version, _prisma_migrations,
/// knex_migrations (and its _lock), flyway_schema_history, and golang-migrate's schema_migrations (the one with a
/// dirty column; Rails' is left alone); -Tool keeps to one, -Table names a table a tool was configured to use. Each
/// becomes a DatabaseMigrationStatus: the current version, every migration with its state, and the Status: Unhealthy
/// when a migration failed (Prisma, Flyway), the database is dirty (golang-migrate) or Knex's lock is held — the next
/// migration cannot run — and Degraded when an applied script changed since (Prisma's SHA-256, Flyway's CRC-32) or
/// the database has migrations the folder does not (it is ahead of this code). With -Path (the alembic directory, the
/// prisma directory, the knex, Flyway or golang-migrate migrations folder) it lists what is still pending, as the tool
/// would order it (Alembic's revision graph, Flyway's versions, golang-migrate's numbers); pending migrations are
/// expected before a deploy, and with -RequireCurrent (after a deploy) they make the status Degraded. Read-only, in a
/// read-only transaction. In a report each table is a row that fails, warns or passes with the status.
/// </remarks>
/// <example>
/// <code>Get-DatabaseMigration production</code>
/// <para>Which migration tool's table the database has, its current version, and anything failed, dirty or locked.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseMigration production -Path ./alembic | Select-Object -ExpandProperty Pending</code>
/// <para>Runbook 003: which alembic revisions `alembic upgrade head` would apply.</para>
/// </example>
/// <example>
/// <code>Get-DatabaseMigration production -Path ./alembic -RequireCurrent | Export-RunbookReport -Title 'After the deploy' -Format JUnit -Path ./migrations.xml</code>
/// <para>After a deploy: every revision in the folder applied, none failed or changed, as a JUnit test for the pipeline (add -FailOn Degraded to gate on it).</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DatabaseMigration")]
[OutputType(typeof(DatabaseMigrationStatus))]
public sealed class GetDatabaseMigrationCommand : DatabaseCmdlet
{
    /// <summary>Only this tool's table.</summary>
    [Parameter]
    public MigrationTool? Tool { get; set; }

    /// <summary>The migrations folder to compare with: the alembic directory (or its versions/), the prisma directory (or prisma/migrations), or the knex, Flyway or golang-migrate folder.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Look in this schema instead of the search path's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Schema { get; set; }

    /// <summary>The table's name when the tool was configured with another (knex's tableName, Flyway's table); needs -Tool.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Table { get; set; }

    /// <summary>Pending migrations make the status Degraded (after a deploy, every migration should be applied).</summary>
    [Parameter]
    public SwitchParameter RequireCurrent { get; set; }

    /// <summary>Reads the tables.</summary>
    protected override void ProcessRecord()
    {
        if (Table is not null && Tool is null)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Table names a table of one tool: say which with -Tool (Alembic, Prisma, Knex, Flyway, GolangMigrate)."), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Table));
        }
        string? folder = null;
        if (Path is not null)
        {
            folder = GetUnresolvedProviderPathFromPSPath(Path);
            if (!Directory.Exists(folder))
            {
                ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException($"The migrations folder '{Path}' does not exist: name the alembic or prisma directory, or the folder of knex, Flyway or golang-migrate migrations."), ErrorIds.PathNotFound, ErrorCategory.ObjectNotFound, Path));
            }
        }
        var found = Run((s, ct) => MigrationReader.ReadAsync(s, Tool, Schema, Table, folder, RequireCurrent, ct));
        if (found.Count == 0)
        {
            var looked = Table ?? (Tool is { } t ? MigrationReader.TableOf(t) : "alembic_version, _prisma_migrations, knex_migrations, flyway_schema_history, schema_migrations (golang-migrate's)");
            WriteError(new ErrorRecord(new ItemNotFoundException($"No migration table in {(Schema is null ? "the schemas on the search path" : $"schema {Schema}")}: looked for {looked}. Name another schema with -Schema, or a configured table with -Tool and -Table."),
                ErrorIds.MigrationTableNotFound, ErrorCategory.ObjectNotFound, Target ?? Environment));
            return;
        }
        foreach (var status in found)
        {
            WriteVerbose(status.ToString());
            WriteObject(status);
        }
    }
}
