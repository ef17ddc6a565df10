using System.Runtime.CompilerServices;
using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.Engine.Deploy;

/// <summary>What reading logs through a platform's CLI (docker compose logs, kubectl logs) shares.</summary>
internal static class CliLogs
{
    /// <summary>
    /// The records of a log command, as its lines come: a follow ends at -Until by stopping the command; records at or
    /// after -Until and those <paramref name="keep"/> refuses are left out; without a follow, -Tail keeps the last N by
    /// time (the CLIs' own --tail counts per container).
    /// </summary>
    public static async IAsyncEnumerable<LogRecord> ReadAsync(string tool, IReadOnlyList<string> args, DeploymentLogRequest request, Func<string, LogRecord> parse,
        Func<LogRecord, bool> keep, Func<int, string, Exception> failure, Func<Exception> missing, [EnumeratorCancellation] CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (request.Follow && request.Until is { } end) stop.CancelAfter(end - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
        var kept = new List<LogRecord>();
        await using var lines = CliProcess.LinesAsync(tool, args, failure, stop.Token).GetAsyncEnumerator(stop.Token);
        while (true)
        {
            LogRecord record;
            try
            {
                if (!await lines.MoveNextAsync().ConfigureAwait(false)) break;
                if (lines.Current.Length == 0) continue;
                record = parse(lines.Current);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // -Until reached while following.
                break;
            }
            catch (FileNotFoundException)
            {
                throw missing();
            }
            if (!keep(record) || (request.Until is { } until && record.Timestamp is { } at && at >= until)) continue;
            if (request.Follow || request.Tail == 0) yield return record;
            else kept.Add(record);
        }
        foreach (var record in kept.OrderBy(r => r.Timestamp ?? DateTimeOffset.MinValue).TakeLast(request.Tail)) yield return record;
    }
}
