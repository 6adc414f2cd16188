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

/// <summary>One shard's data key after an on-demand rotation.</summary>
public sealed record ShardKeyRotationView(string Shard, bool Rotated, int ActiveVersion, string[] Events);
