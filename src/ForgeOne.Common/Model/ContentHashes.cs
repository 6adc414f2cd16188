using System.Buffers;
using System.Buffers.Binary;
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
        // Hot path (once per appended entry): encode the canonical form into one pooled buffer and
        // hash it in a single call, instead of feeding SHA-256 piece by piece.
        var keys = metadata.Count == 0 ? [] : new string[metadata.Count];
        var k = 0;
        var length = LogDomain.Length + 4 + Encoding.UTF8.GetByteCount(topic) + 8 + 1 + 4 + Encoding.UTF8.GetByteCount(message) + 4 + 1;
        foreach (var (key, value) in metadata)
        {
            keys[k++] = key;
            length += 8 + Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(value);
        }

        Array.Sort(keys, StringComparer.Ordinal);
        if (checkpointMarker is not null)
        {
            length += 4 + Encoding.UTF8.GetByteCount(checkpointMarker);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var span = buffer.AsSpan(0, length);
            LogDomain.CopyTo(span);
            var at = LogDomain.Length;
            at += WriteString(span[at..], topic);
            BinaryPrimitives.WriteInt64BigEndian(span[at..], timestamp.ToUnixTimeMilliseconds());
            at += 8;
            span[at++] = (byte)severity;
            at += WriteString(span[at..], message);
            BinaryPrimitives.WriteUInt32BigEndian(span[at..], (uint)keys.Length);
            at += 4;
            foreach (var key in keys)
            {
                at += WriteString(span[at..], key);
                at += WriteString(span[at..], metadata[key]);
            }

            span[at++] = checkpointMarker is null ? (byte)0 : (byte)1;
            if (checkpointMarker is not null)
            {
                at += WriteString(span[at..], checkpointMarker);
            }

            return Sha256.HashData(span[..at]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static byte[] ForLog(LogEntry entry) =>
        ForLog(entry.Topic, entry.Timestamp, entry.Severity, entry.Message, entry.Metadata, entry.CheckpointMarker);

    /// <summary>u32 big-endian UTF-8 length, then the bytes; returns the bytes written.</summary>
    private static int WriteString(Span<byte> destination, string value)
    {
        var written = Encoding.UTF8.GetBytes(value, destination[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)written);
        return 4 + written;
    }
}
