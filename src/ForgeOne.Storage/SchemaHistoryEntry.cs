using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>
/// One row of <c>schema_history</c>: the file was created at a version, or migrated from one
/// version to the next. Keyed by a big-endian sequence number, so a scan is chronological.
/// </summary>
/// <param name="Sequence">Position in the history, from 1.</param>
/// <param name="FromVersion">Version before; 0 for the row written when the file was created.</param>
/// <param name="ToVersion">Version after.</param>
/// <param name="Description">What happened.</param>
/// <param name="At">When it was committed.</param>
public sealed record SchemaHistoryEntry(ulong Sequence, int FromVersion, int ToVersion, string Description, DateTimeOffset At)
{
    private const byte EncodingVersion = 1;
    private const byte TaggedEncodingVersion = 2;
    private const int TagLength = 16;

    /// <summary>
    /// Payload: <c>u8 encoding(1|2) | i32 from | i32 to | i64 unix ms | utf8 description</c>
    /// (little-endian); encoding 2 ends with a 16-byte record MAC over every byte before it
    /// (table <c>schema_history</c>, the row's key).
    /// </summary>
    public byte[] Encode(IRecordAuthenticator? mac = null)
    {
        if (mac is not null && mac.TagLength != TagLength)
        {
            throw new ArgumentException($"schema_history tags are {TagLength} bytes", nameof(mac));
        }

        var text = Encoding.UTF8.GetBytes(Description);
        var length = 17 + text.Length;
        var buffer = new byte[length + (mac is null ? 0 : TagLength)];
        buffer[0] = mac is null ? EncodingVersion : TaggedEncodingVersion;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(1), FromVersion);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(5), ToVersion);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(9), At.ToUnixTimeMilliseconds());
        text.CopyTo(buffer, 17);
        mac?.Compute(Tables.SchemaHistory, KeyCodec.UInt64(Sequence), buffer.AsSpan(0, length), buffer.AsSpan(length));
        return buffer;
    }

    /// <summary>True when the row carries a record MAC (encoding 2).</summary>
    public static bool IsTagged(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == TaggedEncodingVersion;

    /// <summary>True when a tagged row's MAC verifies.</summary>
    public static bool VerifyTag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, IRecordAuthenticator mac) =>
        IsTagged(payload) && payload.Length >= 17 + TagLength && mac.Verify(Tables.SchemaHistory, key, payload[..^TagLength], payload[^TagLength..]);

    /// <summary>Decodes a row (its tag, if any, is not checked here); <paramref name="key"/> holds the sequence number.</summary>
    public static SchemaHistoryEntry Decode(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload)
    {
        if (key.Length != 8 || payload.Length < 17 || payload[0] is not (EncodingVersion or TaggedEncodingVersion)
            || (payload[0] == TaggedEncodingVersion && payload.Length < 17 + TagLength))
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"schema_history row {KeyCodec.ToHex(key)} is malformed");
        }

        if (payload[0] == TaggedEncodingVersion)
        {
            payload = payload[..^TagLength];
        }

        return new SchemaHistoryEntry(
            KeyCodec.ReadUInt64(key),
            BinaryPrimitives.ReadInt32LittleEndian(payload[1..]),
            BinaryPrimitives.ReadInt32LittleEndian(payload[5..]),
            Encoding.UTF8.GetString(payload[17..]),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(payload[9..])));
    }
}
