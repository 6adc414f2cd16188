using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ForgeOne.Common.Model;

/// <summary>
/// Content hashes over a canonical encoding, so the same logical entry always hashes the same
/// whatever its in-memory representation (metadata order, string interning, ...).
/// </summary>
/// <remarks>
/// Canonical log encoding (all integers big-endian, strings UTF-8 prefixed by a u32 length):
/// <c>"forgeone.log.v1" | topic | i64 unix ms | u8 severity | message | u32 n | n x (key | value), keys ordinal-sorted | u8 hasMarker | [marker]</c>.
/// The id is not part of the hash: the hash proves content, the id only position.
/// </remarks>
public static class ContentHashes
{
    private static readonly byte[] LogDomain = "forgeone.log.v1"u8.ToArray();

    public static byte[] ForLog(string topic, DateTimeOffset timestamp, Severity severity, string message,
        IReadOnlyDictionary<string, string> metadata, string? checkpointMarker)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(LogDomain);
        AppendString(hash, topic);
        AppendInt64(hash, timestamp.ToUnixTimeMilliseconds());
        hash.AppendData([(byte)severity]);
        AppendString(hash, message);
        AppendMetadata(hash, metadata);
        hash.AppendData([checkpointMarker is null ? (byte)0 : (byte)1]);
        if (checkpointMarker is not null)
        {
            AppendString(hash, checkpointMarker);
        }

        return hash.GetHashAndReset();
    }

    public static byte[] ForLog(LogEntry entry) =>
        ForLog(entry.Topic, entry.Timestamp, entry.Severity, entry.Message, entry.Metadata, entry.CheckpointMarker);

    private static void AppendMetadata(IncrementalHash hash, IReadOnlyDictionary<string, string> metadata)
    {
        Span<byte> count = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(count, (uint)metadata.Count);
        hash.AppendData(count);
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            AppendString(hash, key);
            AppendString(hash, value);
        }
    }

    private static void AppendString(IncrementalHash hash, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }

    private static void AppendInt64(IncrementalHash hash, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(buffer, value);
        hash.AppendData(buffer);
    }
}
