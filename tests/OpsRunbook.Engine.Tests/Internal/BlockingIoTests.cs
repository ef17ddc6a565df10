using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>Blocking pipe copies on their own thread: they finish, they fail, and they can be cancelled though blocked.</summary>
public sealed class BlockingIoTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Copies_every_byte_through_a_process()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("uses /bin/sh");
        var data = new byte[5 * 1024 * 1024 + 17];
        new Random(7).NextBytes(data);
        using var cat = Shell.Start("cat");
        var output = new MemoryStream();
        var reading = cat.StandardOutput.BaseStream.CopyToAsync(output, Ct);
        await BlockingIo.CopyAsync(new MemoryStream(data), cat.StandardInput.BaseStream, () => BlockingIo.Kill(cat), Ct);
        cat.StandardInput.Close();
        await reading;
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public async Task A_copy_blocked_on_a_process_that_never_reads_is_cancelled_by_killing_it()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("uses /bin/sh");
        using var stuck = Shell.Start("sleep 60");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var copy = BlockingIo.CopyAsync(new MemoryStream(new byte[8 * 1024 * 1024]), stuck.StandardInput.BaseStream, () => BlockingIo.Kill(stuck), cts.Token);
        await Task.Delay(300, Ct);
        Assert.False(copy.IsCompleted); // 8 MiB cannot fit in the pipe: the write is blocked
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => copy.WaitAsync(TimeSpan.FromSeconds(20), Ct));
        Assert.True(stuck.WaitForExit(10_000));
    }

    [Fact]
    public async Task A_reader_that_goes_away_fails_the_copy()
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("uses /bin/sh");
        using var gone = Shell.Start("exit 0");
        await gone.WaitForExitAsync(Ct);
        await Assert.ThrowsAsync<IOException>(() => BlockingIo.CopyAsync(new MemoryStream(new byte[4 * 1024 * 1024]), gone.StandardInput.BaseStream, () => { }, Ct));
    }
}
