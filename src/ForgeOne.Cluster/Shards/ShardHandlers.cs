using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Cluster.Shards.Events;
using ForgeOne.Cluster.Shards.Logs;
using ForgeOne.Cluster.Shards.System;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Shards;

/// <summary>The one place that says which handler serves which shard kind.</summary>
public static class ShardHandlers
{
    /// <summary>A handler for every kind, with default options.</summary>
    public static Dictionary<ShardKind, IShardHandler> CreateDefault() => new()
    {
        [ShardKind.System] = new SystemShardHandler(),
        [ShardKind.Logs] = new LogShardHandler(),
        [ShardKind.Events] = new EventShardHandler(),
        [ShardKind.Blobs] = new BlobShardHandler(),
    };
}
