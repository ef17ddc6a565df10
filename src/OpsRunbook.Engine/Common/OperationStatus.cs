namespace OpsRunbook.Engine.Common;

/// <summary>
/// What a long operation (a backup, a restore, a restore check, a bucket copy) is doing now. A new <see cref="Phase"/>
/// is worth one -Verbose line; <see cref="Status"/> and <see cref="Percent"/> move the progress bar within it; a
/// <see cref="IsDebug"/> status is a detail for -Debug only (sizes, arguments, timings). Never a secret.
/// </summary>
public sealed record OperationStatus(string Phase, string Status, int? Percent = null)
{
    /// <summary>A detail for -Debug.</summary>
    public bool IsDebug { get; init; }

    /// <summary>A -Debug detail of <paramref name="phase"/>.</summary>
    public static OperationStatus Debug(string phase, string message) => new(phase, message) { IsDebug = true };

    /// <summary>A share of work done as a percentage held below 100 until the phase ends (estimates run over), or null when the total is unknown.</summary>
    public static int? PercentOf(long done, long total) => total <= 0 ? null : (int)Math.Clamp(done * 100 / total, 0, 99);
}

/// <summary>Reports bytes moved in one phase (downloaded, hashed) against a known total, a few times a second at most.</summary>
public sealed class ByteProgress(IProgress<OperationStatus>? progress, string phase, string what, long total)
{
    private long _done, _last;

    /// <summary>Counts <paramref name="bytes"/> more.</summary>
    public void Add(long bytes)
    {
        var done = Interlocked.Add(ref _done, bytes);
        if (progress is null) return;
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref _last) < 250 && done < total) return;
        Interlocked.Exchange(ref _last, now);
        progress.Report(new OperationStatus(phase, $"{what}: {done / 1048576.0:0.0} of {total / 1048576.0:0.0} MiB", OperationStatus.PercentOf(done, total)));
    }
}
