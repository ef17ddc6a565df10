using System.Management.Automation;
using OpsRunbook.Engine.Logs;

namespace OpsRunbook.PowerShell.Cmdlets;

/// <summary>Says what changed between two sets of log patterns (before and after a deployment): new templates, spikes, drops and templates gone.</summary>
/// <remarks>
/// Takes two Get-LogPattern results, -Baseline (before) and -Current (now), and compares each pattern's rate per
/// minute over each side's span (first to last record; -BaselineWindow and -CurrentWindow say it when it is known
/// better), so an hour before and ten minutes after compare fairly. New: a pattern the baseline never had. Spike: a
/// rate -Factor times higher (default 2), Drop: that many times lower, both only with at least -MinimumCount records on
/// the busier side (default 5), so one line more is not a spike. Gone: in the baseline, not now. Same ones are left out
/// unless -IncludeUnchanged. The same message mined in two runs may be generalised differently (`user alice logged in`
/// before, `user &lt;*&gt; logged in` after), so templates match where neither has a wildcard. Deserialized patterns
/// (Import-Clixml, Start-Job) are taken too, and an empty side is a side with nothing in it (no errors before the
/// deployment: everything now is New). Changes come New first, then Spike, Drop, Gone, each busiest first.
/// </remarks>
/// <example>
/// <code>$before = Get-LogPattern -Path ./logs/app.log -Preset Error -Until '2026-11-30 10:00'; $after = Get-LogPattern -Path ./logs/app.log -Preset Error -Since '2026-11-30 10:00'; Compare-LogPattern -Baseline $before -Current $after</code>
/// <para>"What changed in the errors since the 10:00 deployment?"</para>
/// </example>
[Cmdlet(VerbsData.Compare, "LogPattern")]
[OutputType(typeof(LogPatternChange))]
public sealed class CompareLogPatternCommand : OpsRunbookCmdlet
{
    private readonly List<LogPattern> _current = [];

    /// <summary>The patterns before (Get-LogPattern of the window before the change).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [AllowNull]
    [AllowEmptyCollection]
    public object[]? Baseline { get; set; }

    /// <summary>The patterns now (Get-LogPattern of the window since the change); from the pipeline too.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [AllowNull]
    [AllowEmptyCollection]
    public object[]? Current { get; set; }

    /// <summary>How many times higher (lower) a rate must be to count as a spike (drop); above 1, default 2.</summary>
    [Parameter]
    [ValidateRange(1.01, 1e6)]
    public double Factor { get; set; } = 2;

    /// <summary>Fewer records than this on the busier side is never a spike or a drop (default 5).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MinimumCount { get; set; } = 5;

    /// <summary>The baseline's length, when its records' span is not it (e.g. 1h); rates are per minute over it.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? BaselineWindow { get; set; }

    /// <summary>The current window's length, when its records' span is not it.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? CurrentWindow { get; set; }

    /// <summary>Also write the patterns whose rate did not change.</summary>
    [Parameter]
    public SwitchParameter IncludeUnchanged { get; set; }

    /// <summary>Collects the current patterns.</summary>
    protected override void ProcessRecord()
    {
        foreach (var item in Current ?? []) if (Pattern(item) is { } p) _current.Add(p);
    }

    /// <summary>Compares and writes the changes.</summary>
    protected override void EndProcessing()
    {
        var baseline = (Baseline ?? []).Select(Pattern).OfType<LogPattern>().ToList();
        var groupings = baseline.Concat(_current).Select(p => p.GroupBy).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (groupings.Count > 1) WriteWarning($"The two sides are grouped differently ({string.Join(", ", groupings)}): only equal patterns can match.");
        foreach (var change in LogPatternComparer.Compare(baseline, _current, Factor, MinimumCount, BaselineWindow, CurrentWindow))
        {
            if (change.Change != LogPatternChangeKind.Same || IncludeUnchanged) WriteObject(change);
        }
    }

    /// <summary>A time as it survives serialization: itself, a Deserialized.System.DateTimeOffset (its UtcDateTime), or text.</summary>
    private static DateTimeOffset? Time(object? value) => value switch
    {
        null => null,
        DateTimeOffset d => d,
        DateTime d => new DateTimeOffset(d.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : d),
        PSObject { BaseObject: not PSCustomObject } o => Time(o.BaseObject),
        PSObject o when o.Properties["UtcDateTime"]?.Value is { } utc => Time(utc is PSObject p ? p.BaseObject : utc) is { } t ? t.ToUniversalTime() : null,
        string s when DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t) => t,
        _ => null,
    };

    private LogPattern? Pattern(object? item)
    {
        var value = item is PSObject ps ? ps.BaseObject : item;
        if (value is LogPattern pattern) return pattern;
        if (item is PSObject o && o.Properties["Pattern"]?.Value is string text && o.Properties["Count"]?.Value is { } count)
        {
            // A LogPattern that crossed a process boundary (Import-Clixml, Start-Job, ConvertFrom-Json).
            return new LogPattern
            {
                Pattern = text,
                GroupBy = o.Properties["GroupBy"]?.Value?.ToString() ?? "Template",
                Count = LanguagePrimitives.ConvertTo<long>(count),
                FirstSeen = Time(o.Properties["FirstSeen"]?.Value),
                LastSeen = Time(o.Properties["LastSeen"]?.Value),
                Example = o.Properties["Example"]?.Value?.ToString(),
            };
        }
        if (value is null) return null;
        WriteError(new ErrorRecord(new ArgumentException($"Compare-LogPattern compares the LogPattern objects of Get-LogPattern; it got {PipedInput.Describe(PSObject.AsPSObject(item))}."), ErrorIds.UnsupportedInput, ErrorCategory.InvalidType, item));
        return null;
    }
}
