using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Cluster.Shards.Logs;

/// <summary>
/// Plaintext binary form of a <see cref="LogEntry"/> (encrypted before it reaches the file).
/// Hand-written so no CLR type names reach the disk:
/// <code>
///   u8 version(1) | u64 id | i64 unix-ms | u8 severity | str topic | str message
///   | u16 n | n x (str key | str value) | u8 hasMarker | [str marker] | 32 bytes content hash
///   str = u32 length | utf8     (all integers big-endian)
/// </code>
/// </summary>
internal static class LogRecordCodec
{
    public const byte Version = 1;

    public static byte[] Encode(LogEntry entry)
    {
        var writer = new ArrayBufferWriter<byte>(256 + entry.Message.Length);
        writer.GetSpan(1)[0] = Version;
        writer.Advance(1);
        WriteUInt64(writer, entry.Id.Value);
        WriteUInt64(writer, (ulong)entry.Timestamp.ToUnixTimeMilliseconds());
        writer.GetSpan(1)[0] = (byte)entry.Severity;
        writer.Advance(1);
        WriteString(writer, entry.Topic);
        WriteString(writer, entry.Message);
        var count = checked((ushort)entry.Metadata.Count);
        BinaryPrimitives.WriteUInt16BigEndian(writer.GetSpan(2), count);
        writer.Advance(2);
        foreach (var (key, value) in entry.Metadata)
        {
            WriteString(writer, key);
            WriteString(writer, value);
        }

        writer.GetSpan(1)[0] = entry.CheckpointMarker is null ? (byte)0 : (byte)1;
        writer.Advance(1);
        if (entry.CheckpointMarker is not null)
        {
            WriteString(writer, entry.CheckpointMarker);
        }

        writer.Write(entry.ContentHash);
        return writer.WrittenSpan.ToArray();
    }

    public static LogEntry Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            if (data[0] != Version)
            {
                throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"log record version {data[0]} is unknown (this code reads {Version}).");
            }

            var pos = 1;
            var id = new RecordId(BinaryPrimitives.ReadUInt64BigEndian(data[pos..]));
            pos += 8;
            var ts = DateTimeOffset.FromUnixTimeMilliseconds((long)BinaryPrimitives.ReadUInt64BigEndian(data[pos..]));
            pos += 8;
            var severity = (Severity)data[pos++];
            var topic = ReadString(data, ref pos);
            var message = ReadString(data, ref pos);
            int count = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            pos += 2;
            var metadata = new Dictionary<string, string>(count, StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var key = ReadString(data, ref pos);
                metadata[key] = ReadString(data, ref pos);
            }

            string? marker = data[pos++] == 1 ? ReadString(data, ref pos) : null;
            var hash = data.Slice(pos, 32).ToArray();
            if (pos + 32 != data.Length)
            {
                throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, "log record has trailing bytes.");
            }

            return new LogEntry(id, topic, ts, severity, message, metadata, marker, hash);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, "log record is truncated.", e);
        }
    }

    private static void WriteUInt64(ArrayBufferWriter<byte> writer, ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(writer.GetSpan(8), value);
        writer.Advance(8);
    }

    private static void WriteString(ArrayBufferWriter<byte> writer, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var span = writer.GetSpan(4 + length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)length);
        Encoding.UTF8.GetBytes(value, span[4..]);
        writer.Advance(4 + length);
    }

    private static string ReadString(ReadOnlySpan<byte> data, ref int pos)
    {
        var length = checked((int)BinaryPrimitives.ReadUInt32BigEndian(data[pos..]));
        var value = Encoding.UTF8.GetString(data.Slice(pos + 4, length));
        pos += 4 + length;
        return value;
    }
}
