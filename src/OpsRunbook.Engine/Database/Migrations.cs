using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Database;

/// <summary>The migration tools whose tables Get-DatabaseMigration reads.</summary>
public enum MigrationTool
{
    /// <summary>Alembic (SQLAlchemy): alembic_version holds the current head(s).</summary>
    Alembic,
    /// <summary>Prisma Migrate: _prisma_migrations, one row per attempt, with the script's SHA-256.</summary>
    Prisma,
    /// <summary>Knex: knex_migrations (name, batch) and knex_migrations_lock.</summary>
    Knex,
    /// <summary>Flyway: flyway_schema_history, with each script's CRC-32 and success flag.</summary>
    Flyway,
    /// <summary>golang-migrate: schema_migrations (version, dirty).</summary>
    GolangMigrate,
}

/// <summary>Where one migration stands.</summary>
public enum MigrationState
{
    /// <summary>Applied and, where the tool keeps a checksum, unchanged since.</summary>
    Applied,
    /// <summary>In the folder, not applied yet.</summary>
    Pending,
    /// <summary>Started and did not finish (Prisma, Flyway) or left the database dirty (golang-migrate).</summary>
    Failed,
    /// <summary>Marked rolled back (Prisma's migrate resolve --rolled-back): it will run again.</summary>
    RolledBack,
    /// <summary>Applied, but its script in the folder changed since (the checksum differs).</summary>
    Modified,
    /// <summary>Applied, but not in the folder: the database is ahead of this code, or on another branch.</summary>
    Unknown,
}

/// <summary>One migration, from the table, the folder or both.</summary>
public sealed record MigrationEntry(string Version, string? Name, MigrationState State, DateTimeOffset? AppliedAt = null, string? Detail = null)
{
    /// <inheritdoc />
    public override string ToString() => Name is null || Name == Version ? Version : $"{Version} {Name}";
}

/// <summary>
/// Runbook 003's alembic flow, as a pre-deploy gate: what a database's migration table says (the tool, the current
/// version, what was applied, what failed or left it dirty or locked) and, given the migrations folder, what is still
/// pending, what changed since it was applied and what the database has that the folder does not.
/// </summary>
public sealed class DatabaseMigrationStatus : DatabaseResult, IReportable
{
    /// <summary>The tool whose table this is.</summary>
    public required MigrationTool Tool { get; init; }
    /// <summary>The table, schema-qualified.</summary>
    public required string Table { get; init; }
    /// <summary>The current version: Alembic's head(s), golang-migrate's version, the last applied migration elsewhere.</summary>
    public string? Current { get; init; }
    /// <summary>Every migration known from the table and the folder, in order.</summary>
    public IReadOnlyList<MigrationEntry> Migrations { get; init; } = [];
    /// <summary>The folder compared with, if one was given.</summary>
    public string? Folder { get; init; }
    /// <summary>golang-migrate's dirty flag: the last migration failed half-way and nothing runs until it is forced.</summary>
    public bool Dirty { get; init; }
    /// <summary>Knex's lock is held: a migration is running, or one crashed and left it (knex migrate:unlock).</summary>
    public bool Locked { get; init; }
    /// <summary>With RequireCurrent: pending migrations make the status Degraded (after a deploy, all should be applied).</summary>
    public bool RequireCurrent { get; init; }

    /// <summary>How many are applied.</summary>
    public int Applied => Migrations.Count(m => m.State is MigrationState.Applied or MigrationState.Modified or MigrationState.Unknown);
    /// <summary>The migrations in the folder not applied yet.</summary>
    public IReadOnlyList<string> Pending => Names(MigrationState.Pending, MigrationState.RolledBack);
    /// <summary>The migrations that failed.</summary>
    public IReadOnlyList<string> Failed => Names(MigrationState.Failed);
    /// <summary>Applied migrations whose script changed since.</summary>
    public IReadOnlyList<string> Modified => Names(MigrationState.Modified);
    /// <summary>Applied migrations the folder does not have.</summary>
    public IReadOnlyList<string> Unknown => Names(MigrationState.Unknown);

    private List<string> Names(params MigrationState[] states) => Migrations.Where(m => states.Contains(m.State)).Select(m => m.ToString()).ToList();

    /// <summary>Unhealthy: failed, dirty or locked (the next migration cannot run); Degraded: modified or unknown migrations, or pending ones with RequireCurrent.</summary>
    public string Status => Failed.Count > 0 || Dirty || Locked ? "Unhealthy"
        : Modified.Count > 0 || Unknown.Count > 0 || (RequireCurrent && Pending.Count > 0) ? "Degraded" : "Healthy";

    /// <summary>Why, in words.</summary>
    public string Reason
    {
        get
        {
            var parts = new List<string>();
            if (Dirty) parts.Add($"dirty at version {Current}: the last migration failed half-way (fix the schema, then migrate force {Current})");
            if (Locked) parts.Add("the migration lock is held: a migration is running, or one crashed (knex migrate:unlock once none runs)");
            if (Failed.Count > 0) parts.Add($"failed: {string.Join(", ", Failed)}");
            if (Modified.Count > 0) parts.Add($"changed since applied: {string.Join(", ", Modified)}");
            if (Unknown.Count > 0) parts.Add($"applied but not in {Folder ?? "the folder"}: {string.Join(", ", Unknown)}");
            parts.Add(Pending.Count > 0 ? $"{Pending.Count} pending: {string.Join(", ", Pending.Take(10))}{(Pending.Count > 10 ? ", ..." : "")}"
                : Folder is null ? $"{Applied} applied (no folder to compare with)" : "up to date");
            return string.Join("; ", parts);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Tool} {Table}: {Status} ({Reason})";

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Status switch { "Unhealthy" => ReportOutcome.Fail, "Degraded" => ReportOutcome.Warn, _ => ReportOutcome.Pass };
        yield return new ReportRow("Database migrations", $"{Target} {Table}", outcome, Status, Environment, Reason,
            new KeyValuePair<string, string>[] { new("Tool", Tool.ToString()), new("Current", Current ?? "-"), new("Applied", Applied.ToString(CultureInfo.InvariantCulture)),
             new("Pending", Pending.Count.ToString(CultureInfo.InvariantCulture)) }, DateTimeOffset.UtcNow);
    }
}

/// <summary>
/// Reads the migration tables of alembic, Prisma, Knex, Flyway and golang-migrate (found by name in the schemas on the
/// search path, or in the schema given), read-only, and compares them with a migrations folder as each tool would:
/// Alembic's revision graph (revision / down_revision in versions/*.py), Prisma's migration folders and their
/// SHA-256, Knex's file names, Flyway's V/R scripts and their CRC-32, golang-migrate's N_title.up.sql files.
/// </summary>
public static partial class MigrationReader
{
    private static readonly Dictionary<string, MigrationTool> Tables = new(StringComparer.Ordinal)
    {
        ["alembic_version"] = MigrationTool.Alembic,
        ["_prisma_migrations"] = MigrationTool.Prisma,
        ["knex_migrations"] = MigrationTool.Knex,
        ["flyway_schema_history"] = MigrationTool.Flyway,
        ["schema_migrations"] = MigrationTool.GolangMigrate,
    };

    /// <summary>The default table of <paramref name="tool"/>.</summary>
    public static string TableOf(MigrationTool tool) => Tables.First(t => t.Value == tool).Key;

    /// <summary>
    /// The migration status of each tool's table found (or only <paramref name="tool"/>'s; <paramref name="table"/> names a
    /// table the tool was configured to use instead of its default), compared with <paramref name="folder"/> when given.
    /// </summary>
    public static Task<IReadOnlyList<DatabaseMigrationStatus>> ReadAsync(DatabaseSession session, MigrationTool? tool, string? schema, string? table, string? folder, bool requireCurrent, CancellationToken ct) =>
        session.ReadAsync<IReadOnlyList<DatabaseMigrationStatus>>(async c =>
        {
            var found = await FindTablesAsync(c, tool, schema, table, ct).ConfigureAwait(false);
            var results = new List<DatabaseMigrationStatus>();
            foreach (var (kind, qualified) in found)
            {
                var status = kind switch
                {
                    MigrationTool.Alembic => await AlembicAsync(c, qualified, folder, ct).ConfigureAwait(false),
                    MigrationTool.Prisma => await PrismaAsync(c, qualified, folder, ct).ConfigureAwait(false),
                    MigrationTool.Knex => await KnexAsync(c, qualified, folder, ct).ConfigureAwait(false),
                    MigrationTool.Flyway => await FlywayAsync(c, qualified, folder, ct).ConfigureAwait(false),
                    _ => await GolangMigrateAsync(c, qualified, folder, ct).ConfigureAwait(false),
                };
                results.Add(new DatabaseMigrationStatus
                {
                    Environment = session.Environment,
                    Target = session.Target,
                    Tool = kind,
                    Table = qualified,
                    Current = status.Current,
                    Migrations = status.Entries,
                    Folder = folder,
                    Dirty = status.Dirty,
                    Locked = status.Locked,
                    RequireCurrent = requireCurrent,
                });
            }
            return results;
        }, ct);

    private sealed record Read(string? Current, IReadOnlyList<MigrationEntry> Entries, bool Dirty = false, bool Locked = false);

    private static async Task<List<(MigrationTool Tool, string Table)>> FindTablesAsync(NpgsqlConnection c, MigrationTool? tool, string? schema, string? table, CancellationToken ct)
    {
        var names = table is not null ? [table] : Tables.Where(t => tool is null || t.Value == tool).Select(t => t.Key).ToArray();
        const string sql = """
            SELECT n.nspname, c.relname,
                   EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'dirty' AND NOT a.attisdropped)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND c.relname = ANY(@names)
              AND (CASE WHEN @schema::text IS NULL THEN n.nspname = ANY(current_schemas(false)) ELSE n.nspname = @schema END)
            ORDER BY array_position(current_schemas(false), n.nspname), n.nspname, c.relname
            """;
        await using var cmd = new NpgsqlCommand(sql, c);
        cmd.Parameters.AddWithValue("names", names);
        cmd.Parameters.Add(new NpgsqlParameter("schema", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)schema ?? DBNull.Value });
        var found = new List<(MigrationTool, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            var name = r.GetString(1);
            var kind = tool ?? Tables[name];
            // Rails and others keep a schema_migrations too; golang-migrate's has the dirty column.
            if (kind == MigrationTool.GolangMigrate && !r.GetBoolean(2)) continue;
            found.Add((kind, $"{Identifier.Quote(r.GetString(0))}.{Identifier.Quote(name)}"));
        }
        return found;
    }

    private static async Task<List<object?[]>> RowsAsync(NpgsqlConnection c, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var rows = new List<object?[]>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            var row = new object?[r.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    private static DateTimeOffset? Time(object? value) => value switch
    {
        DateTime d => new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d.ToUniversalTime()),
        DateTimeOffset o => o,
        _ => null,
    };

    // --- Alembic ----------------------------------------------------------------------------------------------

    [GeneratedRegex(@"^revision\s*(?::[^=]+)?=\s*['""]([^'""]+)['""]", RegexOptions.Multiline)]
    private static partial Regex AlembicRevision();

    [GeneratedRegex(@"^down_revision\s*(?::[^=]+)?=\s*(.+)$", RegexOptions.Multiline)]
    private static partial Regex AlembicDownRevision();

    [GeneratedRegex(@"['""]([^'""]+)['""]")]
    private static partial Regex Quoted();

    /// <summary>An alembic project's revisions: revision → its down revisions (none for the base) and its name (the file's slug), from versions/*.py.</summary>
    public static Dictionary<string, (string[] Down, string File)> AlembicRevisions(string folder)
    {
        var versions = Directory.Exists(Path.Combine(folder, "versions")) ? Path.Combine(folder, "versions") : folder;
        var revisions = new Dictionary<string, (string[], string)>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(versions, "*.py"))
        {
            var text = File.ReadAllText(file);
            if (AlembicRevision().Match(text) is not { Success: true } rev) continue;
            var down = AlembicDownRevision().Match(text) is { Success: true } d ? Quoted().Matches(d.Groups[1].Value).Select(m => m.Groups[1].Value).ToArray() : [];
            // The file is REVISION_slug.py (alembic's default file_template): the slug names it.
            var name = Path.GetFileNameWithoutExtension(file);
            if (name.StartsWith(rev.Groups[1].Value + "_", StringComparison.Ordinal)) name = name[(rev.Groups[1].Value.Length + 1)..];
            revisions[rev.Groups[1].Value] = (down, name);
        }
        return revisions;
    }

    private static async Task<Read> AlembicAsync(NpgsqlConnection c, string table, string? folder, CancellationToken ct)
    {
        var heads = (await RowsAsync(c, $"SELECT version_num FROM {table} ORDER BY version_num", ct).ConfigureAwait(false)).Select(r => (string)r[0]!).ToList();
        var current = heads.Count == 0 ? null : string.Join(", ", heads);
        if (folder is null) return new Read(current, heads.Select(h => new MigrationEntry(h, null, MigrationState.Applied)).ToList());
        var graph = AlembicRevisions(folder);
        // Applied: every head and its ancestors; in order from the base (a revision after all it depends on).
        var applied = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(heads.Where(graph.ContainsKey));
        while (stack.Count > 0)
        {
            var rev = stack.Pop();
            if (!applied.Add(rev)) continue;
            foreach (var down in graph[rev].Down.Where(graph.ContainsKey)) stack.Push(down);
        }
        var entries = new List<MigrationEntry>();
        var placed = new HashSet<string>(StringComparer.Ordinal);
        void Place(string rev)
        {
            if (!placed.Add(rev)) return;
            foreach (var down in graph[rev].Down.Where(graph.ContainsKey).OrderBy(d => d, StringComparer.Ordinal)) Place(down);
            entries.Add(new MigrationEntry(rev, graph[rev].File, applied.Contains(rev) ? MigrationState.Applied : MigrationState.Pending));
        }
        foreach (var rev in graph.Keys.OrderBy(k => k, StringComparer.Ordinal)) Place(rev);
        entries.AddRange(heads.Where(h => !graph.ContainsKey(h)).Select(h => new MigrationEntry(h, null, MigrationState.Unknown)));
        return new Read(current, entries);
    }

    // --- Prisma -----------------------------------------------------------------------------------------------

    /// <summary>Prisma's checksum of a migration script: SHA-256 of its bytes, hex (a script saved with CRLF also matches its LF form).</summary>
    public static bool PrismaChecksumMatches(byte[] script, string checksum)
    {
        static string Hex(byte[] b) => Convert.ToHexString(SHA256.HashData(b));
        if (string.Equals(Hex(script), checksum, StringComparison.OrdinalIgnoreCase)) return true;
        var lf = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(script).Replace("\r\n", "\n", StringComparison.Ordinal));
        return string.Equals(Hex(lf), checksum, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<Read> PrismaAsync(NpgsqlConnection c, string table, string? folder, CancellationToken ct)
    {
        var rows = await RowsAsync(c, $"SELECT migration_name, checksum, started_at, finished_at, rolled_back_at, logs FROM {table} ORDER BY started_at, migration_name", ct).ConfigureAwait(false);
        var scripts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (folder is not null)
        {
            var root = Directory.Exists(Path.Combine(folder, "migrations")) ? Path.Combine(folder, "migrations") : folder;
            foreach (var dir in Directory.EnumerateDirectories(root).Where(d => File.Exists(Path.Combine(d, "migration.sql")))) scripts[Path.GetFileName(dir)] = Path.Combine(dir, "migration.sql");
        }
        var entries = new List<MigrationEntry>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        // The last attempt of each migration decides (a failed attempt that was rolled back and then applied is applied).
        foreach (var group in rows.GroupBy(r => (string)r[0]!).OrderBy(g => g.Min(r => Time(r[2]))))
        {
            var name = group.Key;
            var last = group.Last();
            var (finished, rolledBack, logs) = (Time(last[3]), Time(last[4]), last[5] as string);
            MigrationState state;
            string? detail = null;
            if (group.Any(r => r[3] is not null && r[4] is null))
            {
                var ok = group.Last(r => r[3] is not null && r[4] is null);
                state = MigrationState.Applied;
                finished = Time(ok[3]);
                if (folder is not null && !scripts.ContainsKey(name)) state = MigrationState.Unknown;
                else if (scripts.TryGetValue(name, out var path) && !PrismaChecksumMatches(File.ReadAllBytes(path), (string)ok[1]!))
                {
                    state = MigrationState.Modified;
                    detail = "migration.sql changed after it was applied (its SHA-256 differs from the table's)";
                }
            }
            else if (rolledBack is not null)
            {
                state = MigrationState.RolledBack;
                detail = $"marked rolled back at {rolledBack:u}";
            }
            else
            {
                state = MigrationState.Failed;
                detail = FirstLine(logs) ?? "started and never finished";
            }
            done.Add(name);
            entries.Add(new MigrationEntry(name, null, state, finished, detail));
        }
        entries.AddRange(scripts.Keys.Where(n => !done.Contains(n)).Order(StringComparer.Ordinal).Select(n => new MigrationEntry(n, null, MigrationState.Pending)));
        var current = entries.LastOrDefault(e => e.State is MigrationState.Applied or MigrationState.Modified or MigrationState.Unknown)?.Version;
        return new Read(current, entries);
    }

    private static string? FirstLine(string? text) =>
        text?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();

    // --- Knex -------------------------------------------------------------------------------------------------

    /// <summary>The extensions Knex loads migrations from (its loadExtensions default).</summary>
    private static readonly string[] KnexExtensions = [".co", ".coffee", ".eg", ".iced", ".js", ".cjs", ".mjs", ".litcoffee", ".ls", ".ts"];

    private static async Task<Read> KnexAsync(NpgsqlConnection c, string table, string? folder, CancellationToken ct)
    {
        var rows = await RowsAsync(c, $"SELECT name, batch, migration_time FROM {table} ORDER BY id", ct).ConfigureAwait(false);
        // The lock table is the migrations table's name with _lock (knex: `${tableName}_lock`).
        var lockTable = table.EndsWith('"') ? table[..^1] + "_lock\"" : table + "_lock";
        var locked = false;
        await using (var exists = new NpgsqlCommand("SELECT to_regclass(@name) IS NOT NULL", c))
        {
            exists.Parameters.AddWithValue("name", lockTable);
            if ((bool)(await exists.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                locked = (await RowsAsync(c, $"SELECT is_locked FROM {lockTable}", ct).ConfigureAwait(false)).Any(r => Convert.ToInt32(r[0], CultureInfo.InvariantCulture) == 1);
            }
        }
        var files = folder is null ? [] : Directory.EnumerateFiles(folder).Select(Path.GetFileName).Where(f => KnexExtensions.Contains(Path.GetExtension(f), StringComparer.Ordinal)).Select(f => f!).Order(StringComparer.Ordinal).ToList();
        var applied = rows.Select(r => (string)r[0]!).ToHashSet(StringComparer.Ordinal);
        var entries = rows.Select(r => new MigrationEntry((string)r[0]!, null,
            folder is not null && !files.Contains((string)r[0]!) ? MigrationState.Unknown : MigrationState.Applied, Time(r[2]), $"batch {r[1]}")).ToList();
        entries.AddRange(files.Where(f => !applied.Contains(f)).Select(f => new MigrationEntry(f, null, MigrationState.Pending)));
        return new Read(rows.Count == 0 ? null : (string)rows[^1][0]!, entries, Locked: locked);
    }

    // --- Flyway -----------------------------------------------------------------------------------------------

    [GeneratedRegex(@"^(?<kind>[VR])(?<version>[^_]*)__(?<description>.+)\.sql$")]
    private static partial Regex FlywayScript();

    /// <summary>
    /// Flyway's checksum of a script: CRC-32 of each line's UTF-8 bytes without its line ending (as BufferedReader.readLine
    /// splits them: \n, \r\n or \r), a byte-order mark removed from the first line, as a signed 32-bit number.
    /// </summary>
    public static int FlywayChecksum(byte[] script)
    {
        var text = Encoding.UTF8.GetString(script);
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var crc = new System.IO.Hashing.Crc32();
        foreach (var line in text.Split(["\r\n", "\n", "\r"], StringSplitOptions.None).SkipLastEmpty()) crc.Append(Encoding.UTF8.GetBytes(line));
        return unchecked((int)crc.GetCurrentHashAsUInt32());
    }

    private static IEnumerable<string> SkipLastEmpty(this string[] lines) => lines.Length > 0 && lines[^1].Length == 0 ? lines[..^1] : lines;

    /// <summary>Orders Flyway versions as Flyway does: numeric parts split on '.' or '_', compared part by part.</summary>
    public static int CompareFlywayVersions(string a, string b)
    {
        var x = a.Split('.', '_');
        var y = b.Split('.', '_');
        for (var i = 0; i < Math.Max(x.Length, y.Length); i++)
        {
            var p = i < x.Length && System.Numerics.BigInteger.TryParse(x[i], CultureInfo.InvariantCulture, out var px) ? px : System.Numerics.BigInteger.Zero;
            var q = i < y.Length && System.Numerics.BigInteger.TryParse(y[i], CultureInfo.InvariantCulture, out var qy) ? qy : System.Numerics.BigInteger.Zero;
            if (p != q) return p.CompareTo(q);
        }
        return 0;
    }

    private static async Task<Read> FlywayAsync(NpgsqlConnection c, string table, string? folder, CancellationToken ct)
    {
        var rows = await RowsAsync(c, $"SELECT version, description, type, script, checksum, installed_on, success FROM {table} ORDER BY installed_rank", ct).ConfigureAwait(false);
        var scripts = new Dictionary<string, (string Kind, string? Version, string Description, int Checksum)>(StringComparer.Ordinal);
        if (folder is not null)
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.sql", SearchOption.AllDirectories))
            {
                if (FlywayScript().Match(Path.GetFileName(file)) is not { Success: true } m) continue;
                var version = m.Groups["kind"].Value == "V" ? m.Groups["version"].Value : null;
                scripts[Path.GetFileName(file)] = (m.Groups["kind"].Value, version, m.Groups["description"].Value.Replace('_', ' '), FlywayChecksum(File.ReadAllBytes(file)));
            }
        }
        var entries = new List<MigrationEntry>();
        string? current = null;
        string? baseline = null;
        var appliedVersions = new HashSet<string>(StringComparer.Ordinal);
        var latestRepeatable = new Dictionary<string, int?>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            var (version, description, type, script, checksum, installedOn, success) = (r[0] as string, (string)r[1]!, (string)r[2]!, (string)r[3]!, r[4] as int?, Time(r[5]), (bool)r[6]!);
            if (type is "SCHEMA" or "DELETE") continue;
            if (type == "BASELINE")
            {
                baseline = version;
                current = version;
                entries.Add(new MigrationEntry(version ?? "", description, MigrationState.Applied, installedOn, "baseline"));
                continue;
            }
            var known = scripts.TryGetValue(script, out var file);
            MigrationState state;
            string? detail = null;
            if (!success)
            {
                state = MigrationState.Failed;
                detail = "success = false: repair the schema, then flyway repair";
            }
            else if (folder is not null && !known && type != "JDBC")
            {
                state = MigrationState.Unknown;
            }
            else if (known && checksum is { } sum && sum != file.Checksum && version is not null)
            {
                state = MigrationState.Modified;
                detail = $"checksum {sum} in the table, {file.Checksum} for the script now";
            }
            else
            {
                state = MigrationState.Applied;
            }
            if (version is null)
            {
                latestRepeatable[description] = checksum;
                entries.RemoveAll(e => e.Version == "R" && e.Name == description);
                entries.Add(new MigrationEntry("R", description, state == MigrationState.Modified ? MigrationState.Applied : state, installedOn, detail));
                continue;
            }
            if (success) { appliedVersions.Add(version); current = version; }
            entries.Add(new MigrationEntry(version, description, state, installedOn, detail));
        }
        // Versioned scripts in version order, then repeatables (Flyway runs those after every versioned one).
        foreach (var (name, s) in scripts.OrderBy(s => s.Value.Version is null).ThenBy(s => s.Value.Version ?? "", Comparer<string>.Create(CompareFlywayVersions)).ThenBy(s => s.Key, StringComparer.Ordinal))
        {
            if (s.Version is { } v)
            {
                if (appliedVersions.Contains(v) || entries.Any(e => e.Version == v) || (baseline is not null && CompareFlywayVersions(v, baseline) <= 0)) continue;
                entries.Add(new MigrationEntry(v, s.Description, MigrationState.Pending, null, current is not null && CompareFlywayVersions(v, current) < 0 ? "older than the current version: Flyway ignores it unless outOfOrder" : null));
            }
            else if (!latestRepeatable.TryGetValue(s.Description, out var sum) || sum != s.Checksum)
            {
                // A repeatable script runs again whenever its checksum changes.
                entries.RemoveAll(e => e.Version == "R" && e.Name == s.Description);
                entries.Add(new MigrationEntry("R", s.Description, MigrationState.Pending, null, latestRepeatable.ContainsKey(s.Description) ? "changed: runs again" : null));
            }
        }
        return new Read(current, entries);
    }

    // --- golang-migrate ---------------------------------------------------------------------------------------

    [GeneratedRegex(@"^(?<version>\d+)_(?<title>.*)\.up(\.[^.]+)?$")]
    private static partial Regex GolangMigrateFile();

    private static async Task<Read> GolangMigrateAsync(NpgsqlConnection c, string table, string? folder, CancellationToken ct)
    {
        var row = (await RowsAsync(c, $"SELECT version, dirty FROM {table} LIMIT 1", ct).ConfigureAwait(false)).FirstOrDefault();
        var version = row is null ? (long?)null : Convert.ToInt64(row[0], CultureInfo.InvariantCulture);
        var dirty = row is not null && (bool)row[1]!;
        var files = new SortedDictionary<long, string>();
        if (folder is not null)
        {
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                if (GolangMigrateFile().Match(Path.GetFileName(file)) is { Success: true } m && long.TryParse(m.Groups["version"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) files[v] = m.Groups["title"].Value;
            }
        }
        var entries = new List<MigrationEntry>();
        foreach (var (v, title) in files)
        {
            var state = version is null || v > version ? MigrationState.Pending : v == version && dirty ? MigrationState.Failed : MigrationState.Applied;
            entries.Add(new MigrationEntry(v.ToString(CultureInfo.InvariantCulture), title, state, null, state == MigrationState.Failed ? "dirty: it failed half-way" : null));
        }
        if (version is { } current && !files.ContainsKey(current))
        {
            entries.Add(new MigrationEntry(current.ToString(CultureInfo.InvariantCulture), null, folder is null ? (dirty ? MigrationState.Failed : MigrationState.Applied) : MigrationState.Unknown));
        }
        return new Read(version?.ToString(CultureInfo.InvariantCulture), entries, Dirty: dirty);
    }
}
