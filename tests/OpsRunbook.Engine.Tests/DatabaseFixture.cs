using Npgsql;
using OpsRunbook.Engine.Database;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Tests;

/// <summary>Helpers for database tests: sessions as the application role, raw connections as it or as the superuser (socket, trust).</summary>
public sealed class Db(TestServers servers)
{
    public SecretResolver Resolver { get; } = new(environment: servers.Lookup);

    public Task<DatabaseSession> SessionAsync(bool replica = false, string? database = null, TimeSpan? statementTimeout = null)
    {
        var url = servers[replica ? "OPSRUNBOOK_REPLICA_DATABASE_URL" : "OPSRUNBOOK_DATABASE_URL"];
        if (database is not null) url = url[..url.LastIndexOf('/')] + "/" + database;
        return DatabaseSession.OpenAsync(SecretValue.Parse(url), Resolver, Resolver.Redactor,
            new DatabaseSessionOptions { StatementTimeout = statementTimeout ?? TimeSpan.FromSeconds(30) }, "test", replica ? "database-replica" : "database",
            TestContext.Current.CancellationToken);
    }

    /// <summary>A connection as the application role (owner of database opsrunbook).</summary>
    public async Task<NpgsqlConnection> AppAsync(string application = "opsrunbook-test")
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = int.Parse(servers["OPSRUNBOOK_PG_PORT"]), Username = "opsrunbook", Password = servers["OPSRUNBOOK_PG_PASSWORD"],
            Database = "opsrunbook", ApplicationName = application, Pooling = false,
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
