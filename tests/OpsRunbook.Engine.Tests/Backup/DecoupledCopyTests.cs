using OpsRunbook.Engine.Backup;

namespace OpsRunbook.Engine.Tests;

/// <summary>The backup's pipe reader and writer on separate tasks: every byte in order, and failures on either side end both.</summary>
public sealed class DecoupledCopyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A source that returns small, uneven reads, like a pipe.</summary>
    private sealed class TricklingStream(byte[] data, Exception? failAt = null) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (failAt is not null && _position > data.Length / 2) throw failAt;
            var n = Math.Min(Math.Min(count, 1 + (_position % 70_000)), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A sink that fails after some bytes.</summary>
    private sealed class FailingSink(long failAfter) : MemoryStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Length + buffer.Length > failAfter) throw new IOException("disk full");
            return base.WriteAsync(buffer, cancellationToken);
        }
    }

    [Fact]
    public async Task Every_byte_arrives_in_order()
    {
        var data = new byte[7 * 1024 * 1024 + 12345];
        new Random(42).NextBytes(data);
        using var sink = new MemoryStream();
        await BackupRunner.DecoupledCopyAsync(new TricklingStream(data), sink, Ct);
        Assert.Equal(data, sink.ToArray());
    }

    [Fact]
    public async Task A_failing_writer_stops_the_reader_instead_of_hanging()
    {
        var data = new byte[20 * 1024 * 1024];
        var copy = BackupRunner.DecoupledCopyAsync(new TricklingStream(data), new FailingSink(3 * 1024 * 1024), Ct);
        var e = await Assert.ThrowsAsync<IOException>(() => copy.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal("disk full", e.Message);
    }

    [Fact]
    public async Task A_failing_reader_is_the_copys_failure()
    {
        var data = new byte[4 * 1024 * 1024];
        using var sink = new MemoryStream();
        var e = await Assert.ThrowsAsync<IOException>(() => BackupRunner.DecoupledCopyAsync(new TricklingStream(data, new IOException("pipe broke")), sink, Ct));
        Assert.Equal("pipe broke", e.Message);
    }
}
