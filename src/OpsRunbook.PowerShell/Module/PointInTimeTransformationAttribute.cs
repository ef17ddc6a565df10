using System.Globalization;
using System.Management.Automation;

namespace OpsRunbook.PowerShell;

/// <summary>
/// Lets -Since/-Until take a moment as people write it: a date (<c>Get-Date</c>, <c>'2026-11-30 10:00'</c>, ISO 8601 with
/// a zone) or a duration back from now, as <c>railway logs --since 1h</c> and <c>docker compose logs --since 24h</c> take it
/// (<c>15m</c>, <c>1h</c>, <c>7d</c>, a TimeSpan). A date without a zone is the local time, as Get-Date gives it.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PointInTimeTransformationAttribute : ArgumentTransformationAttribute
{
    private static readonly DurationTransformationAttribute Durations = new();

    /// <summary>Converts the argument to a DateTimeOffset, or says how to write it.</summary>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            case null:
                return null!;
            case DateTimeOffset d:
                return d;
            case DateTime d:
                return d.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Local)) : new DateTimeOffset(d);
            case string s when DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var d) && s.Trim().Length > 4:
                return d;
        }
        try
        {
            var ago = (TimeSpan)Durations.Transform(engineIntrinsics, inputData);
            if (ago < TimeSpan.Zero) throw new ArgumentTransformationMetadataException($"'{value}' is a negative duration: write how long ago, for example 1h.");
            return DateTimeOffset.UtcNow - ago;
        }
        catch (ArgumentTransformationMetadataException)
        {
            throw new ArgumentTransformationMetadataException(
                $"'{value}' is neither a time nor a duration: write a date (Get-Date, '2026-11-30 10:00', '2026-11-30T10:00:00Z') or how long ago, for example 15m, 1h or 7d.");
        }
    }
}
