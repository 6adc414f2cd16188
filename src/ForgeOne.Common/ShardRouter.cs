using System.IO.Hashing;
using System.Text;

namespace ForgeOne.Common;

/// <summary>
/// Maps a routing key (a topic for logs and events, a blob id for blobs) to a shard number.
/// XxHash64 of the UTF-8 bytes with a fixed seed: the result must never change across processes,
/// machines or .NET versions, because data already on disk was placed by it
/// (<c>string.GetHashCode</c> is randomized per process and would scatter a topic).
/// </summary>
public static class ShardRouter
{
    public static int ShardFor(string routingKey, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        if (shardCount is <= 0 or > RecordId.MaxShards)
        {
            throw new ArgumentOutOfRangeException(nameof(shardCount), $"Shard count must be 1..{RecordId.MaxShards}.");
        }

        var maxBytes = Encoding.UTF8.GetMaxByteCount(routingKey.Length);
        Span<byte> buffer = maxBytes <= 512 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        var length = Encoding.UTF8.GetBytes(routingKey, buffer);
        var hash = XxHash64.HashToUInt64(buffer[..length]);
        return (int)(hash % (ulong)shardCount);
    }
}
