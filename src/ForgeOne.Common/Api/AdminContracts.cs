namespace ForgeOne.Common.Api;

// Shapes of the operator endpoints the `forgeone` CLI drives (cluster membership, sharding
// statistics, audit key, single-shard key rotation). Same conventions as ApiContracts.cs.

/// <summary>
/// A cluster membership or reachability change as this edge node observed it (<c>GET /v1/cluster/events</c>).
/// <paramref name="Type"/> is Akka's event name: <c>MemberJoined</c>, <c>MemberUp</c>, <c>MemberWeaklyUp</c>,
/// <c>MemberLeft</c>, <c>MemberExited</c>, <c>MemberDowned</c>, <c>MemberRemoved</c>, <c>UnreachableMember</c>,
/// <c>ReachableMember</c> or <c>LeaderChanged</c> (whose <paramref name="Address"/> is the new leader, empty when none).
/// </summary>
public sealed record ClusterEventView(string Type, string Address, string Status, string[] Roles, DateTimeOffset Time);

/// <summary>The member a membership operation is about; <paramref name="Address"/> null means the edge node itself (leave).</summary>
public sealed record MembershipInput(string? Address = null);

/// <summary>A membership operation was requested: <paramref name="Action"/> (<c>leave</c>, <c>down</c>, <c>join</c>) for <paramref name="Addresses"/>.</summary>
public sealed record MembershipChange(string Action, string[] Addresses);

/// <summary>One shard of a region on one node and the entities it runs.</summary>
public sealed record RegionShardView(string Shard, int Entities);

/// <summary>The shards one node hosts for a region.</summary>
public sealed record RegionNodeView(string Node, RegionShardView[] Shards);

/// <summary>
/// A shard region's distribution (from <c>GetClusterShardingStats</c>): shards and entities per
/// node. <paramref name="NotAnswered"/> names every node expected to host the region that did not
/// answer within the request timeout, so a missing node is never silently left out.
/// </summary>
public sealed record RegionStatsView(string Region, RegionNodeView[] Nodes, string[] NotAnswered);

/// <summary>The public key the audit seals verify under (SubjectPublicKeyInfo PEM) and its fingerprint.</summary>
public sealed record AuditPublicKeyView(string Pem, string Fingerprint);

/// <summary>
/// One audit record as exported: the fields for people (hashes in hex, the outcome by name) and
/// <paramref name="Encoded"/>, the stored record (base64) that the chain hashes, whatever its format.
/// </summary>
public sealed record AuditRecordView(long Seq, DateTimeOffset Time, string Principal, string Action, string Resource, string Outcome, string DetailHash, string PrevHash, string Hash, string Encoded);

/// <summary>One seal as the sealer stored it (base64 of the signed encoding), for offline verification.</summary>
public sealed record EncodedSealView(long Number, string Encoded);

/// <summary>The newest seals in their signed encoding, oldest first, and how many exist.</summary>
public sealed record EncodedSealList(EncodedSealView[] Seals, long Total);

/// <summary>
/// A page of one shard's audit chain: <paramref name="ChainId"/> is the chain's id (its genesis
/// hash and seal heads use it, e.g. <c>logs-0003</c>); <paramref name="Next"/> is the seq to ask
/// after for the next page, null at the committed head.
/// </summary>
public sealed record AuditChainPage(string Shard, string ChainId, AuditRecordView[] Records, long Head, long? Next);

/// <summary>One shard's data key after an on-demand rotation.</summary>
public sealed record ShardKeyRotationView(string Shard, bool Rotated, int ActiveVersion, string[] Events);
