using Npgsql;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>Helpers for database tests: sessions as the application role, raw connections as it or as the superuser (socket, trust).</summary>
public sealed class Db(TestServers servers)
{
    public SecretResolver Resolver { get; } = new(environment: servers.Lookup);

    /// <summary>An operation of environment "test" with this fixture's resolver.</summary>
    public OperationContext Context() => new(Resolver, Resolver.Redactor) { Environment = "test", Cancellation = TestContext.Current.CancellationToken };

    public Task<DatabaseSession> SessionAsync(bool replica = false, string? database = null, TimeSpan? statementTimeout = null)
    {
        var url = servers[replica ? "OPSRUNBOOK_REPLICA_DATABASE_URL" : "OPSRUNBOOK_DATABASE_URL"];
        if (database is not null) url = url[..url.LastIndexOf('/')] + "/" + database;
        return DatabaseSession.OpenAsync(SecretValue.Parse(url), new DatabaseSessionOptions { StatementTimeout = statementTimeout ?? TimeSpan.FromSeconds(30) },
            replica ? "database-replica" : "database", Context());
    }

    /// <summary>
    /// A database of the test's own, owned by the application role, so whole-database work (pg_dump) does not meet
    /// other tests' tables coming and going. Returns its name; the URL is <see cref="Url"/>.
    /// </summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..12];
        await using var c = await AppAsync();
        await ExecAsync(c, $"CREATE DATABASE {name}");
        return name;
    }

    public async Task DropDatabaseAsync(string name)
    {
        await using var c = await AppAsync();
        await ExecAsync(c, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    /// <summary>The application role's URL for a database.</summary>
    public string Url(string database) => $"postgres://opsrunbook:{Uri.EscapeDataString(servers["OPSRUNBOOK_PG_PASSWORD"])}@127.0.0.1:{servers["OPSRUNBOOK_PG_PORT"]}/{database}";

    /// <summary>A connection as the application role (owner of database opsrunbook, or the given one).</summary>
    public async Task<NpgsqlConnection> AppAsync(string application = "opsrunbook-test", string database = "opsrunbook")
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = int.Parse(servers["OPSRUNBOOK_PG_PORT"]), Username = "opsrunbook", Password = servers["OPSRUNBOOK_PG_PASSWORD"],
            Database = database, ApplicationName = application, Pooling = false,
        };
        var c = new NpgsqlConnection(b.ConnectionString);
        await c.OpenAsync(TestContext.Current.CancellationToken);
        return c;
    }

    /// <summary>A superuser connection over the Unix socket (trust), for setting up roles and databases.</summary>
    public async Task<NpgsqlConnection> SuperuserAsync(string database = "opsrunbook", string application = "opsrunbook-test-admin")
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = servers["OPSRUNBOOK_PG_SOCKET"], Port = int.Parse(servers["OPSRUNBOOK_PG_PORT"]), Username = "postgres",
            Database = database, ApplicationName = application, Pooling = false,
        };
        var c = new NpgsqlConnection(b.ConnectionString);
        await c.OpenAsync(TestContext.Current.CancellationToken);
        return c;
    }

    public static async Task ExecAsync(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>The primary's statement log lines written by one application_name.</summary>
    public string[] LogLines(string application) =>
        File.ReadAllLines(Path.Combine(servers["OPSRUNBOOK_SERVERS_DIR"], "pg", "primary.log")).Where(l => l.Contains($"app={application} ", StringComparison.Ordinal)).ToArray();

    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var value = await probe();
            if (done(value) || DateTime.UtcNow > deadline) return value;
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
