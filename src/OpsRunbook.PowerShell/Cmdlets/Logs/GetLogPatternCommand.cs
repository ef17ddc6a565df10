using System.Diagnostics;
using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Answers the runbooks' log questions (errors by type, failed logins by source, slow requests by route): groups log records by template or by a field and counts them.</summary>
/// <remarks>
/// This is `grep | cut | sort | uniq -c` that knows log formats. Records are grouped by their message's template,
/// mined as Drain does it (IPs, UUIDs, hex ids, durations and numbers masked first, then the words that vary become
/// &lt;*&gt;), or by a field (-GroupBy Field:error_type), the level, the service, the instance, the client address or
/// the route. Presets are the runbooks' own questions: Error (ERROR and FATAL, by template), FailedLogin (failed
/// sign-ins, by client address), Auth (401/403, unauthorized, forbidden, denied, blocked, failed; by template) and
/// SlowRequest (response_time, duration, latency… above -SlowerThan, by route). Each pattern carries its count, its share,
/// the first and last time seen, the levels and an example line.
///
/// With -Path the files are read in the Engine without one PowerShell object per line: a file is cut into parts read by
/// every core, and only the lines that hold one of the question's words are parsed, as grep finds them; gzip files are
/// read too. Piped input takes strings (Get-Content, docker compose logs) or the LogRecords of ConvertFrom-LogLine.
/// Secrets in lines (connection-string passwords, bearer tokens, token=/password= pairs, values this session resolved)
/// are masked before anything is counted or shown. Ctrl+C stops a long scan.
/// </remarks>
/// <example>
/// <code>Get-LogPattern -Path ./logs/app.log -Preset Error -Top 10</code>
/// <para>The ten most frequent kinds of error in a log file ("errors by type"), each with an example line.</para>
/// </example>
/// <example>
/// <code>Get-LogPattern -Path ./logs/app.jsonl -Preset FailedLogin | Where-Object Count -gt 20</code>
/// <para>Addresses with more than 20 failed sign-ins: the runbook's `grep "login.*failed" | cut | sort | uniq -c | sort -nr`.</para>
/// </example>
/// <example>
/// <code>Get-Content ./logs/app.log | Get-LogPattern -GroupBy Field:status -Since 1h</code>
/// <para>Requests of the last hour by status, from piped lines.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "LogPattern", DefaultParameterSetName = "Path")]
[OutputType(typeof(LogPattern))]
public sealed class GetLogPatternCommand : LogCmdlet
{
    private LogQuery? _query;
    private LogPatternCounter? _counter;
    private readonly List<string> _sources = [];

    /// <summary>Log files to read (wildcards; .gz files decompressed).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path")]
    [SupportsWildcards]
    public string[]? Path { get; set; }

    /// <summary>Log lines or LogRecords from the pipeline (Get-Content, ConvertFrom-LogLine).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "Pipeline")]
    [AllowEmptyString]
    public object? InputObject { get; set; }

    /// <summary>A runbook question: Error, FailedLogin, Auth or SlowRequest (None: every record).</summary>
    [Parameter]
    public LogPreset Preset { get; set; }

    /// <summary>What to group by: Template (default), Level, Service, Instance, Client, Route or Field:&lt;name&gt;.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completers.LogGroupingCompleter))]
    public string? GroupBy { get; set; }

    /// <summary>Only the N most frequent patterns (0: all of them).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Top { get; set; }

    /// <summary>Only records at these levels (ERROR, WARN, INFO, DEBUG, TRACE, FATAL; any spelling the parser reads).</summary>
    [Parameter]
    public string[]? Level { get; set; }

    /// <summary>Only lines this regular expression matches (case-insensitive), as `grep -iE` would select them.</summary>
    [Parameter]
    public string? Filter { get; set; }

    /// <summary>Only records at or after this time: a date or how long ago (15m, 1h, 7d). Records without a time are left out.</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTimeOffset? Since { get; set; }

    /// <summary>Only records before this time: a date or how long ago (15m, 1h, 7d).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTimeOffset? Until { get; set; }

    /// <summary>For -Preset SlowRequest: the duration above which a request is slow (default 1s).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan SlowerThan { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Checks the arguments once and prepares the counter.</summary>
    protected override void BeginProcessing()
    {
        LogGrouping? grouping = null;
        Regex? filter = null;
        try
        {
            if (GroupBy is not null) grouping = LogGrouping.Parse(GroupBy);
            filter = LogArguments.Filter(Filter);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(ex.Message, ex), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, GroupBy ?? Filter));
        }
        if (SlowerThan <= TimeSpan.Zero)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-SlowerThan must be above zero, for example 500ms or 2s."), ErrorIds.InvalidDuration, ErrorCategory.InvalidArgument, SlowerThan));
        }
        _query = new LogQuery
        {
            Preset = Preset,
            GroupBy = grouping,
            Levels = LogArguments.Levels(Level),
            Filter = filter,
            Since = Since,
            Until = Until,
            SlowerThan = SlowerThan,
        };
        _counter = new LogPatternCounter(_query);
    }

    /// <summary>Scans each file, or counts the piped records.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Path")
        {
            foreach (var file in ResolveFiles(Path ?? []))
            {
                var clock = Stopwatch.StartNew();
                LogPatternCounter counted;
                try
                {
                    counted = LogScanner.Count(file, Format, _query!, Secrets.Redactor.ScrubKnown, 0, Cancellation);
                }
                catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    WriteError(new ErrorRecord(new IOException($"Cannot read '{file}': {ex.Message}", ex), ErrorIds.LogReadFailed, ErrorCategory.ReadError, file));
                    continue;
                }
                WriteVerbose($"{file}: {counted.Lines:N0} lines, {counted.Matched:N0} counted, in {clock.Elapsed.TotalSeconds:N2} s.");
                _counter!.Merge(counted);
                _sources.Add(file);
            }
            return;
        }
        Count(Piped(InputObject));
    }

    private void Count(IEnumerable<LogRecord> records)
    {
        foreach (var record in records) _counter!.Read(record);
    }

    /// <summary>Writes the patterns, most frequent first.</summary>
    protected override void EndProcessing()
    {
        Count(FlushPiped());
        var source = _sources.Count switch { 0 => null, 1 => _sources[0], _ => $"{_sources.Count} files" };
        if (ParameterSetName == "Pipeline") WriteVerbose($"{_counter!.Lines:N0} records, {_counter.Matched:N0} counted.");
        foreach (var pattern in _counter!.Result(Top, Secrets.Redactor.Scrub, source)) WriteObject(pattern);
    }
}
