using System.Globalization;
using OpsRunbook.Engine.Reporting;

namespace OpsRunbook.Engine.Cleanup;

/// <summary>What happened to one thing a cleanup meant to remove.</summary>
public enum CleanupOutcome
{
    /// <summary>Removed; its bytes count as reclaimed.</summary>
    Removed,
    /// <summary>Left alone on purpose (in use, changed since it was found…), with the reason.</summary>
    Skipped,
    /// <summary>Removing it failed, with the system's reason.</summary>
    Failed,
}

/// <summary>One file, image or cache entry a cleanup dealt with.</summary>
public sealed record CleanupItem(string Name, long Length, CleanupOutcome Outcome, string? Reason);

/// <summary>
/// A cleanup's account: what was removed and how many bytes that reclaimed, what was skipped and why, what failed. In a
/// report a cleanup with failures fails, one that skipped something warns.
/// </summary>
public sealed class CleanupResult : IReportable
{
    /// <summary>What was cleaned ("Stale files", "Container storage").</summary>
    public required string Kind { get; init; }
    /// <summary>Where (the roots, the Docker host).</summary>
    public required string Target { get; init; }
    /// <summary>Each item and its outcome.</summary>
    public IReadOnlyList<CleanupItem> Items { get; init; } = [];
    /// <summary>Bytes reclaimed (as the tool that removed them counts them, where it does).</summary>
    public long ReclaimedBytes { get; init; }
    /// <summary>How many items were removed.</summary>
    public int Removed => Items.Count(i => i.Outcome == CleanupOutcome.Removed);
    /// <summary>How many were skipped.</summary>
    public int Skipped => Items.Count(i => i.Outcome == CleanupOutcome.Skipped);
    /// <summary>How many failed.</summary>
    public int Failed => Items.Count(i => i.Outcome == CleanupOutcome.Failed);
    /// <summary>When it finished.</summary>
    public DateTimeOffset CompletedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Bytes for people: 1.5 GiB, 320 MiB, 12 KiB (binary units, as the module's tables show sizes).</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = $"{Kind} in {Target}: removed {Removed}, reclaimed {FormatBytes(ReclaimedBytes)}";
        if (Skipped > 0) text += $", skipped {Skipped}";
        if (Failed > 0) text += $", failed {Failed}";
        return text;
    }

    /// <inheritdoc />
    public IEnumerable<ReportRow> ToReportRows()
    {
        var outcome = Failed > 0 ? ReportOutcome.Fail : Skipped > 0 ? ReportOutcome.Warn : ReportOutcome.Pass;
        var status = outcome switch { ReportOutcome.Fail => "Failed", ReportOutcome.Warn => "Warning", _ => "Succeeded" };
        var message = $"removed {Removed}, reclaimed {FormatBytes(ReclaimedBytes)}";
        var first = Items.FirstOrDefault(i => i.Outcome == CleanupOutcome.Failed) ?? Items.FirstOrDefault(i => i.Outcome == CleanupOutcome.Skipped);
        if (Failed > 0) message += $"; {Failed} failed";
        if (Skipped > 0) message += $"; {Skipped} skipped";
        if (first is not null) message += $" ({first.Name}: {first.Reason})";
        yield return new ReportRow("Cleanup", $"{Kind}: {Target}", outcome, status, null, message,
            new KeyValuePair<string, string>[] { new("Removed", Removed.ToString(CultureInfo.InvariantCulture)), new("Reclaimed", FormatBytes(ReclaimedBytes)),
             new("Skipped", Skipped.ToString(CultureInfo.InvariantCulture)), new("Failed", Failed.ToString(CultureInfo.InvariantCulture)) },
            CompletedAt);
    }
}
