using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Operations on the single system shard (shard 0 of kind system).</summary>
public static class SystemProtocol
{
    /// <summary>
    /// Records the cluster's shard counts on first start, or checks them against the recorded
    /// ones. Reply: <see cref="ShardCountsAccepted"/> or <see cref="SystemFailed"/> with
    /// <see cref="ErrorCodes.ShardCountMismatch"/>.
    /// </summary>
    public sealed record RecordShardCounts(Caller Caller, int Logs, int Events, int Blobs) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>The counts match (or were just recorded, <paramref name="Recorded"/>).</summary>
    public sealed record ShardCountsAccepted(int Logs, int Events, int Blobs, bool Recorded) : IForgeOneMessage;

    /// <summary>
    /// Stores the SHA-256 of the bootstrap admin API key unless one is already stored. Reply:
    /// <see cref="BootstrapKeyRegistered"/>; the caller writes the key file only when created.
    /// </summary>
    public sealed record RegisterBootstrapKey(Caller Caller, byte[] Sha256) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>Whether this request stored the hash (false: a bootstrap key already existed).</summary>
    public sealed record BootstrapKeyRegistered(bool Created) : IForgeOneMessage;

    /// <summary>A system operation failed.</summary>
    public sealed record SystemFailed(ForgeOneError Error) : IFailureReply;
}
