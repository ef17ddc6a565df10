using System.Collections.Concurrent;
using Npgsql;
using OpsRunbook.Engine.Backup;
using OpsRunbook.Engine.Clients.Postgres;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Tests;

/// <summary>Records what an operation reports, in order, on the reporting thread (Progress&lt;T&gt; would post it elsewhere, out of order).</summary>
public sealed class StatusRecorder : ConcurrentQueue<OperationStatus>, IProgress<OperationStatus>
{
    public void Report(OperationStatus value) => Enqueue(value);
}

/// <summary>Row progress read from the server's pg_stat_progress_copy, as pg_dump and pg_restore are watched.</summary>
public class CopyProgressTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Counts_the_rows_of_a_running_copy_by_its_application_name()
    {
        servers.Require();
        var url = new Db(servers).Url("opsrunbook");
        var builder = PostgresConnectionString.Parse(url);
        var app = "copy-progress-" + Guid.NewGuid().ToString("N")[..8];
        var copying = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { ApplicationName = app, Pooling = false };
        var seen = new ConcurrentQueue<long>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watching = CopyProgress.RunAsync(builder, app, seen.Enqueue, _ => { }, TimeSpan.FromMilliseconds(100), stop.Token);
        await using (var c = new NpgsqlConnection(copying.ConnectionString))
        {
            await c.OpenAsync(Ct);
            // 2,000 rows, a millisecond each: a COPY that runs for about two seconds.
            using var reader = await c.BeginTextExportAsync("COPY (SELECT g, pg_sleep(0.001) FROM generate_series(1, 2000) g) TO STDOUT", Ct);
            while (await reader.ReadLineAsync(Ct) is not null) { }
        }
        await Task.Delay(300, Ct);
        await stop.CancelAsync();
        await watching;
        var counts = seen.ToList();
        Assert.Contains(counts, n => n > 0);
        Assert.All(counts, n => Assert.InRange(n, 0, 2000));
        Assert.Equal(counts.Order(), counts); // never goes back
    }

    [Fact]
    public void Percent_is_unknown_without_a_total_and_stays_below_100_until_done()
    {
        Assert.Null(OperationStatus.PercentOf(5, 0));
        Assert.Equal(50, OperationStatus.PercentOf(50, 100));
        Assert.Equal(99, OperationStatus.PercentOf(150, 100));
    }
}
