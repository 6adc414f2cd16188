using System.Buffers.Binary;
using System.Text;

namespace ForgeOne.Cluster.Protocol.Wire;

/// <summary>
/// Reads the primitives <see cref="WireWriter"/> writes, from bytes that may have been built by
/// anyone: every read is bounds-checked and every failure is a <see cref="WireFormatException"/>.
/// Nothing is allocated before the bytes that justify it are known to be there: a length is
/// checked against the bytes left, and a collection's count too (each element takes at least
/// one byte), so decoding allocates at most a small multiple of the input's size and runs in
/// time linear in it.
/// </summary>
public sealed class WireReader
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly byte[] _bytes;
    private int _position;

    /// <summary>Reads <paramref name="bytes"/>; <paramref name="context"/> resolves actor references.</summary>
    public WireReader(byte[] bytes, IWireContext context)
    {
        _bytes = bytes;
        Context = context;
    }

    /// <summary>Resolves what the format cannot decode by itself (actor references).</summary>
    public IWireContext Context { get; }

    /// <summary>How many messages deep the reader is inside a message (see <c>MessageField</c>).</summary>
    public int Depth { get; set; }

    /// <summary>Bytes not read yet.</summary>
    public int Remaining => _bytes.Length - _position;

    /// <summary>Reads one byte.</summary>
    public byte ReadByte()
    {
        if (_position >= _bytes.Length)
        {
            throw Truncated();
        }

        return _bytes[_position++];
    }

    /// <summary>Reads an unsigned varint (at most 10 bytes, no overflow).</summary>
    public ulong ReadVarUInt()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63 && b > 1)
            {
                throw WireFormatException.Malformed("A varint overflows 64 bits.");
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw WireFormatException.Malformed("A varint is longer than 10 bytes.");
    }

    /// <summary>Reads a signed varint (zig-zag).</summary>
    public long ReadVarInt()
    {
        var raw = ReadVarUInt();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>Reads a signed varint that must fit in 32 bits.</summary>
    public int ReadVarInt32()
    {
        var value = ReadVarInt();
        return value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw WireFormatException.Malformed($"The value {value} does not fit a 32-bit integer.");
    }

    /// <summary>Reads 4 bytes little-endian.</summary>
    public uint ReadFixed32()
    {
        if (Remaining < 4)
        {
            throw Truncated();
        }

        var value = BinaryPrimitives.ReadUInt32LittleEndian(_bytes.AsSpan(_position));
        _position += 4;
        return value;
    }

    /// <summary>Reads 8 bytes little-endian.</summary>
    public ulong ReadFixed64()
    {
        if (Remaining < 8)
        {
            throw Truncated();
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(_bytes.AsSpan(_position));
        _position += 8;
        return value;
    }

    /// <summary>
    /// Reads a length prefix: null for 0, else the length, which must not exceed the bytes left
    /// divided by <paramref name="minBytesPerItem"/> (1 for strings and byte arrays).
    /// </summary>
    public int? ReadLength(int minBytesPerItem = 1)
    {
        var raw = ReadVarUInt();
        if (raw == 0)
        {
            return null;
        }

        var length = raw - 1;
        if (length > (ulong)(Remaining / minBytesPerItem))
        {
            throw WireFormatException.Malformed($"A length of {length} exceeds the {Remaining} bytes left.");
        }

        return (int)length;
    }

    /// <summary>Reads a length-prefixed UTF-8 string (invalid UTF-8 is refused).</summary>
    public string? ReadString()
    {
        if (ReadLength() is not { } length)
        {
            return null;
        }

        try
        {
            var value = Utf8.GetString(_bytes, _position, length);
            _position += length;
            return value;
        }
        catch (DecoderFallbackException e)
        {
            throw new WireFormatException(Common.ErrorCodes.WireMalformed, "A string is not valid UTF-8.", e);
        }
    }

    /// <summary>Reads a length-prefixed byte array.</summary>
    public byte[]? ReadBytes()
    {
        if (ReadLength() is not { } length)
        {
            return null;
        }

        var value = _bytes.AsSpan(_position, length).ToArray();
        _position += length;
        return value;
    }

    /// <summary>Throws unless every byte was read (trailing bytes mean the sender's schema differs or the bytes were altered).</summary>
    public void EnsureEnd()
    {
        if (Remaining != 0)
        {
            throw WireFormatException.Malformed($"{Remaining} bytes left after the message's last field.");
        }
    }

    private static WireFormatException Truncated() => WireFormatException.Malformed("The message ends before its last field.");
}
