using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// Appends the primitives of the ForgeOne wire format to a pooled, growing buffer. Integers are
/// LEB128 varints (signed ones zig-zag encoded); 64-bit ids and doubles are fixed 8 bytes
/// little-endian; strings, byte arrays and collections are prefixed by their length + 1, so 0
/// stands for null. Every value takes at least one byte, which is what lets the reader bound a
/// collection's count by the bytes left.
/// </summary>
public sealed class WireWriter : IDisposable
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private byte[] _buffer;
    private int _length;

    /// <summary>Creates a writer; <paramref name="context"/> serializes actor references.</summary>
    public WireWriter(IWireContext context, int initialCapacity = 256)
    {
        Context = context;
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    /// <summary>Resolves what the format cannot encode by itself (actor references).</summary>
    public IWireContext Context { get; }

    /// <summary>The bytes written so far, as a new array.</summary>
    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    /// <summary>Writes one byte.</summary>
    public void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    /// <summary>Writes an unsigned varint.</summary>
    public void WriteVarUInt(ulong value)
    {
        Ensure(10);
        while (value >= 0x80)
        {
            _buffer[_length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        _buffer[_length++] = (byte)value;
    }

    /// <summary>Writes a signed varint (zig-zag).</summary>
    public void WriteVarInt(long value) => WriteVarUInt((ulong)((value << 1) ^ (value >> 63)));

    /// <summary>Writes 4 bytes little-endian.</summary>
    public void WriteFixed32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
    }

    /// <summary>Writes 8 bytes little-endian.</summary>
    public void WriteFixed64(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
    }

    /// <summary>Writes a length prefix: 0 for null, else length + 1.</summary>
    public void WriteLength(int? length) => WriteVarUInt(length is { } n ? (ulong)n + 1 : 0);

    /// <summary>Writes a string as UTF-8 (length-prefixed; null allowed).</summary>
    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        var count = Utf8.GetByteCount(value);
        WriteLength(count);
        Ensure(count);
        _length += Utf8.GetBytes(value, _buffer.AsSpan(_length));
    }

    /// <summary>Writes a byte array (length-prefixed; null allowed).</summary>
    public void WriteBytes(byte[]? value)
    {
        if (value is null)
        {
            WriteByte(0);
            return;
        }

        WriteLength(value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int more)
    {
        if (_length + more <= _buffer.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
