using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Messages every shard entity understands, whatever its kind.</summary>
public static class ShardProtocol
{
    /// <summary>Asks a shard for its counters. Reply: <see cref="ShardStats"/>.</summary>
    public sealed record GetShardStats(ShardKind Kind, int Shard) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>A shard's counters.</summary>
    /// <param name="Kind">The shard kind.</param>
    /// <param name="Shard">The shard number.</param>
    /// <param name="CommitCount">Write transactions committed by this incarnation of the entity (group commits, not commands).</param>
    /// <param name="CommandsApplied">Commands applied (and acknowledged) by this incarnation.</param>
    /// <param name="AuditSequence">Sequence number of the last committed audit record.</param>
    /// <param name="FilePath">The LMDB file.</param>
    /// <param name="Node">The node hosting the entity.</param>
    public sealed record ShardStats(ShardKind Kind, int Shard, long CommitCount, long CommandsApplied, long AuditSequence, string FilePath, string Node) : IForgeOneMessage;

    /// <summary>Asks for the shard's audit chain head (for the sealer). Reply: <see cref="AuditHead"/>.</summary>
    public sealed record GetAuditHead(ShardKind Kind, int Shard) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>A shard's committed audit chain head.</summary>
    public sealed record AuditHead(ShardKind Kind, int Shard, long Sequence, byte[] Hash) : IForgeOneMessage;

    /// <summary>Tells a shard to rotate its data key. Reply: <see cref="KeyRotated"/> or <see cref="ShardFailed"/>.</summary>
    public sealed record RotateKey(ShardKind Kind, int Shard, Caller Caller, string Reason, bool OnlyIfDue) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The shard's key state after a rotation request; <see cref="Rotated"/> is false when not due.</summary>
    public sealed record KeyRotated(ShardKind Kind, int Shard, bool Rotated, int ActiveVersion, string[] Events) : IForgeOneMessage;

    /// <summary>A generic failure of a control message.</summary>
    public sealed record ShardFailed(ShardKind Kind, int Shard, ForgeOneError Error) : IFailureReply;

    /// <summary>
    /// Several independent commands for one shard in one message: how the actor client sends
    /// single writes that many callers made at about the same time (coalescing). The shard
    /// treats every command exactly as if it had come alone (its own admission, authorization,
    /// request-id de-duplication, audit record and reply, so one bad command fails only
    /// itself) and answers with <see cref="CommandBatchReplies"/>, one reply per command, in
    /// order. A command that does not belong to this shard is refused with
    /// <c>storage.wrong_shard</c> in its slot.
    /// </summary>
    public sealed record CommandBatch(ShardKind Kind, int Shard, IShardCommand[] Commands) : IShardMessage
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The replies to a <see cref="CommandBatch"/>'s commands, in the same order.</summary>
    public sealed record CommandBatchReplies(IForgeOneMessage[] Replies) : IForgeOneMessage;

    /// <summary>
    /// Hand-off stop message (the sharding <c>handOffStopMessage</c>) and passivation message:
    /// flush buffered writes, close the file, stop. Never sent by clients.
    /// </summary>
    public sealed record HandOff : IForgeOneMessage
    {
        /// <summary>The singleton instance.</summary>
        public static readonly HandOff Instance = new();

        private HandOff()
        {
        }
    }
}
