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

    /// <summary>Payload: <c>u8 encoding(1) | i32 from | i32 to | i64 unix ms | utf8 description</c> (little-endian).</summary>
    public byte[] Encode()
    {
        var text = Encoding.UTF8.GetBytes(Description);
        var buffer = new byte[17 + text.Length];
        buffer[0] = EncodingVersion;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(1), FromVersion);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(5), ToVersion);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(9), At.ToUnixTimeMilliseconds());
        text.CopyTo(buffer, 17);
        return buffer;
    }

    /// <summary>Decodes a row; <paramref name="key"/> holds the sequence number.</summary>
    public static SchemaHistoryEntry Decode(ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload)
    {
        if (key.Length != 8 || payload.Length < 17 || payload[0] != EncodingVersion)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"schema_history row {KeyCodec.ToHex(key)} is malformed");
        }

        return new SchemaHistoryEntry(
            KeyCodec.ReadUInt64(key),
            BinaryPrimitives.ReadInt32LittleEndian(payload[1..]),
            BinaryPrimitives.ReadInt32LittleEndian(payload[5..]),
            Encoding.UTF8.GetString(payload[17..]),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(payload[9..])));
    }
}
