using System.Management.Automation;
using OpsRunbook.Engine.Logs;
using OpsRunbook.Engine.Metrics;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Counts log records per time window as metric samples (records by level, and the error rate), for Test-MetricThreshold and reports.</summary>
/// <remarks>
/// Each window (aligned to the clock: a 1m window starts on the minute) gives a `log_records` sample per group (by
/// level unless -GroupBy says otherwise; a group with no records in a window is 0 there, so a quiet minute shows) and,
/// grouped by level, an `error_rate_percent` sample: ERROR and FATAL records over all records. That is the name the
/// runbooks' thresholds use (warning above 1%, critical above 5%), so `Measure-LogRecord | Test-MetricThreshold`
/// answers "is the error rate above the runbook's threshold?" minute by minute, and Export-RunbookReport takes the
/// samples as they are. Input: LogRecords (ConvertFrom-LogLine), piped strings, or -Path files (gzip too). Records
/// without a time fit no window; -Verbose says how many there were.
/// </remarks>
/// <example>
/// <code>Get-Content ./logs/app.log | Measure-LogRecord -Window 5m | Where-Object Name -eq error_rate_percent</code>
/// <para>The error rate of each 5-minute window.</para>
/// </example>
/// <example>
/// <code>Measure-LogRecord -Path ./logs/app.log -Window 1m | Test-MetricThreshold -Environment production</code>
/// <para>Each minute's error rate against the production runbook's thresholds.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Measure, "LogRecord", DefaultParameterSetName = "Pipeline")]
[OutputType(typeof(MetricSample))]
public sealed class MeasureLogRecordCommand : LogCmdlet
{
    private LogMeasure? _measure;
    private readonly List<string> _sources = [];

    /// <summary>LogRecords or log lines from the pipeline (ConvertFrom-LogLine, Get-Content, docker compose logs).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Pipeline")]
    [AllowEmptyString]
    public object? InputObject { get; set; }

    /// <summary>Log files to read (wildcards; .gz files decompressed).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path")]
    [SupportsWildcards]
    public string[]? Path { get; set; }

    /// <summary>The window each sample counts (default 1m; at least 1s).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>What the counts are split by: Level (default, and the only one with an error rate), Service, Instance, Client, Route or Field:&lt;name&gt;.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.LogGroupingCompleter))]
    public string GroupBy { get; set; } = "Level";

    /// <summary>The environment the samples belong to (a label for reports and thresholds).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.EnvironmentNameCompleter))]
    public string? Environment { get; set; }

    /// <summary>Checks the window and the grouping.</summary>
    protected override void BeginProcessing()
    {
        try
        {
            _measure = new LogMeasure(Window, LogGrouping.Parse(GroupBy));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            var message = ex.Message.Split(" (Parameter")[0];
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(message, ex), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, GroupBy));
        }
    }

    /// <summary>Counts each record.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Path")
        {
            foreach (var file in ResolveFiles(Path ?? []))
            {
                using var reader = LogReader.OpenFile(file);
                foreach (var record in LogReader.Read(LogReader.Lines(reader), Format, file, Secrets.Redactor.ScrubKnown))
                {
                    if (Cancellation.IsCancellationRequested) return;
                    _measure!.Add(record);
                }
                _sources.Add(file);
            }
            return;
        }
        foreach (var record in Piped(InputObject)) _measure!.Add(record);
    }

    /// <summary>Writes the samples, window by window.</summary>
    protected override void EndProcessing()
    {
        foreach (var record in FlushPiped()) _measure!.Add(record);
        if (_measure!.Untimed > 0) WriteVerbose($"{_measure.Untimed:N0} records had no time and fit no window.");
        var source = _sources.Count switch { 0 => null, 1 => _sources[0], _ => $"{_sources.Count} files" };
        foreach (var sample in _measure.Samples(source, Environment)) WriteObject(sample);
    }
}
