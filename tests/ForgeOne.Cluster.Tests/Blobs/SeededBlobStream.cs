using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ForgeOne.Cluster.Tests.Blobs;

/// <summary>
/// A read-only stream of <c>length</c> pseudo-random bytes that never holds more than one 1 MiB
/// block: a seeded random block whose 64-bit words are xor'd with a per-block value, so blocks
/// differ and LZ4 finds nothing to compress (the expensive path), while generating costs only a
/// xor per word. Also hashes what it produced, for comparing with a download.
/// </summary>
public sealed class SeededBlobStream : Stream
{
    private const int BlockSize = 1024 * 1024;
    private readonly byte[] _seedBlock = new byte[BlockSize];
    private readonly byte[] _block = new byte[BlockSize];
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly long _length;
    private long _position;
    private long _blockIndex = -1;

    public SeededBlobStream(long length, int seed)
    {
        _length = length;
        new Random(seed).NextBytes(_seedBlock);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>SHA-256 of everything read so far (call once, at the end).</summary>
    public byte[] Hash() => _hash.GetHashAndReset();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var total = 0;
        while (buffer.Length > 0 && _position < _length)
        {
            var index = _position / BlockSize;
            if (index != _blockIndex)
            {
                var mask = (ulong)(index + 1) * 0x9E3779B97F4A7C15UL;
                var source = MemoryMarshal.Cast<byte, ulong>(_seedBlock);
                var target = MemoryMarshal.Cast<byte, ulong>(_block.AsSpan());
                for (var i = 0; i < source.Length; i++)
                {
                    target[i] = source[i] ^ mask;
                }

                _blockIndex = index;
            }

            var within = (int)(_position % BlockSize);
            var n = (int)Math.Min(Math.Min(buffer.Length, BlockSize - within), _length - _position);
            _block.AsSpan(within, n).CopyTo(buffer);
            _hash.AppendData(buffer[..n]);
            buffer = buffer[n..];
            _position += n;
            total += n;
        }

        return total;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>A write-only sink that keeps only a count and a SHA-256 of what it was given.</summary>
public sealed class HashingSink : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Written;

    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public byte[] Hash() => _hash.GetHashAndReset();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        Written += buffer.Length;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
