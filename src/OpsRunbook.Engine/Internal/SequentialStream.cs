namespace OpsRunbook.Engine.Internal;

/// <summary>
/// A forward-only stream (a pipe, a response body, a hashing pass-through): no length, position or seeking. Subclasses
/// say whether they read or write and implement that side; the other side is not supported.
/// </summary>
internal abstract class SequentialStream : Stream
{
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
