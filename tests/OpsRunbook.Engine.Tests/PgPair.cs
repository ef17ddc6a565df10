using System.Diagnostics;
using Npgsql;

namespace OpsRunbook.Engine.Tests;

/// <summary>
/// A PostgreSQL primary + streaming replica of one test's own (tests/pg-pair.sh), for what the shared servers must never
/// see (a promotion, a killed primary, pgbench's tables): started, its settings read from pair.env, stopped on dispose.
/// </summary>
public sealed class PgPair : IAsyncDisposable
{
    private static string Script => Path.Combine(TestServers.RepoRoot, "tests", "pg-pair.sh");
    private readonly Dictionary<string, string> _settings;

    private PgPair(Dictionary<string, string> settings) => _settings = settings;

    /// <summary>postgres://drill:…@127.0.0.1:PORT/drill (the login owns database drill).</summary>
    public string PrimaryUrl => _settings["PAIR_PRIMARY_URL"];
    public string ReplicaUrl => _settings["PAIR_REPLICA_URL"];
    public int PrimaryPort => int.Parse(_settings["PAIR_PRIMARY_PORT"], System.Globalization.CultureInfo.InvariantCulture);
    public int ReplicaPort => int.Parse(_settings["PAIR_REPLICA_PORT"], System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>The pair's folder (its socket directory is sock/).</summary>
    public string Dir => _settings["PAIR_DIR"];

    public static async Task<PgPair> StartAsync()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in await File.ReadAllLinesAsync((await ScriptAsync("start")).Trim()))
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, "^export ([A-Z_]+)='(.*)'$");
            if (m.Success) settings[m.Groups[1].Value] = m.Groups[2].Value;
        }
        return new PgPair(settings);
    }

    /// <summary>pg-pair.sh VERB DIR [ARGS]: rebuild-replica, kill-primary [MODE], promote-replica, start-primary, disconnect-replica.</summary>
    public Task<string> RunAsync(string verb, params string[] args) => ScriptAsync([verb, Dir, .. args]);

    private static async Task<string> ScriptAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = await p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"pg-pair.sh {string.Join(' ', args)}: {stderr}");
        return stdout;
    }

    /// <summary>One statement's first value, on a connection of its own (no pool).</summary>
    public static async Task<T> ScalarAsync<T>(string url, string sql)
    {
        var b = Clients.Postgres.PostgresConnectionString.Parse(url);
        b.Pooling = false;
        await using var c = new NpgsqlConnection(b.ConnectionString);
        await c.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new NpgsqlCommand(sql, c);
        return (T)(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>Runs <paramref name="sql"/> as the superuser over the pair's socket, on the primary or the replica.</summary>
    public async Task AsPostgresAsync(string sql, bool replica = false, string database = "drill")
    {
        var b = new NpgsqlConnectionStringBuilder { Host = Path.Combine(Dir, "sock"), Port = replica ? ReplicaPort : PrimaryPort, Username = "postgres", Database = database, Pooling = false };
        await using var c = new NpgsqlConnection(b.ConnectionString);
        await c.OpenAsync(TestContext.Current.CancellationToken);
        await Db.ExecAsync(c, sql);
    }

    public async ValueTask DisposeAsync() => await ScriptAsync("stop", Dir);
}
