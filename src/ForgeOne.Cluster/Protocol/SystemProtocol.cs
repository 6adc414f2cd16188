using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Operations on the single system shard (shard 0 of kind system).</summary>
public static class SystemProtocol
{
    /// <summary>
    /// Records the cluster's shard counts on first start, or checks them against the recorded
    /// ones. Reply: <see cref="ShardCountsAccepted"/> or <see cref="SystemFailed"/> with
    /// <see cref="ErrorCodes.ShardCountMismatch"/>.
    /// </summary>
    public sealed record RecordShardCounts(PrincipalToken Token, int Logs, int Events, int Blobs) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// Records an integrity event in the system store's audit chain: a tamper finding on some
    /// shard (<c>audit.chain_broken</c>, <c>crypto.tampered</c>, <c>audit.seal_invalid</c>, ...) or
    /// an authorized rewind (<c>audit.incarnation</c>). The record is the whole effect: action =
    /// <paramref name="Action"/>, resource = <paramref name="Resource"/> (e.g.
    /// <c>integrity/logs-0003/audit/0000000000000005/Deleted</c>), detail = <paramref name="Detail"/>.
    /// Sent by the node itself (<c>system:write</c>). Reply: <see cref="IntegrityEventRecorded"/>.
    /// </summary>
    public sealed record RecordIntegrityEvent(PrincipalToken Token, string Action, string Resource, string Detail) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// Checks a node's shard counts against the recorded ones without recording anything: what a
    /// client member (no <c>system:write</c>) runs when it connects; any authenticated principal
    /// may. Reply: <see cref="ShardCountsAccepted"/> (never <c>Recorded</c>) or <see cref="SystemFailed"/>
    /// (<see cref="ErrorCodes.ShardCountMismatch"/>, or <see cref="ErrorCodes.NotFound"/> before any storage node recorded them).
    /// </summary>
    public sealed record CheckShardCounts(PrincipalToken Token, int Logs, int Events, int Blobs) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>The integrity event is in the system store's audit chain.</summary>
    public sealed record IntegrityEventRecorded(string Action, string Resource) : IReply;

    /// <summary>
    /// Appends one audit record for a decision made outside a shard (a singleton refusing or
    /// admitting a request) to the system shard's chain: the command's own audit record is that
    /// record, naming <paramref name="Subject"/> as its principal. Only principals holding
    /// <c>audit:write</c> (the cluster's nodes) may; the detail names the submitter, so no record is
    /// anonymous. Reply: <see cref="AuditRecorded"/> once committed.
    /// </summary>
    /// <param name="Token">The submitter (a node).</param>
    /// <param name="Subject">Whose request was decided (as its verified token named it, or <c>&lt;unauthenticated&gt;</c>).</param>
    /// <param name="Action">Audit action, e.g. <c>audit.seal_now</c>.</param>
    /// <param name="Resource">Audit resource, e.g. <c>singleton/audit-sealer</c>.</param>
    /// <param name="Outcome">Success, Denied or Failed.</param>
    /// <param name="Detail">Reason or parameters.</param>
    public sealed record RecordAudit(PrincipalToken Token, string Subject, string Action, string Resource, AuditOutcome Outcome, string Detail) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>The record of <paramref name="Action"/> was committed to the system shard's chain.</summary>
    public sealed record AuditRecorded(string Action) : IReply;

    /// <summary>The counts match (or were just recorded, <paramref name="Recorded"/>).</summary>
    public sealed record ShardCountsAccepted(int Logs, int Events, int Blobs, bool Recorded) : IReply;

    /// <summary>
    /// Makes the bootstrap admin API key a record of the API-key store (id
    /// <see cref="ApiKeySecret.BootstrapId"/>, role admin) unless one is already there. The node
    /// writes the key file first and sends only a salt and the salted hash
    /// (<see cref="ApiKeySecret.Hash"/>); <paramref name="LegacySha256"/> is the key's plain
    /// SHA-256, which a cluster created before the store kept instead: when it matches, that
    /// entry is migrated into the store (and removed). Sent by the node (<c>apikey:bootstrap</c>).
    /// Reply: <see cref="BootstrapKeyRegistered"/>.
    /// </summary>
    public sealed record RegisterBootstrapKey(PrincipalToken Token, byte[] Salt, byte[] Hash, byte[] LegacySha256) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// <paramref name="Created"/>: this key is now the bootstrap key (stored or migrated by this
    /// request, or it already was). False: another bootstrap key exists; this one authenticates nobody.
    /// </summary>
    public sealed record BootstrapKeyRegistered(bool Created, bool Migrated = false) : IReply;

    /// <summary>
    /// Stores a new API key (<c>apikey:admin</c> for the key's tenant, and the creator must be
    /// allowed to grant every role it lists: no key beyond its creator's own roles, regions or
    /// clearance). The secret never reaches the shard: the edge generates the key and sends the
    /// id, a salt and the salted hash. Reply: <see cref="ApiKeyCreated"/>.
    /// </summary>
    public sealed record CreateApiKey(PrincipalToken Token, string Id, string Name, string[] Roles, string? Tenant, string[] Regions, int Clearance, DateTimeOffset? ExpiresAt, byte[] Salt, byte[] Hash) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// Every API key the caller administers (<c>apikey:admin</c> for its tenant), without salt or
    /// hash. Reply: <see cref="ApiKeyList"/>.
    /// </summary>
    public sealed record ListApiKeys(PrincipalToken Token) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// Revokes an API key (<c>apikey:admin</c> for its tenant); revoking a revoked key changes
    /// nothing and answers the record. Reply: <see cref="ApiKeyRevoked"/>; storage.not_found for an
    /// unknown id. Send it through <c>ForgeOneCluster.RevokeApiKeyAsync</c>, which also publishes
    /// the revocation to every node.
    /// </summary>
    public sealed record RevokeApiKey(PrincipalToken Token, string Id, string? Reason) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// The stored salt and hash of one key, for the node-local issuer that checks a presented key
    /// (only the cluster's nodes: <c>apikey:verify</c> and the node role). Reply:
    /// <see cref="ApiKeyCredential"/>, or storage.not_found.
    /// </summary>
    public sealed record GetApiKeyCredential(PrincipalToken Token, string Id) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// Credential ids revoked at or after <paramref name="Since"/> (the node's start-up seed of its
    /// revoked list: tokens issued before a revocation live at most a token lifetime). Nodes only.
    /// Reply: <see cref="RevokedApiKeys"/>.
    /// </summary>
    public sealed record GetRevokedApiKeys(PrincipalToken Token, DateTimeOffset Since) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>An API key as listed: everything but its secret, salt and hash.</summary>
    public sealed record ApiKeyInfo(string Id, string Name, string[] Roles, string? Tenant, string[] Regions, int Clearance, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedBy, string? RevokeReason);

    /// <summary>The key was stored.</summary>
    public sealed record ApiKeyCreated(ApiKeyInfo Key) : IReply;

    /// <summary>The keys, by id.</summary>
    public sealed record ApiKeyList(ApiKeyInfo[] Keys) : IReply;

    /// <summary>The key is revoked (<paramref name="Changed"/>: by this request).</summary>
    public sealed record ApiKeyRevoked(ApiKeyInfo Key, bool Changed) : IReply;

    /// <summary>A key's record with its salt and hash (node-local issuers only).</summary>
    public sealed record ApiKeyCredential(ApiKeyInfo Key, byte[] Salt, byte[] Hash) : IReply;

    /// <summary>Revoked credential ids and when.</summary>
    public sealed record RevokedApiKeys(ApiKeyInfo[] Keys) : IReply;

    /// <summary>Stores a new version of <paramref name="Key"/> in <c>settings</c> or <c>metadata</c> (history kept, who and when recorded). With <paramref name="ExpectedVersion"/> set, refused with storage.conflict unless the current version matches (0 = must not exist). Reply: <see cref="SettingStored"/>.</summary>
    public sealed record PutSetting(PrincipalToken Token, KeyValueTable Table, string Key, byte[] Value, long? ExpectedVersion = null) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>The current version of a key. Reply: <see cref="CurrentSetting"/>.</summary>
    public sealed record GetSetting(PrincipalToken Token, KeyValueTable Table, string Key) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>Every version of a key, oldest first. Reply: <see cref="SettingHistory"/>.</summary>
    public sealed record GetSettingHistory(PrincipalToken Token, KeyValueTable Table, string Key) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>Records a backup or snapshot in <c>snapshots</c> (re-adding an id updates its status). Reply: <see cref="SnapshotAdded"/>.</summary>
    public sealed record AddSnapshot(PrincipalToken Token, SnapshotInfo Snapshot) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>Snapshot records, by id. Reply: <see cref="SnapshotList"/>.</summary>
    public sealed record ListSnapshots(PrincipalToken Token, int Limit = 1000) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>One snapshot record. Reply: <see cref="SnapshotFound"/> or <see cref="SystemFailed"/> (storage.not_found).</summary>
    public sealed record GetSnapshot(PrincipalToken Token, string Id) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>Every recorded state of a snapshot record, oldest first. Reply: <see cref="SnapshotHistory"/> or <see cref="SystemFailed"/> (storage.not_found).</summary>
    public sealed record GetSnapshotHistory(PrincipalToken Token, string Id) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// Records a backup event (<c>backup.{Event}</c>) of <paramref name="Subject"/> in the system
    /// store's audit chain, with the <paramref name="Outcome"/> the backup coordinator decided
    /// (refusals are recorded as Denied). Only principals holding <c>audit:write</c> (the
    /// cluster's nodes) may; the detail names the submitter. With <paramref name="Snapshot"/>,
    /// also stores that state of the backup, restore or drill as a new version of its
    /// <c>snapshots</c> record. Reply: <see cref="BackupEventRecorded"/>.
    /// </summary>
    public sealed record RecordBackupEvent(PrincipalToken Token, string Subject, string Event, string Detail, SnapshotInfo? Snapshot = null, AuditOutcome Outcome = AuditOutcome.Success) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>The event is in the audit chain (and the snapshot version stored, <paramref name="Version"/> &gt; 0).</summary>
    public sealed record BackupEventRecorded(string Event, long Version) : IReply;

    /// <summary>One recorded state of a snapshot record.</summary>
    public sealed record SnapshotVersionInfo(long Version, DateTimeOffset ChangedAt, string ChangedBy, string Detail, SnapshotInfo Snapshot);

    /// <summary>A snapshot record's states, oldest first.</summary>
    public sealed record SnapshotHistory(string Id, SnapshotVersionInfo[] Versions) : IReply;

    /// <summary>Appends metric samples to <c>metrics</c>. Reply: <see cref="MetricsRecorded"/>.</summary>
    public sealed record RecordMetrics(PrincipalToken Token, MetricPoint[] Samples) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>Samples with <paramref name="From"/> &lt;= time &lt; <paramref name="To"/> (optionally of one metric), oldest first. Reply: <see cref="MetricList"/>.</summary>
    public sealed record QueryMetrics(PrincipalToken Token, DateTimeOffset From, DateTimeOffset To, string? Name = null, int Limit = 10_000) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>Deletes at most <paramref name="MaxEntries"/> samples older than <paramref name="Retention"/>; one audit record with the count. Reply: <see cref="MetricsSwept"/>.</summary>
    public sealed record SweepMetrics(PrincipalToken Token, TimeSpan Retention, int MaxEntries = 1000) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>
    /// Records (or, with <paramref name="Zone"/> null, clears) the residency zone of a topic or a
    /// tenant in the cluster's residency directory (a versioned, audited document in
    /// <c>metadata</c>). A <c>residency:admin</c> decision (admins only). Send it through
    /// <c>ForgeOneCluster.SetResidencyAsync</c>, which also publishes the change to every
    /// node's router. Reply: <see cref="ResidencySet"/>.
    /// </summary>
    /// <param name="Token">Who asks.</param>
    /// <param name="Scope">What <paramref name="Name"/> names.</param>
    /// <param name="Name">The topic or tenant.</param>
    /// <param name="Zone">The zone its data must stay in, or null to clear the entry.</param>
    /// <param name="Reason">Why, for the audit record (e.g. the topic creation that implied it).</param>
    public sealed record SetResidency(PrincipalToken Token, ResidencyScope Scope, string Name, string? Zone, string? Reason = null) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>The whole residency directory. Reply: <see cref="CurrentResidencyDirectory"/>.</summary>
    public sealed record GetResidencyDirectory(PrincipalToken Token) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.System;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => 0;
    }

    /// <summary>What a residency directory entry names.</summary>
    public enum ResidencyScope
    {
        /// <summary>A tenant (<see cref="Principal.Tenant"/>): applies to its callers' logs and events unless the topic has an entry.</summary>
        Tenant = 0,

        /// <summary>A logs topic.</summary>
        LogTopic = 1,

        /// <summary>An events topic.</summary>
        EventTopic = 2,
    }

    /// <summary>
    /// One directory entry. <paramref name="Version"/> is the directory version that last changed
    /// it (versions only grow, so the higher one is the newer wherever two copies meet).
    /// <paramref name="Zone"/> null: the entry was cleared.
    /// </summary>
    public sealed record ResidencyEntry(ResidencyScope Scope, string Name, string? Zone, long Version, DateTimeOffset ChangedAt, string ChangedBy);

    /// <summary>The entry as stored (<see cref="ResidencyEntry.Zone"/> null: cleared).</summary>
    public sealed record ResidencySet(ResidencyEntry Entry) : IReply;

    /// <summary>Every live entry of the directory at <paramref name="Version"/> (0: never written).</summary>
    public sealed record CurrentResidencyDirectory(long Version, ResidencyEntry[] Entries) : IReply;

    /// <summary>The two versioned key-value tables of the system store.</summary>
    public enum KeyValueTable
    {
        /// <summary>Operator settings.</summary>
        Settings = 0,

        /// <summary>Cluster metadata.</summary>
        Metadata = 1,
    }

    /// <summary>One version of a key.</summary>
    public sealed record SettingVersion(string Key, long Version, byte[] Value, DateTimeOffset ChangedAt, string ChangedBy);

    /// <summary>A backup or snapshot record.</summary>
    public sealed record SnapshotInfo(string Id, string Kind, DateTimeOffset CreatedAt, string[] Locations, byte[] Checksum, long Size, Storage.Records.SnapshotStatus Status);

    /// <summary>One metric observation.</summary>
    public sealed record MetricPoint(string Name, DateTimeOffset Time, double Value, Dictionary<string, string> Labels);

    /// <summary>The version was stored.</summary>
    public sealed record SettingStored(SettingVersion Setting) : IReply;

    /// <summary>The current version, or null when the key was never set.</summary>
    public sealed record CurrentSetting(string Key, SettingVersion? Setting) : IReply;

    /// <summary>Every version of a key, oldest first.</summary>
    public sealed record SettingHistory(string Key, SettingVersion[] Versions) : IReply;

    /// <summary>The snapshot record was stored.</summary>
    public sealed record SnapshotAdded(string Id) : IReply;

    /// <summary>Snapshot records.</summary>
    public sealed record SnapshotList(SnapshotInfo[] Snapshots) : IReply;

    /// <summary>One snapshot record.</summary>
    public sealed record SnapshotFound(SnapshotInfo Snapshot) : IReply;

    /// <summary>The samples were stored.</summary>
    public sealed record MetricsRecorded(int Count) : IReply;

    /// <summary>Samples of a metrics query.</summary>
    public sealed record MetricList(MetricPoint[] Samples) : IReply;

    /// <summary>One metrics retention sweep.</summary>
    public sealed record MetricsSwept(int Deleted, bool More) : IReply, IAuditDetail
    {
        /// <inheritdoc />
        public string AuditDetail => $"deleted={Deleted} more={More}";
    }

    /// <summary>A system operation failed.</summary>
    public sealed record SystemFailed(ForgeOneError Error) : IFailureReply;
}
