using System.Globalization;
using Akka.Cluster.Sharding;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Sharding;

/// <summary>
/// Routes <see cref="IShardMessage"/>s of one kind to their entity: explicit shard number when
/// the message carries one (get-by-id), else <see cref="ShardRouter.ShardFor"/> of the routing key
/// (xxHash64, stable across processes and versions). Messages of another kind, or that route nowhere, return null
/// so the region drops them as unhandled instead of inventing an entity.
/// </summary>
public sealed class ShardMessageExtractor : IMessageExtractor
{
    private readonly ShardKind _kind;
    private readonly int _count;

    /// <summary>An extractor for the region of <paramref name="kind"/> with <paramref name="shardCount"/> shards.</summary>
    public ShardMessageExtractor(ShardKind kind, int shardCount)
    {
        if (shardCount is < 1 or > RecordId.MaxShards)
        {
            throw new ArgumentOutOfRangeException(nameof(shardCount));
        }

        _kind = kind;
        _count = shardCount;
    }

    /// <summary>The shard number a message goes to, or null when it is not for this region.</summary>
    public int? ShardNumberOf(object message)
    {
        if (message is not IShardMessage m || m.Kind != _kind)
        {
            return null;
        }

        if (m.ShardNumber is { } n)
        {
            return n >= 0 && n < _count ? n : null;
        }

        return m.RoutingKey is null ? null : ShardRouter.ShardFor(m.RoutingKey, _count);
    }

    /// <inheritdoc />
    public string? EntityId(object message) => ShardNumberOf(message) is { } n ? ShardEntityId.Of(_kind, n) : null;

    /// <inheritdoc />
    public object? EntityMessage(object message) => message;

    /// <inheritdoc />
    public string? ShardId(object message) => ShardNumberOf(message)?.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public string ShardId(string entityId, object? messageHint = null) =>
        ShardEntityId.TryParse(entityId, out var kind, out var n) && kind == _kind
            ? n.ToString(CultureInfo.InvariantCulture)
            : throw new ArgumentException($"'{entityId}' is not an entity id of kind {_kind.FolderName()}.", nameof(entityId));
}
