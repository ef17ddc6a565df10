using System.Management.Automation;
using OpsRunbook.Engine.Environments;

namespace OpsRunbook.PowerShell;

/// <summary>Lets duration parameters take what runbooks say: 10m, 15s, 500ms, 4h, a number of seconds, or a TimeSpan.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>Converts the argument to a TimeSpan, or says which forms are accepted.</summary>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            case TimeSpan t:
                return t;
            case int or long or double or float or decimal:
                return TimeSpan.FromSeconds(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
            case string s when Duration.TryParse(s, out var d, out _):
                return d;
            case string s when TimeSpan.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var t):
                return t;
            default:
                throw new ArgumentTransformationMetadataException($"'{value}' is not a duration; write for example 500ms, 15s, 10m, 4h or a TimeSpan");
        }
    }
}
