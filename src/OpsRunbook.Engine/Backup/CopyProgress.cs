using Npgsql;

namespace OpsRunbook.Engine.Backup;

/// <summary>
/// How many rows pg_dump or pg_restore has copied so far, read from the server's own pg_stat_progress_copy
/// (PostgreSQL 14+) for the backends whose application_name is this run's. Every COPY the program runs, one table after
/// another or several at once (pg_restore --jobs), is counted: finished ones at their last count, running ones as they
/// go. On a server without the view, or without the right to read other sessions' progress, it reports nothing.
/// </summary>
internal static class CopyProgress
{
    /// <summary>Polls every <paramref name="interval"/> until cancelled, reporting the rows copied so far.</summary>
    public static async Task RunAsync(NpgsqlConnectionStringBuilder server, string applicationName, Action<long> rows, Action<string> debug, TimeSpan interval, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Pooling = false, ApplicationName = "OpsRunbook progress", CommandTimeout = 10 };
        var finished = 0L;
        var running = new Dictionary<(int Pid, long Relid), long>();
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var query = new NpgsqlCommand(
                "SELECT p.pid, p.relid::oid::bigint, p.tuples_processed FROM pg_stat_progress_copy p JOIN pg_stat_activity a ON a.pid = p.pid WHERE a.application_name = $1",
                connection) { Parameters = { new() { Value = applicationName } } };
            while (!ct.IsCancellationRequested)
            {
                var now = new Dictionary<(int, long), long>();
                await using (var r = await query.ExecuteReaderAsync(ct).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(ct).ConfigureAwait(false)) now[(r.GetInt32(0), r.GetInt64(1))] = r.GetInt64(2);
                }
                // A COPY that is no longer running has finished: its rows stay counted at the last number seen.
                foreach (var (copy, count) in running) if (!now.ContainsKey(copy)) finished += count;
                running = now;
                rows(finished + running.Values.Sum());
                await Task.Delay(interval, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            debug($"row progress unavailable: {e.Message}");
        }
    }
}
