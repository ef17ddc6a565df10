using System.Management.Automation;
using OpsRunbook.Engine.Metrics;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>
/// Measures CPU, memory, load and disk use of this machine (the typed equivalent of df -h and free -h).
/// </summary>
/// <remarks>
/// Get-HostResource samples the machine it runs on — Linux (/proc), Windows (kernel32) or macOS (top, vm_stat,
/// sysctl) — and returns one HostResource: CPU % over -SampleInterval, memory in use (total minus available),
/// load averages (not on Windows) and every mounted file system with real storage and its use, as runbook 001's
/// daily health check reads them. Pipe it into Test-MetricThreshold to compare with a runbook's thresholds.
/// </remarks>
/// <example>
/// <code>Get-HostResource | Select-Object -ExpandProperty Disks</code>
/// <para>Disk use per mount, like df -h.</para>
/// </example>
/// <example>
/// <code>Get-HostResource -Environment production | Test-MetricThreshold -Profile sentia</code>
/// <para>CPU, memory and disk against runbook 004's system health metrics.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "HostResource")]
[OutputType(typeof(HostResource))]
public sealed class GetHostResourceCommand : PSCmdlet
{
    private CancellationTokenSource? _cancel;

    /// <summary>How long to measure CPU use over (default 500ms).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The environment to label the result with, so thresholds of that environment apply downstream.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Samples and writes the result.</summary>
    protected override void EndProcessing()
    {
        if (SampleInterval <= TimeSpan.Zero || SampleInterval > TimeSpan.FromMinutes(1))
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-SampleInterval must be between 1ms and 1m"), ErrorIds.InvalidDuration, ErrorCategory.InvalidArgument, SampleInterval));
        }
        _cancel = new CancellationTokenSource();
        try
        {
            WriteObject(HostResourceReader.ReadAsync(SampleInterval, Environment, _cancel.Token).GetAwaiter().GetResult());
        }
        catch (HostResourceUnavailableException ex)
        {
            ThrowTerminatingError(ErrorTable.Typed(ex, null)!);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Ctrl+C
        }
    }

    /// <summary>Ctrl+C stops sampling.</summary>
    protected override void StopProcessing() => _cancel?.Cancel();
}
