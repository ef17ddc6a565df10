using System.Management.Automation;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Reads log lines (strings from the pipeline, or files, gzip too) into LogRecords: time, level, message, service, fields.</summary>
/// <remarks>
/// The format is detected from the first lines of each file (or of the piped text) unless -Format says it: JSON lines,
/// logfmt, the NGINX/Apache combined access log, `docker compose logs --timestamps`, `kubectl logs --timestamps`
/// (with --prefix too), or plain text with a leading time and level; under Compose's and kubectl's prefixes the
/// application's own JSON or logfmt is read too. Lines stream through one at a time, so a large file uses little
/// memory. Secrets a line carries (a password in a connection string, a bearer token, an Authorization header,
/// password= or secret= pairs, and any value this session resolved) are masked in the message, the fields and the raw
/// line. A line that fits no format is a Plain record, never an error.
/// </remarks>
/// <example>
/// <code>'{"level":"error","msg":"db timeout","took_ms":5012}', 'at=info method=GET path=/ status=200' | ConvertFrom-LogLine</code>
/// <para>One JSON and one logfmt line, each read in its own format.</para>
/// </example>
/// <example>
/// <code>'2024-03-12 10:15:30,123 ERROR connect to postgres://app:hunter2@db:5432/app failed' | ConvertFrom-LogLine | Select-Object Level, Message</code>
/// <para>A plain line: its level and message, the password masked.</para>
/// </example>
[Cmdlet(VerbsData.ConvertFrom, "LogLine", DefaultParameterSetName = "Text")]
[OutputType(typeof(LogRecord))]
public sealed class ConvertFromLogLineCommand : LogCmdlet
{
    /// <summary>Log lines, from the pipeline (Get-Content, docker compose logs, kubectl logs…).</summary>
    [Parameter(ValueFromPipeline = true, ParameterSetName = "Text", Position = 0)]
    [AllowEmptyString]
    public string[]? InputObject { get; set; }

    /// <summary>Log files to read (wildcards; .gz files decompressed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Path")]
    [SupportsWildcards]
    public string[]? Path { get; set; }

    /// <summary>Reads piped lines (the first ones are held until the format is known) or the files.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Path")
        {
            foreach (var file in ResolveFiles(Path ?? []))
            {
                using var reader = LogReader.OpenFile(file);
                foreach (var record in LogReader.Read(LogReader.Lines(reader), Format, file, Secrets.Redactor.ScrubKnown)) WriteObject(record);
            }
            return;
        }
        foreach (var line in InputObject ?? [])
        {
            foreach (var record in Piped(line)) WriteObject(record);
        }
    }

    /// <summary>Reads what is left of the piped text.</summary>
    protected override void EndProcessing()
    {
        foreach (var record in FlushPiped()) WriteObject(record);
    }
}
