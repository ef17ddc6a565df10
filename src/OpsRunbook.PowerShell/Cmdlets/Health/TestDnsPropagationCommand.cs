using System.Management.Automation;
using OpsRunbook.Engine.Health;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Asks several DNS resolvers for a name and reports how many answer the expected records: the "update DNS, verify" step of a failover or region move.
/// </summary>
/// <remarks>
/// Test-DnsPropagation queries each resolver directly (no cache, TCP when an answer is truncated) for -Name and -Type
/// (A by default) and compares its answer with -Expected as a set. It returns one DnsPropagationResult: each resolver's
/// answer, how many agree, Status Healthy when all do, Degraded when some do, Unhealthy when none does; a resolver that
/// does not answer counts as disagreeing, with its error. Without -Resolver it asks the resolvers most clients end up
/// at (Cloudflare 1.1.1.1, Google 8.8.8.8, Quad9 9.9.9.9, OpenDNS 208.67.222.222). -Wait asks again every -Interval
/// until every resolver agrees or -Timeout passes, and says how many rounds and how long it took; Ctrl+C stops it.
/// </remarks>
/// <example>
/// <code>Test-DnsPropagation -Name app.paintbox.com -Expected 203.0.113.10</code>
/// <para>Whether the public resolvers already answer the new address.</para>
/// </example>
/// <example>
/// <code>Test-DnsPropagation -Name app.paintbox.com -Expected 203.0.113.10 -Resolver 1.1.1.1, 8.8.8.8 -Wait -Timeout 15m</code>
/// <para>After a failover's DNS switch: wait until both resolvers answer the new address, at most 15 minutes.</para>
/// </example>
/// <example>
/// <code>Test-DnsPropagation -Name paintbox.com -Type MX -Expected '10 mx1.paintbox.com', '20 mx2.paintbox.com' | Format-List Reason, Resolvers</code>
/// <para>Mail records, each resolver's answer listed.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "DnsPropagation")]
[OutputType(typeof(DnsPropagationResult))]
public sealed class TestDnsPropagationCommand : PSCmdlet
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>The name to ask for.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The record type: A (default), AAAA, CNAME, MX, NS, TXT or PTR.</summary>
    [Parameter]
    [ValidateSet("A", "AAAA", "CNAME", "MX", "NS", "TXT", "PTR")]
    public string Type { get; set; } = "A";

    /// <summary>The records every resolver should answer (MX as 'preference host'), compared as a set.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Expected { get; set; }

    /// <summary>Resolvers to ask: IP addresses, with :port when not 53. Default: 1.1.1.1, 8.8.8.8, 9.9.9.9, 208.67.222.222.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Resolver { get; set; }

    /// <summary>Ask again until every resolver agrees, or -Timeout passes.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: how long at most (default 10m).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>With -Wait: the pause between rounds (default 15s).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Seconds each query may take (default 5).</summary>
    [Parameter]
    [ValidateRange(0.1, 60.0)]
    public double TimeoutSec { get; set; } = 5;

    /// <summary>Asks, once or until the resolvers agree.</summary>
    protected override void EndProcessing()
    {
        var resolvers = Resolver ?? [.. DnsPropagation.PublicResolvers];
        var query = TimeSpan.FromSeconds(TimeoutSec);
        try
        {
            if (!Wait)
            {
                WriteObject(DnsPropagation.CheckAsync(Name!, Type, Expected!, resolvers, query, _cancel.Token).GetAwaiter().GetResult());
                return;
            }
            var rounds = new System.Collections.Concurrent.ConcurrentQueue<DnsPropagationResult>();
            var work = DnsPropagation.WaitAsync(Name!, Type, Expected!, resolvers, query, Timeout, Interval, new Progress(rounds), _cancel.Token);
            while (!((IAsyncResult)work).AsyncWaitHandle.WaitOne(200))
            {
                while (rounds.TryDequeue(out var round)) Report(round);
            }
            while (rounds.TryDequeue(out var round)) Report(round);
            WriteProgress(new ProgressRecord(1, "Test-DnsPropagation", "Done") { RecordType = ProgressRecordType.Completed });
            var result = work.GetAwaiter().GetResult();
            if (!result.Propagated) WriteWarning($"not propagated after {Timeout}: {result.Reason}");
            WriteObject(result);
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Name));
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Ctrl+C
        }
    }

    private void Report(DnsPropagationResult round)
    {
        WriteVerbose($"round {round.Rounds}: {round.Reason}");
        WriteProgress(new ProgressRecord(1, "Test-DnsPropagation", $"{round.Agreeing} of {round.Total} resolvers agree (round {round.Rounds})"));
    }

    /// <summary>Ctrl+C stops the queries and the wait.</summary>
    protected override void StopProcessing() => _cancel.Cancel();

    private sealed class Progress(System.Collections.Concurrent.ConcurrentQueue<DnsPropagationResult> rounds) : IProgress<DnsPropagationResult>
    {
        public void Report(DnsPropagationResult value) => rounds.Enqueue(value);
    }
}
