using System.Buffers.Binary;

namespace ForgeOne.Storage;

/// <summary>
/// Big-endian key encodings so that LMDB's bytewise key order equals numeric order: a range
/// scan over time-ordered ids or timestamps comes back in time order. Signed values have
/// their sign bit flipped so negative numbers sort before positive ones.
/// </summary>
public static class KeyCodec
{
    /// <summary>
    /// The longest key any store accepts: LMDB's classic limit, kept fixed so a record written
    /// on one machine can be restored on any other whatever its page size.
    /// </summary>
    public const int MaxKeyLength = 511;

    /// <summary>Writes <paramref name="value"/> as 8 big-endian bytes.</summary>
    public static void WriteUInt64(Span<byte> destination, ulong value) => BinaryPrimitives.WriteUInt64BigEndian(destination, value);

    /// <summary>Reads 8 big-endian bytes.</summary>
    public static ulong ReadUInt64(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt64BigEndian(source);

    /// <summary>Writes <paramref name="value"/> as 8 order-preserving bytes (sign bit flipped, big-endian).</summary>
    public static void WriteInt64(Span<byte> destination, long value) => BinaryPrimitives.WriteUInt64BigEndian(destination, (ulong)value ^ 0x8000_0000_0000_0000UL);

    /// <summary>Reads a value written by <see cref="WriteInt64"/>.</summary>
    public static long ReadInt64(ReadOnlySpan<byte> source) => (long)(BinaryPrimitives.ReadUInt64BigEndian(source) ^ 0x8000_0000_0000_0000UL);

    /// <summary>Writes <paramref name="value"/> as 4 big-endian bytes.</summary>
    public static void WriteUInt32(Span<byte> destination, uint value) => BinaryPrimitives.WriteUInt32BigEndian(destination, value);

    /// <summary>Reads 4 big-endian bytes.</summary>
    public static uint ReadUInt32(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt32BigEndian(source);

    /// <summary>An 8-byte key for <paramref name="value"/>.</summary>
    public static byte[] UInt64(ulong value)
    {
        var key = new byte[8];
        WriteUInt64(key, value);
        return key;
    }

    /// <summary>An 8-byte order-preserving key for a signed <paramref name="value"/>.</summary>
    public static byte[] Int64(long value)
    {
        var key = new byte[8];
        WriteInt64(key, value);
        return key;
    }

    /// <summary>A 24-byte composite index key (e.g. topic hash, timestamp, id) that sorts by each part in turn.</summary>
    public static byte[] Composite(ulong first, long second, ulong third)
    {
        var key = new byte[24];
        WriteUInt64(key, first);
        WriteInt64(key.AsSpan(8), second);
        WriteUInt64(key.AsSpan(16), third);
        return key;
    }

    /// <summary>Lower-case hex of a key, for error messages and reports.</summary>
    public static string ToHex(ReadOnlySpan<byte> key) => Convert.ToHexStringLower(key);
}
