using System.Globalization;

namespace OpsRunbook.Engine.Common;

/// <summary>Durations as people write them in runbooks: <c>500ms</c>, <c>5s</c>, <c>10m</c>, <c>4h</c>, <c>30d</c>, or a bare number of seconds.</summary>
public static class Duration
{
    /// <summary>Parses a duration; <paramref name="error"/> says what is accepted when it fails.</summary>
    public static bool TryParse(string? text, out TimeSpan value, out string? error)
    {
        value = default;
        error = null;
        var s = text?.Trim() ?? "";
        (string unit, double factorMs)[] units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)];
        foreach (var (unit, factor) in units)
        {
            if (s.EndsWith(unit, StringComparison.OrdinalIgnoreCase) && !(unit == "s" && s.EndsWith("ms", StringComparison.OrdinalIgnoreCase)))
            {
                var number = s[..^unit.Length];
                if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && !double.IsInfinity(n))
                {
                    value = TimeSpan.FromMilliseconds(n * factor);
                    return true;
                }
                break;
            }
        }
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 && !double.IsInfinity(seconds))
        {
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        error = $"'{text}' is not a duration; write a number with ms, s, m, h or d (for example 500ms, 5s, 10m)";
        return false;
    }

    /// <summary>
    /// Like <see cref="TryParse"/> but only with a unit (<c>500ms</c>, <c>5s</c>, <c>10m</c>, <c>4h</c>, <c>30d</c>): what a
    /// person types at a prompt, where a bare number could mean any unit.
    /// </summary>
    public static bool TryParseWithUnit(string? text, out TimeSpan value)
    {
        var s = text?.Trim() ?? "";
        value = default;
        return s.Length > 0 && char.IsLetter(s[^1]) && TryParse(s, out value, out _);
    }

    /// <summary>Short form for messages: <c>5s</c>, <c>250ms</c>, <c>2m</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value.TotalSeconds < 1) return ((int)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        if (value.TotalMinutes < 1) return value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        if (value.TotalHours < 1) return value.TotalMinutes.ToString("0.##", CultureInfo.InvariantCulture) + "m";
        if (value.TotalDays < 1 || value.Ticks % TimeSpan.TicksPerDay != 0) return value.TotalHours.ToString("0.##", CultureInfo.InvariantCulture) + "h";
        return value.TotalDays.ToString("0", CultureInfo.InvariantCulture) + "d";
    }
}
