using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// Every message ForgeOne sends between nodes. The serialization binding maps this interface to
/// <see cref="ForgeOneWireSerializer"/>, which encodes each public implementation by its schema
/// (<see cref="Wire.WireSchema"/>) and decodes only manifests on <see cref="ProtocolTypes"/>'s allow-list.
/// </summary>
public interface IForgeOneMessage;

/// <summary>
/// A message for one storage shard. The extractor routes it to entity <c>"{kind}-{n}"</c> where
/// <c>n</c> is <see cref="ShardNumber"/> when set (get-by-id: the shard is encoded in the id),
/// otherwise the stable hash of <see cref="RoutingKey"/> (topic or blob id).
/// </summary>
public interface IShardMessage : IForgeOneMessage
{
    /// <summary>The kind of shard this message is for.</summary>
    ShardKind Kind { get; }

    /// <summary>Topic (logs, events) or blob id (blobs); null when <see cref="ShardNumber"/> is set.</summary>
    string? RoutingKey { get; }

    /// <summary>An explicit shard number; wins over <see cref="RoutingKey"/>.</summary>
    int? ShardNumber { get; }
}

/// <summary>
/// A request that carries proof of its principal. The receiving shard or singleton verifies
/// <see cref="Token"/> before anything else (signature, expiry, revocation) and runs the policy
/// against the principal the token names, never against anything else the message says.
/// </summary>
public interface IAuthenticated : IForgeOneMessage
{
    /// <summary>The principal token (absent or invalid: refused with <c>auth.unauthenticated</c>).</summary>
    PrincipalToken Token { get; }
}

/// <summary>A client operation: authorized and audited at the shard for the principal its token proves.</summary>
public interface IShardOperation : IShardMessage, IAuthenticated;

/// <summary>An operation that changes the shard: validated and authorized, then applied inside a group commit.</summary>
public interface IShardCommand : IShardOperation;

/// <summary>An operation that only reads: served from a read transaction off the actor thread.</summary>
public interface IShardQuery : IShardOperation;

/// <summary>
/// A message every shard understands whatever its kind (stats, audit head, key rotation),
/// answered by the shard actor itself; authorized and audited like an operation.
/// </summary>
public interface IShardControl : IShardMessage, IAuthenticated;

/// <summary>
/// A reply: sent back to whoever asked (or pushed to a subscriber). It carries no token and
/// routes nowhere; no shard or singleton acts on one.
/// </summary>
public interface IReply : IForgeOneMessage;

/// <summary>A reply that carries a typed failure.</summary>
public interface IFailureReply : IReply
{
    /// <summary>The stable error.</summary>
    Common.ForgeOneError Error { get; }
}

/// <summary>
/// An operation that opens a long-lived stream (an events subscription): the shard actor admits
/// and audits it like any operation, then hands it to the kind's stream actor
/// (<see cref="Shards.IShardStreamHandler"/>) instead of a transaction.
/// </summary>
public interface IShardStreamRequest : IShardOperation;

/// <summary>
/// A message bound to a residency zone: the client-facing router sends it to the zone's shard
/// region (shards hosted only on nodes of region <c>Zone</c>) and refuses it when no such node
/// is up. Null = the default, zone-less region.
/// </summary>
public interface IZoned
{
    /// <summary>The residency zone, or null.</summary>
    string? Zone { get; }
}

/// <summary>
/// A reply whose operation's audit detail is only known after it ran (a sweep's counts): the
/// shard actor records <see cref="AuditDetail"/> instead of the admission's detail.
/// </summary>
public interface IAuditDetail
{
    /// <summary>Detail for the operation's audit record.</summary>
    string AuditDetail { get; }
}

/// <summary>
/// A write that may carry a <see cref="Protocol.RequestId"/>: the owning shard de-duplicates it
/// within its idempotency window and answers a retry with the original outcome (see
/// <see cref="Protocol.RequestId"/>). Null: no de-duplication.
/// </summary>
public interface IIdempotentCommand : IShardCommand
{
    /// <summary>The client's request id, or null.</summary>
    RequestId? RequestId { get; }
}

/// <summary>
/// The success reply of an <see cref="IIdempotentCommand"/>: the record ids it produced, which
/// the shard stores as the request's outcome, and whether this reply is a replay of it.
/// </summary>
public interface IWriteOutcome : IReply
{
    /// <summary>Ids of the records written, in input order.</summary>
    IReadOnlyList<Common.RecordId> OutcomeIds { get; }

    /// <summary>True when the write had already been committed and nothing new was written.</summary>
    bool Replayed { get; }
}
