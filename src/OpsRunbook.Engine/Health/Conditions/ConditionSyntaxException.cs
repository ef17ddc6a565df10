namespace OpsRunbook.Engine.Health.Conditions;

/// <summary>A condition that cannot be parsed. <see cref="Column"/> is 1-based; the message shows the condition with a caret under it.</summary>
public sealed class ConditionSyntaxException : FormatException
{
    /// <summary>Creates the error for <paramref name="condition"/> at 0-based <paramref name="index"/>.</summary>
    public ConditionSyntaxException(string condition, int index, string problem)
        : base($"condition '{condition}' column {index + 1}: {problem}{Environment.NewLine}    {condition}{Environment.NewLine}    {new string(' ', Math.Max(0, index))}^")
    {
        Condition = condition;
        Column = index + 1;
        Problem = problem;
    }

    /// <summary>The condition text.</summary>
    public string Condition { get; }
    /// <summary>1-based column where parsing stopped.</summary>
    public int Column { get; }
    /// <summary>What is wrong, without the position.</summary>
    public string Problem { get; }
}
