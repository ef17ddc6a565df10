using System.Globalization;

namespace OpsRunbook.Engine.Common;

/// <summary>
/// Ids of records written once and never changed (incident events, maintenance changes): the UTC time to the
/// millisecond, then 8 random hex digits, so they sort by time and two writers never collide.
/// </summary>
public static class SortableId
{
    /// <summary>A new id that sorts by <paramref name="time"/>: yyyyMMddTHHmmss.fffZ-random.</summary>
    public static string New(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff'Z'", CultureInfo.InvariantCulture) + "-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
}
