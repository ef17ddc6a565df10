using System.Globalization;
using System.Management.Automation;

namespace OpsRunbook.PowerShell;

/// <summary>
/// Lets duration parameters take what people type: <c>500ms</c>, <c>15s</c>, <c>10m</c>, <c>4h</c>, <c>30d</c>, a TimeSpan, or
/// a TimeSpan string (<c>00:10:00</c>). What the user wrote is what counts, and a unit is never guessed.
/// </summary>
/// <remarks>
/// PowerShell reads two of those forms as number literals before a parameter sees them: <c>30s</c> is <c>[int16] 30</c>
/// (the short-integer suffix) and <c>30d</c> is <c>[decimal] 30</c>. Nothing else produces those types at a prompt, so an
/// Int16 is taken as seconds and a Decimal as days, exactly as written. Any other number (<c>30</c>, <c>30l</c>, <c>1.5</c>)
/// carries no unit and is refused with an example, so that no parameter that can delete data guesses one.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>Converts the argument to a TimeSpan, or says how to write it.</summary>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            case TimeSpan t:
                return t;
            case short seconds: // 30s
                return TimeSpan.FromSeconds(seconds);
            case decimal days: // 30d
                return TimeSpan.FromDays((double)days);
            case string s when Duration.TryParseWithUnit(s, out var d):
                return d;
            case string s when s.Contains(':') && TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var t):
                return t;
            case PSObject { BaseObject: PSCustomObject } o when o.Properties["Ticks"]?.Value is { } ticks: // a TimeSpan through ConvertTo-Json
                return TimeSpan.FromTicks(System.Convert.ToInt64(ticks, CultureInfo.InvariantCulture));
            case byte or sbyte or ushort or int or uint or long or ulong or float or double or System.Numerics.BigInteger:
                throw NoUnit(System.Convert.ToString(value, CultureInfo.InvariantCulture)!);
            case string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _):
                throw NoUnit(s.Trim());
            default:
                throw new ArgumentTransformationMetadataException(
                    $"'{value}' is not a duration: write a number with its unit, for example 500ms, 15s, 10m, 4h or 30d (or a TimeSpan such as '00:10:00').");
        }
    }

    private static ArgumentTransformationMetadataException NoUnit(string number) => new(
        $"{number} has no unit: write it with one, for example {number}s, {number}m, {number}h or {number}d (or 500ms, or a TimeSpan such as '00:10:00').");
}
