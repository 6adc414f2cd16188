using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Messages every shard entity understands, whatever its kind.</summary>
public static class ShardProtocol
{
    /// <summary>Asks a shard for its counters (<c>system:read</c>). Reply: <see cref="ShardStats"/> or <see cref="ShardFailed"/>.</summary>
    public sealed record GetShardStats(PrincipalToken Token, ShardKind Kind, int Shard) : IShardControl
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
    public sealed record ShardStats(ShardKind Kind, int Shard, long CommitCount, long CommandsApplied, long AuditSequence, string FilePath, string Node) : IReply;

    /// <summary>Asks for the shard's audit chain head (the sealer; <c>audit:read</c>). Reply: <see cref="AuditHead"/> or <see cref="ShardFailed"/>.</summary>
    /// <param name="Token">Proof of the sender's principal.</param>
    /// <param name="Kind">The shard kind.</param>
    /// <param name="Shard">The shard number.</param>
    /// <param name="Since">The seq the sealer sealed last for this chain: the reply carries the stored hash of that record (<see cref="AuditHead.HashAtSince"/>).</param>
    public sealed record GetAuditHead(PrincipalToken Token, ShardKind Kind, int Shard, long? Since = null) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>A shard's committed audit chain head.</summary>
    /// <param name="Kind">The shard kind.</param>
    /// <param name="Shard">The shard number.</param>
    /// <param name="Sequence">The head's seq.</param>
    /// <param name="Hash">The head's hash.</param>
    /// <param name="Chain">The chain id seals name (<c>logs-0003</c>, <c>logs-0003@eu</c>).</param>
    /// <param name="HashAtSince">The stored hash of the record at <see cref="GetAuditHead.Since"/>, or null (no such record, or nothing asked).</param>
    /// <param name="Broken">Why the shard's chain is broken (it refuses writes), or null.</param>
    /// <param name="TreeRoot">RFC 6962 root of the shard's audit records 1..<paramref name="Sequence"/> (what a format-3 seal signs), or null when unavailable.</param>
    public sealed record AuditHead(ShardKind Kind, int Shard, long Sequence, byte[] Hash, string Chain, byte[]? HashAtSince = null, ForgeOneError? Broken = null, byte[]? TreeRoot = null) : IReply;

    /// <summary>
    /// Reads the shard's stored audit records from <paramref name="FromSeq"/> (evidence export,
    /// record proofs). Authorized (<c>audit:export</c>) and audited at the shard. Reply: <see cref="AuditPage"/> or <see cref="ShardFailed"/>.
    /// </summary>
    /// <param name="Kind">The shard kind.</param>
    /// <param name="Shard">The shard number.</param>
    /// <param name="Token">Who asks.</param>
    /// <param name="FromSeq">First seq wanted (1 = the chain's start).</param>
    /// <param name="Limit">Most records in the reply (1..10,000).</param>
    public sealed record ReadAudit(PrincipalToken Token, ShardKind Kind, int Shard, long FromSeq, int Limit) : IShardControl
    {
        /// <summary>Largest page.</summary>
        public const int MaxLimit = 10_000;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>A page of stored audit records, each exactly as its chain hashes it (AuditRecordCodec).</summary>
    /// <param name="Chain">The chain id.</param>
    /// <param name="Head">The committed head seq when the page was read.</param>
    /// <param name="Records">Encoded records in seq order; fewer than asked when the head was reached.</param>
    public sealed record AuditPage(string Chain, long Head, byte[][] Records) : IReply;

    /// <summary>
    /// From the sealer after it signed a seal naming this shard as a new incarnation: the shard
    /// checks the seal (signature, and that it names the shard's current head), records the rewind
    /// in its chain and resumes writes (<c>audit:write</c>: the sealer, as its node). Reply: <see cref="IncarnationAccepted"/> or <see cref="ShardFailed"/>.
    /// </summary>
    /// <param name="Token">Proof of the sender's principal.</param>
    /// <param name="Kind">The shard kind.</param>
    /// <param name="Shard">The shard number.</param>
    /// <param name="Seal">The encoded seal (<c>SealCodec</c>).</param>
    /// <param name="Principal">Who authorized the rewind.</param>
    /// <param name="Reason">Why (e.g. <c>restored from backup 42</c>).</param>
    public sealed record AcceptIncarnation(PrincipalToken Token, ShardKind Kind, int Shard, byte[] Seal, string Principal, string Reason) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The shard runs its new incarnation; its head is now the audit record of the rewind.</summary>
    public sealed record IncarnationAccepted(ShardKind Kind, int Shard, string Chain, long SealNumber, long Sequence) : IReply;

    /// <summary>Runs a whole scrub pass over the shard now (besides the background one; <c>audit:read</c>). Reply: <see cref="ScrubReport"/> or <see cref="ShardFailed"/>.</summary>
    public sealed record ScrubNow(PrincipalToken Token, ShardKind Kind, int Shard) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>What one scrub pass found (every finding is also logged once, counted and audited by the node).</summary>
    /// <param name="Chain">The shard's chain id.</param>
    /// <param name="Records">Records verified.</param>
    /// <param name="Bytes">Bytes read.</param>
    /// <param name="Findings">The damage found, each naming store, table, key (and seq for audit).</param>
    public sealed record ScrubReport(string Chain, long Records, long Bytes, Integrity.IntegrityFinding[] Findings) : IReply;

    /// <summary>Tells a shard to rotate its data key (<c>keys:admin</c>). Reply: <see cref="KeyRotated"/> or <see cref="ShardFailed"/>.</summary>
    public sealed record RotateKey(PrincipalToken Token, ShardKind Kind, int Shard, string Reason, bool OnlyIfDue) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The shard's key state after a rotation request; <see cref="Rotated"/> is false when not due.</summary>
    public sealed record KeyRotated(ShardKind Kind, int Shard, bool Rotated, int ActiveVersion, string[] Events) : IReply;

    /// <summary>Asks a shard for its schema: version, the steps it has still to run, its history (<c>system:read</c>). Reply: <see cref="SchemaStatus"/> or <see cref="ShardFailed"/>.</summary>
    public sealed record GetSchemaStatus(PrincipalToken Token, ShardKind Kind, int Shard) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>One row of a shard's <c>schema_history</c>.</summary>
    /// <param name="Sequence">The row's number (1 = the file's creation).</param>
    /// <param name="FromVersion">Version before (0 for the creation).</param>
    /// <param name="ToVersion">Version after.</param>
    /// <param name="Description">What the step did.</param>
    /// <param name="At">When it committed.</param>
    public sealed record SchemaStep(long Sequence, int FromVersion, int ToVersion, string Description, DateTimeOffset At);

    /// <summary>A shard's schema state.</summary>
    /// <param name="Kind">The shard kind.</param>
    /// <param name="Shard">The shard number.</param>
    /// <param name="Chain">Its chain id.</param>
    /// <param name="Version">The schema version its file is at.</param>
    /// <param name="TargetVersion">The version this code migrates it to.</param>
    /// <param name="Pending">The steps it has still to run; while any is pending the shard serves no data (<c>storage.migration_pending</c>).</param>
    /// <param name="History">Its <c>schema_history</c>, oldest first.</param>
    public sealed record SchemaStatus(ShardKind Kind, int Shard, string Chain, int Version, int TargetVersion, Integrity.PendingMigration[] Pending, SchemaStep[] History) : IReply;

    /// <summary>
    /// Runs the shard's pending schema steps up to <paramref name="TargetVersion"/>, each in one
    /// transaction with its history row and its <c>schema.migrate</c> audit record. Sent by the
    /// backup coordinator as its node (<c>audit:write</c>) once the rehearsal gate passed; the
    /// person who asked and the rehearsal (or override reason) travel in <paramref name="Principal"/>
    /// and <paramref name="Detail"/>, and go into the audit record. Reply: <see cref="SchemaMigrated"/> or <see cref="ShardFailed"/>.
    /// </summary>
    public sealed record MigrateSchema(PrincipalToken Token, ShardKind Kind, int Shard, int TargetVersion, string Principal, string Detail) : IShardControl
    {
        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>The shard's schema after a <see cref="MigrateSchema"/>: the steps applied now (none when it was current).</summary>
    public sealed record SchemaMigrated(ShardKind Kind, int Shard, string Chain, int FromVersion, int Version, SchemaStep[] Applied) : IReply;

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
    public sealed record CommandBatchReplies(IForgeOneMessage[] Replies) : IReply;

    /// <summary>
    /// Hand-off stop message (the sharding <c>handOffStopMessage</c>) and passivation message:
    /// flush buffered writes, close the file, stop. Internal: a shard obeys it only from an actor
    /// of its own node (its sharding parent, the hand-off stopper, a local test), never from
    /// another node.
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
