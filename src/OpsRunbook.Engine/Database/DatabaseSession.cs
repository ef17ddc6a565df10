using System.Data;
using Npgsql;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Secrets;

namespace OpsRunbook.Engine.Database;

/// <summary>How a <see cref="DatabaseSession"/> connects and how long statements may run.</summary>
public sealed class DatabaseSessionOptions
{
    /// <summary>statement_timeout for every statement (default 30 s); maintenance passes its own.</summary>
    public TimeSpan StatementTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Connect timeout (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>PEM file of the CA for verify-ca/verify-full.</summary>
    public string? CaCertificatePath { get; init; }
    /// <summary>application_name the server sees (pg_stat_activity, logs).</summary>
    public string ApplicationName { get; init; } = "OpsRunbook";
}

/// <summary>
/// One PostgreSQL server for the diagnostic and maintenance procedures. Read-only work runs inside
/// <c>BEGIN READ ONLY</c> with <c>SET LOCAL statement_timeout</c>; mutating work runs only through the explicit
/// methods the procedures call after -WhatIf/-Confirm. Npgsql stays inside the Engine.
/// </summary>
public sealed class DatabaseSession : IAsyncDisposable
{
    private readonly NpgsqlDataSource _source;
    private readonly DatabaseSessionOptions _options;

    private DatabaseSession(NpgsqlDataSource source, DatabaseSessionOptions options, string display, string? environment, string target)
    {
        _source = source;
        _options = options;
        Display = display;
        Environment = environment;
        Target = target;
    }

    /// <summary>host:port/database, for results and messages (no credentials).</summary>
    public string Display { get; }
    /// <summary>The environment the connection belongs to, if any.</summary>
    public string? Environment { get; }
    /// <summary>The target name (database, database-replica, or the display form).</summary>
    public string Target { get; }
    /// <summary>server_version_num, known after the first statement.</summary>
    public int ServerVersionNum { get; private set; }
    /// <summary>How this session connects (password included): for client programs such as pgbench, through PgProcess.</summary>
    internal NpgsqlConnectionStringBuilder Connection { get; private init; } = new();
    /// <summary>The application_name of this session's connections, unique per session, so procedures can leave its own backends alone.</summary>
    public string ApplicationName => _options.ApplicationName;

    /// <summary>Resolves the connection and prepares a pooled data source; nothing connects until the first statement.</summary>
    /// <remarks>The session is labelled with the context's environment; its cancellation applies to resolving only.</remarks>
    public static async Task<DatabaseSession> OpenAsync(SecretValue connection, DatabaseSessionOptions options, string? target, OperationContext context)
    {
        var value = await connection.ResolveAsync(context.Secrets, context.Cancellation).ConfigureAwait(false);
        var builder = PostgresConnectionString.Parse(value);
        context.Redactor.Add(builder.Password);
        var environment = context.Environment;
        // Unique per session: Stop-DatabaseQuery must recognise (and spare) this session's own backends.
        options = new DatabaseSessionOptions
        {
            StatementTimeout = options.StatementTimeout,
            ConnectTimeout = options.ConnectTimeout,
            CaCertificatePath = options.CaCertificatePath,
            ApplicationName = $"{options.ApplicationName} {Guid.NewGuid().ToString("N")[..8]}",
        };
        builder.ApplicationName = options.ApplicationName;
        builder.Timeout = Math.Max(1, (int)Math.Ceiling(options.ConnectTimeout.TotalSeconds));
        builder.CommandTimeout = 0; // statement_timeout governs; the client waits for the server's verdict
        builder.MaxPoolSize = 4;
        if (options.CaCertificatePath is not null) builder.RootCertificate = options.CaCertificatePath;
        var display = $"{builder.Host}:{builder.Port}/{builder.Database ?? builder.Username}";
        var source = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        return new DatabaseSession(source, options, display, environment, target ?? display) { Connection = builder };
    }

    /// <summary>Runs <paramref name="work"/> in a read-only transaction with the statement timeout.</summary>
    internal Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct) =>
        InTransactionAsync("BEGIN READ ONLY", _options.StatementTimeout, work, ct);

    /// <summary>Runs one mutating statement batch in its own transaction.</summary>
    internal Task<T> WriteAsync<T>(Func<NpgsqlConnection, Task<T>> work, TimeSpan timeout, CancellationToken ct) =>
        InTransactionAsync("BEGIN", timeout, work, ct);

    /// <summary>Runs a statement that cannot run in a transaction (VACUUM, REINDEX CONCURRENTLY), with a timeout.</summary>
    internal async Task<T> AutocommitAsync<T>(Func<NpgsqlConnection, Task<T>> work, TimeSpan timeout, CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct).ConfigureAwait(false);
        await ExecAsync(connection, $"SET statement_timeout = {Milliseconds(timeout)}", ct).ConfigureAwait(false);
        try
        {
            return await work(connection).ConfigureAwait(false);
        }
        finally
        {
            if (connection.State == ConnectionState.Open) await ExecAsync(connection, "RESET statement_timeout", ct).ConfigureAwait(false);
        }
    }

    private async Task<T> InTransactionAsync<T>(string begin, TimeSpan timeout, Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct).ConfigureAwait(false);
        await ExecAsync(connection, begin, ct).ConfigureAwait(false);
        try
        {
            await ExecAsync(connection, $"SET LOCAL statement_timeout = {Milliseconds(timeout)}", ct).ConfigureAwait(false);
            var result = await work(connection).ConfigureAwait(false);
            await ExecAsync(connection, "COMMIT", ct).ConfigureAwait(false);
            return result;
        }
        catch
        {
            if (connection.State == ConnectionState.Open) await ExecAsync(connection, "ROLLBACK", CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct)
    {
        var connection = await _source.OpenConnectionAsync(ct).ConfigureAwait(false);
        if (ServerVersionNum == 0)
        {
            ServerVersionNum = connection.PostgreSqlVersion.Major * 10000 + Math.Max(0, connection.PostgreSqlVersion.Minor);
        }
        return connection;
    }

    internal static async Task ExecAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static string Milliseconds(TimeSpan t) => ((long)Math.Max(1, t.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Drops the pooled connections: after the server behind them died, the next statement opens a new one.</summary>
    internal void ClearPool() => _source.Clear();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
