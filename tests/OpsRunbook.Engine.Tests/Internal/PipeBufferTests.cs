using System.Diagnostics;
using OpsRunbook.Engine.Internal;
using OpsRunbook.Engine.Tests.Fakes;

namespace OpsRunbook.Engine.Tests;

/// <summary>pg_dump's stdout pipe is enlarged so pg_dump does not block every 64 KiB while the backup is a moment late.</summary>
public sealed class PipeBufferTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A child that waits for a line, then writes 512 KiB to stdout and exits — unless the pipe is full.</summary>
    private static Process Writer() => Shell.Start("read x; head -c 524288 /dev/zero");

    [Fact]
    public async Task Enlarged_pipe_takes_a_whole_burst_without_a_reader()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("F_SETPIPE_SZ is Linux-only; elsewhere the pipe keeps the OS default");
        using var p = Writer();
        var size = PipeBuffer.TryEnlarge(p.StandardOutput.BaseStream, 1024 * 1024);
        Assert.True(size >= 1024 * 1024, $"pipe size {size}");
        await p.StandardInput.WriteLineAsync("go");
        await p.StandardInput.FlushAsync(Ct);
        // Nobody reads stdout, yet the writer finishes: the 512 KiB fit in the pipe.
        await p.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        var all = new MemoryStream();
        await p.StandardOutput.BaseStream.CopyToAsync(all, Ct);
        Assert.Equal(524288, all.Length);
    }

    [Fact]
    public async Task Default_pipe_blocks_the_writer_until_it_is_read()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("F_SETPIPE_SZ is Linux-only");
        using var p = Writer();
        await p.StandardInput.WriteLineAsync("go");
        await p.StandardInput.FlushAsync(Ct);
        // 512 KiB cannot fit in the default 64 KiB pipe: the writer is still there a second later.
        await Task.Delay(1000, Ct);
        Assert.False(p.HasExited);
        var all = new MemoryStream();
        await p.StandardOutput.BaseStream.CopyToAsync(all, Ct);
        await p.WaitForExitAsync(Ct);
        Assert.Equal(524288, all.Length);
    }

    [Fact]
    public void Streams_without_a_pipe_handle_are_left_alone()
    {
        Assert.Null(PipeBuffer.TryEnlarge(new MemoryStream(), 1024 * 1024));
    }
}
