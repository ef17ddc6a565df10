using System.Collections;
using System.Management.Automation;

namespace OpsRunbook.PowerShell;

/// <summary>
/// Lets an -Environment of a string type take several names (<c>-Environment (Get-RunbookEnvironment).Name</c>,
/// <c>-Environment prod-eu, prod-us</c>): an array arrives as one value, the names joined by
/// <see cref="Separator"/> (a line break, which no environment name holds), for the cmdlet to split with <see cref="Split"/>.
/// One name passes as itself, so every other use of the parameter is unchanged.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class EnvironmentListTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>Joins the names of a list.</summary>
    public const char Separator = '\n';

    /// <summary>A list of names becomes one value; anything else is left to the parameter's own conversion.</summary>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        if (value is string or null || value is not IEnumerable list) return inputData;
        var names = new List<string>();
        foreach (var item in list)
        {
            var name = (item is PSObject p ? p.BaseObject : item)?.ToString();
            if (string.IsNullOrWhiteSpace(name)) continue;
            if (name.Contains(Separator, StringComparison.Ordinal)) throw new ArgumentTransformationMetadataException($"'{name}' is not an environment name: names hold no line breaks.");
            names.Add(name);
        }
        if (names.Count == 0) throw new ArgumentTransformationMetadataException("the list of environments is empty: give one or more names from runbook.json (Get-RunbookEnvironment lists them).");
        return string.Join(Separator, names);
    }

    /// <summary>The names in a value this attribute made (one name: itself).</summary>
    public static IReadOnlyList<string> Split(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(Separator, StringSplitOptions.RemoveEmptyEntries);
}
