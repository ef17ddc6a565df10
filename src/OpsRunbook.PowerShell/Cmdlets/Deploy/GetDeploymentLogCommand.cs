using System.Collections.Concurrent;
using System.Management.Automation;
using OpsRunbook.Engine.Deploy;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Reads an environment's application logs from its platform (Fly.io, Railway, Docker Compose, Kubernetes) as LogRecords: time, level, message, service, instance, region, fields.</summary>
/// <remarks>
/// The runbooks' `fly logs`, `railway logs --since 1h`, `docker compose logs --since=24h`, as objects. Fly.io is read
/// through the HTTP polling API flyctl uses (paged by next_token; Fly keeps a short buffer, and a -Since older than its
/// oldest record gets a warning saying the window is not complete); Railway through the GraphQL queries the Railway CLI
/// sends (deploymentLogs of the newest successful deployment, the CLI's 500 lines unless -Tail says; -Http reads
/// httpLogs instead: method, path, status and totalDuration, for the slow-request question); Docker Compose through
/// `docker compose logs --timestamps --no-color` (an argument list, no shell; every service unless -Service names one);
/// Kubernetes through `kubectl logs -l &lt;the deployment's selector&gt; --all-containers --timestamps --prefix` (every pod
/// and container, with the context and namespace of runbook.json; -Instance names a pod, -Service a container). Each line is read again for the application's own level and fields (JSON lines, logfmt). -Follow keeps reading new
/// records until Ctrl+C or -Until. Secrets in lines are masked. Pipe the records into Get-LogPattern (errors by type),
/// Measure-LogRecord (error rate) or Where-Object.
/// </remarks>
/// <example>
/// <code>Get-DeploymentLog production -Since 1h -Level ERROR</code>
/// <para>The last hour's errors (runbook 003's `flyctl logs | grep ERROR`).</para>
/// </example>
/// <example>
/// <code>Get-DeploymentLog production -Since 1h | Get-LogPattern -Preset Error</code>
/// <para>The last hour's errors by type.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DeploymentLog")]
[OutputType(typeof(LogRecord))]
public sealed class GetDeploymentLogCommand : DeployCmdlet
{
    /// <summary>Only records at or after this time: a date or how long ago (15m, 1h, 24h).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTimeOffset? Since { get; set; }

    /// <summary>Only records before this time; with -Follow, when to stop following.</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTimeOffset? Until { get; set; }

    /// <summary>Only the last N records (not with -Follow).</summary>
    [Parameter]
    [ValidateRange(1, 1_000_000)]
    public int Tail { get; set; }

    /// <summary>Only records at these levels (ERROR, WARN, INFO…; any spelling the parser reads).</summary>
    [Parameter]
    public string[]? Level { get; set; }

    /// <summary>Only lines this regular expression matches (case-insensitive).</summary>
    [Parameter]
    public string? Filter { get; set; }

    /// <summary>One service (Docker Compose) or container (Kubernetes); default: all of them.</summary>
    [Parameter]
    public string? Service { get; set; }

    /// <summary>One instance: a Fly machine id, a Compose container (web-1) or a Kubernetes pod.</summary>
    [Parameter]
    public string? Instance { get; set; }

    /// <summary>One region (Fly.io).</summary>
    [Parameter]
    public string? Region { get; set; }

    /// <summary>Railway: the request logs (method, path, status, totalDuration) instead of the application's output.</summary>
    [Parameter]
    public SwitchParameter Http { get; set; }

    /// <summary>Keep reading new records until Ctrl+C or -Until.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>Reads the logs and writes each record as it arrives.</summary>
    protected override void ProcessRecord()
    {
        if (Follow && Tail > 0)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Tail keeps the last records of a finished read; with -Follow use -Since instead."), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Tail));
        }
        LogQuery query = new();
        try
        {
            query = new LogQuery { Levels = LogArguments.Levels(Level), Filter = LogArguments.Filter(Filter) };
        }
        catch (ArgumentException ex)
        {
            ThrowTerminatingError(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, Filter));
        }
        var env = Env();
        var provider = Provider(env);
        try
        {
            if (provider is not IDeploymentLogSource source)
            {
                ThrowTerminatingError(new ErrorRecord(new NotSupportedException($"environment '{env.Name}' deploys with {provider.Name}, which has no log reader: pipe its CLI's log lines into ConvertFrom-LogLine."),
                    ErrorIds.DeploymentNotPossible, ErrorCategory.NotImplemented, env.Name));
                return;
            }
            if (Http && provider.Name != "railway")
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"-Http reads Railway's request logs; environment '{env.Name}' deploys with {provider.Name}, whose request lines are in its application logs (Get-LogPattern -Preset SlowRequest reads their durations)."),
                    ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, env.Name));
            }
            if (Http && Follow)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("-Http reads a finished window of request logs; leave out -Follow."), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, env.Name));
            }
            var request = new DeploymentLogRequest { Since = Since, Until = Until, Tail = Tail, Follow = Follow, Service = Service, Instance = Instance, Region = Region, Http = Http };
            Stream(source, request, query, env.Name);
        }
        finally
        {
            (provider as IDisposable)?.Dispose();
        }
    }

    /// <summary>The Engine reads on another thread; records and notices are written here, on the pipeline thread, as they come.</summary>
    private void Stream(IDeploymentLogSource source, DeploymentLogRequest request, LogQuery query, string environment)
    {
        using var queue = new BlockingCollection<object>(boundedCapacity: 10_000);
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var record in source.ReadLogsAsync(request, notice => queue.Add(notice, Cancellation), Cancellation).ConfigureAwait(false)) queue.Add(record, Cancellation);
            }
            finally
            {
                queue.CompleteAdding();
            }
        });
        try
        {
            foreach (var item in queue.GetConsumingEnumerable(Cancellation))
            {
                if (item is string notice) WriteWarning(notice);
                else if (item is LogRecord record && query.Matches(record)) WriteObject(record);
            }
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
        {
            // Ctrl+C: the reader sees the same cancellation and ends; wait for it before the queue is disposed.
            try
            {
                reader.Wait(TimeSpan.FromSeconds(10));
            }
            catch (AggregateException)
            {
                // It ended by the cancellation (or failed after it): nothing more to say.
            }
            return;
        }
        try
        {
            reader.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
        {
            // Ctrl+C
        }
        catch (Exception ex) when (ErrorTable.For(ex, environment, ErrorIds.DeploymentError, environment, Secrets.Redactor) is { } error)
        {
            ThrowTerminatingError(error);
        }
    }
}
