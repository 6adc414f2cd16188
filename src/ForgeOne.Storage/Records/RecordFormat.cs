using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// The record kinds of the stored format. The byte after the version byte names the kind, so a
/// value decoded with the wrong codec (a key pointing into the wrong table, say) is refused
/// instead of being misread. Stored on disk: never renumber, only add.
/// </summary>
public enum RecordType : byte
{
    LogEntry = 1,
    EventMessage = 2,
    BlobMetadata = 3,
    Topic = 4,
    Checkpoint = 5,
    ConsumerOffset = 6,
    VersionedSetting = 7,
    Snapshot = 8,
    MetricSample = 9,
    RequestOutcome = 10,
    SnapshotVersion = 11,
    ApiKey = 12,
}

/// <summary>
/// The common layout of every stored record:
/// <code>
///   byte 0   format version (<see cref="Version"/>)
///   byte 1   <see cref="RecordType"/>
///   then     the record's fields in declaration order:
///            integers big-endian; timestamps as i64 UTC ticks; strings and byte segments as
///            u32 length + bytes (strings UTF-8); optional values as a u8 0/1 flag then the value;
///            enums and bools as one byte.
/// </code>
/// No field names, no CLR type names: the format is ours and is read by position.
/// </summary>
public static class RecordFormat
{
    /// <summary>The only record format version written today.</summary>
    public const byte Version = 1;

    /// <summary>Bytes before the first field.</summary>
    public const int HeaderLength = 2;

    /// <summary>The kind of a stored record, after checking its version byte; throws on anything unreadable.</summary>
    public static RecordType PeekType(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderLength)
        {
            throw RecordReader.Corrupt("record", $"{data.Length} bytes is shorter than the {HeaderLength}-byte header");
        }

        if (data[0] != Version)
        {
            throw new ForgeOneException(ErrorCodes.StorageUnknownFormat,
                $"record format version {data[0]} is unknown (this code reads version {Version})");
        }

        var type = (RecordType)data[1];
        if (!Enum.IsDefined(type))
        {
            throw RecordReader.Corrupt("record", $"unknown record type {data[1]}");
        }

        return type;
    }
}

/// <summary>Appends fields in the stored layout. Allocation happens once, in <see cref="ToArray"/>.</summary>
internal sealed class RecordWriter
{
    // Strict: a string with a lone surrogate is refused rather than silently stored as U+FFFD
    // (which would not read back as what was written).
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ArrayBufferWriter<byte> _buffer;

    public RecordWriter(int capacity = 256) => _buffer = new ArrayBufferWriter<byte>(capacity);

    /// <summary>A writer for one record; <paramref name="capacity"/> is a size hint that saves regrowing on hot paths.</summary>
    public static RecordWriter ForRecord(RecordType type, int capacity = 256)
    {
        var writer = new RecordWriter(capacity);
        writer.WriteByte(RecordFormat.Version);
        writer.WriteByte((byte)type);
        return writer;
    }

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteDouble(double value) => WriteInt64(BitConverter.DoubleToInt64Bits(value));

    public void WriteId(RecordId id) => WriteInt64(unchecked((long)id.Value));

    public void WriteTimestamp(DateTimeOffset value) => WriteInt64(value.UtcTicks);

    public void WriteOptionalTimestamp(DateTimeOffset? value)
    {
        WriteBool(value.HasValue);
        if (value is { } v)
        {
            WriteTimestamp(v);
        }
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var length = StrictUtf8.GetByteCount(value);
        WriteInt32(length);
        StrictUtf8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }

    public void WriteOptionalString(string? value)
    {
        WriteBool(value is not null);
        if (value is not null)
        {
            WriteString(value);
        }
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}

/// <summary>
/// Reads fields in the stored layout and checks each one: every length against what is left,
/// every enum against its defined values, every flag against 0/1, UTF-8 strictly. Anything
/// else is a <see cref="ForgeOneException"/> with <see cref="ErrorCodes.StorageCorruptRecord"/>,
/// never an IndexOutOfRangeException or a half-read value.
/// </summary>
internal ref struct RecordReader
{
    private static readonly long MaxTicks = DateTimeOffset.MaxValue.UtcTicks;

    private readonly ReadOnlySpan<byte> _data;
    private readonly string _what;
    private int _position;

    public RecordReader(ReadOnlySpan<byte> data, string what)
    {
        _data = data;
        _what = what;
        _position = 0;
    }

    /// <summary>A reader positioned after a checked header of the <paramref name="expected"/> kind.</summary>
    public static RecordReader ForRecord(ReadOnlySpan<byte> data, RecordType expected)
    {
        var actual = RecordFormat.PeekType(data);
        if (actual != expected)
        {
            throw Corrupt(expected.ToString(), $"the record is a {actual}, not a {expected}");
        }

        return new RecordReader(data, expected.ToString()) { _position = RecordFormat.HeaderLength };
    }

    public static ForgeOneException Corrupt(string what, string reason) =>
        new(ErrorCodes.StorageCorruptRecord, $"corrupt {what}: {reason}");

    private readonly int Remaining => _data.Length - _position;

    public byte ReadByte() => Take(1)[0];

    public bool ReadBool() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var b => throw Corrupt(_what, $"flag byte {b} at offset {_position - 1} is neither 0 nor 1"),
    };

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public int ReadNonNegativeInt32(string field)
    {
        var value = ReadInt32();
        return value >= 0 ? value : throw Corrupt(_what, $"{field} is negative ({value})");
    }

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public long ReadNonNegativeInt64(string field)
    {
        var value = ReadInt64();
        return value >= 0 ? value : throw Corrupt(_what, $"{field} is negative ({value})");
    }

    public double ReadDouble() => BitConverter.Int64BitsToDouble(ReadInt64());

    public RecordId ReadId() => new(unchecked((ulong)ReadInt64()));

    public DateTimeOffset ReadTimestamp()
    {
        var ticks = ReadInt64();
        if (ticks < 0 || ticks > MaxTicks)
        {
            throw Corrupt(_what, $"timestamp ticks {ticks} are out of range");
        }

        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    public DateTimeOffset? ReadOptionalTimestamp() => ReadBool() ? ReadTimestamp() : null;

    public T ReadEnum<T>()
        where T : struct, Enum
    {
        var raw = ReadByte();
        var value = (T)Enum.ToObject(typeof(T), raw);
        return Enum.IsDefined(value) ? value : throw Corrupt(_what, $"{typeof(T).Name} value {raw} is not defined");
    }

    public ReadOnlySpan<byte> ReadBytesSpan()
    {
        var length = ReadInt32();
        if (length < 0 || length > Remaining)
        {
            throw Corrupt(_what, $"a length of {length} at offset {_position - 4} runs past the end ({Remaining} bytes left)");
        }

        return Take(length);
    }

    public byte[] ReadBytes() => ReadBytesSpan().ToArray();

    public string ReadString()
    {
        var bytes = ReadBytesSpan();
        try
        {
            return RecordWriter.StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Corrupt(_what, $"a string before offset {_position} is not valid UTF-8");
        }
    }

    public string? ReadOptionalString() => ReadBool() ? ReadString() : null;

    /// <summary>Reads a u32 element count, refusing counts that could not fit in what is left.</summary>
    public int ReadCount(int minElementBytes)
    {
        var count = ReadInt32();
        if (count < 0 || (long)count * minElementBytes > Remaining)
        {
            throw Corrupt(_what, $"an element count of {count} cannot fit in the {Remaining} bytes left");
        }

        return count;
    }

    /// <summary>Refuses trailing bytes: a record is exactly its fields.</summary>
    public readonly void End()
    {
        if (Remaining != 0)
        {
            throw Corrupt(_what, $"{Remaining} unexpected trailing bytes");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw Corrupt(_what, $"truncated: needed {count} bytes at offset {_position}, {Remaining} left");
        }

        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}
