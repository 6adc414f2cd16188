using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// A small forward-only writer and reader for our binary formats (all integers big-endian,
/// strings as u16 length + UTF-8). Readers throw <see cref="ForgeOneException"/> with the code
/// the caller picks, so a truncated input is a typed error and never an IndexOutOfRange.
/// </summary>
internal ref struct SpanWriter
{
    private readonly Span<byte> _buffer;

    public SpanWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        Position = 0;
    }

    public int Position { get; private set; }

    public void U8(byte value) => _buffer[Position++] = value;

    public void U16(int value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[Position..], checked((ushort)value));
        Position += 2;
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[Position..], value);
        Position += 4;
    }

    public void I32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer[Position..], value);
        Position += 4;
    }

    public void I64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer[Position..], value);
        Position += 8;
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[Position..]);
        Position += value.Length;
    }

    public void String16(string value)
    {
        var n = Encoding.UTF8.GetBytes(value, _buffer[(Position + 2)..]);
        U16(n);
        Position += n;
    }

    public void Bytes16(ReadOnlySpan<byte> value)
    {
        U16(value.Length);
        Bytes(value);
    }
}

/// <summary>Reads what <see cref="SpanWriter"/> wrote; every overrun is a typed error.</summary>
internal ref struct SpanReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _errorCode;
    private readonly string _what;

    public SpanReader(ReadOnlySpan<byte> buffer, string errorCode, string what)
    {
        _buffer = buffer;
        _errorCode = errorCode;
        _what = what;
        Position = 0;
    }

    public int Position { get; private set; }

    public readonly int Remaining => _buffer.Length - Position;

    public byte U8()
    {
        Need(1);
        return _buffer[Position++];
    }

    public int U16()
    {
        Need(2);
        var v = BinaryPrimitives.ReadUInt16BigEndian(_buffer[Position..]);
        Position += 2;
        return v;
    }

    public uint U32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadUInt32BigEndian(_buffer[Position..]);
        Position += 4;
        return v;
    }

    public int I32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadInt32BigEndian(_buffer[Position..]);
        Position += 4;
        return v;
    }

    public long I64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadInt64BigEndian(_buffer[Position..]);
        Position += 8;
        return v;
    }

    public ReadOnlySpan<byte> Bytes(int length)
    {
        Need(length);
        var v = _buffer.Slice(Position, length);
        Position += length;
        return v;
    }

    public string String16()
    {
        var n = U16();
        var bytes = Bytes(n);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Fail("invalid UTF-8 in a string field");
        }
    }

    public ReadOnlySpan<byte> Bytes16() => Bytes(U16());

    public readonly void End()
    {
        if (Position != _buffer.Length)
        {
            throw Fail($"{_buffer.Length - Position} trailing bytes");
        }
    }

    public readonly ForgeOneException Fail(string reason) =>
        new(_errorCode, $"{_what} is malformed: {reason}");

    private readonly void Need(int n)
    {
        if (n < 0 || Position + n > _buffer.Length)
        {
            throw Fail($"truncated at byte {Position} (needed {n} more, {_buffer.Length - Position} left)");
        }
    }
}

/// <summary>String length in our u16-prefixed encoding, validated once at the boundary.</summary>
internal static class Utf8
{
    public static int Length16(string value, string field)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        if (n > ushort.MaxValue)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{field} is {n} UTF-8 bytes; the limit is {ushort.MaxValue}");
        }

        return n;
    }
}
