using System.Collections.ObjectModel;
using System.Management.Automation;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.PowerShell;

/// <summary>
/// What the log cmdlets share: files named with wildcards (a missing one is an error that names it, the others are
/// still read), and piped input read as log records, whether strings (the first 20 decide the format, every later line
/// is read in it), LogRecords, or LogRecords that crossed a process boundary (read again from their Raw line).
/// </summary>
public abstract class LogCmdlet : OpsRunbookCmdlet
{
    private readonly List<string> _held = [];
    private LogFormat? _pipedFormat;

    /// <summary>The format of the lines; Auto detects it from the first 20 lines of each file or of the piped text.</summary>
    [Parameter]
    public LogFormat Format { get; set; } = LogFormat.Auto;

    /// <summary>The files a pattern names (FileSystem paths); a pattern that names nothing is an error, not a stop.</summary>
    protected IEnumerable<string> ResolveFiles(IEnumerable<string> patterns)
    {
        foreach (var pattern in patterns)
        {
            ProviderInfo provider;
            Collection<string> paths;
            try
            {
                paths = GetResolvedProviderPathFromPSPath(pattern, out provider);
            }
            catch (ItemNotFoundException ex)
            {
                WriteError(new ErrorRecord(ex, ErrorIds.InvalidArgument, ErrorCategory.ObjectNotFound, pattern));
                continue;
            }
            if (provider.Name != "FileSystem")
            {
                WriteError(new ErrorRecord(new ArgumentException($"'{pattern}' is not a file: -Path reads log files ({provider.Name} paths have none)."), ErrorIds.InvalidArgument, ErrorCategory.InvalidArgument, pattern));
                continue;
            }
            foreach (var path in paths) yield return path;
        }
    }

    /// <summary>The records ready from one piped object (none while the first lines wait for the format to be known).</summary>
    protected IEnumerable<LogRecord> Piped(object? input)
    {
        var value = input is PSObject ps ? ps.BaseObject : input;
        switch (value)
        {
            case null:
                yield break;
            case LogRecord record:
                yield return record;
                yield break;
            case PSCustomObject when input is PSObject deserialized && deserialized.Properties["Raw"]?.Value is string raw:
                // A LogRecord from Import-Clixml, Start-Job or ConvertFrom-Json: its line is read again.
                if (raw.Length > 0) yield return LogLineParser.Parse(LogReader.Scrub(raw, Secrets.Redactor.ScrubKnown), Format);
                yield break;
            case string line when _pipedFormat is { } format:
                if (line.Length > 0) yield return LogLineParser.Parse(LogReader.Scrub(line, Secrets.Redactor.ScrubKnown), format);
                yield break;
            case string line:
                _held.Add(line);
                if (_held.Count < 20) yield break;
                foreach (var record in FlushPiped()) yield return record;
                yield break;
            default:
                foreach (var record in Piped(LanguagePrimitives.ConvertTo<string>(value))) yield return record;
                yield break;
        }
    }

    /// <summary>The held lines, read once the format is known (or at the end of the input).</summary>
    protected IEnumerable<LogRecord> FlushPiped()
    {
        if (_held.Count == 0) return [];
        _pipedFormat = Format == LogFormat.Auto ? LogLineParser.Detect(_held) : Format;
        var records = LogReader.Read(_held.ToList(), _pipedFormat.Value, null, Secrets.Redactor.ScrubKnown).ToList();
        _held.Clear();
        return records;
    }
}
