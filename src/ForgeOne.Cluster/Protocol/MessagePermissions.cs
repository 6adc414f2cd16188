using ForgeOne.Cluster.Compliance;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.BackupProtocol;
using static ForgeOne.Cluster.Protocol.BlobProtocol;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.KeyRotationProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;
using static ForgeOne.Cluster.Protocol.SealerProtocol;
using static ForgeOne.Cluster.Protocol.ShardProtocol;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Protocol;

/// <summary>How a shard or singleton treats one message type that may arrive from another node.</summary>
public abstract record MessageAccess
{
    private MessageAccess()
    {
    }

    /// <summary>Authenticated by its token, then authorized against <paramref name="Name"/> and audited, refusals too.</summary>
    public sealed record Permission(string Name) : MessageAccess;

    /// <summary>
    /// Authenticated by its token and audited, with no permission beyond that: a fact every member
    /// needs to route (the residency directory, the shard counts).
    /// </summary>
    public sealed record AnyPrincipal : MessageAccess
    {
        /// <summary>The instance.</summary>
        public static readonly AnyPrincipal Instance = new();
    }

    /// <summary>
    /// A request that pays or ends a stream opened by an authorized request (subscription flow
    /// control): accepted only from the stream's own subscriber, carries no data.
    /// </summary>
    public sealed record StreamControl : MessageAccess
    {
        /// <summary>The instance.</summary>
        public static readonly StreamControl Instance = new();
    }

    /// <summary>
    /// An envelope of requests (a client's coalesced single writes): the envelope itself grants
    /// nothing; each request inside is authenticated, authorized and audited on its own.
    /// </summary>
    public sealed record Envelope : MessageAccess
    {
        /// <summary>The instance.</summary>
        public static readonly Envelope Instance = new();
    }

    /// <summary>Never obeyed when it comes from another node: <paramref name="Why"/>.</summary>
    public sealed record Internal(string Why) : MessageAccess;

    /// <summary>A reply: sent back to whoever asked; no shard or singleton acts on one.</summary>
    public sealed record Reply : MessageAccess
    {
        /// <summary>The instance.</summary>
        public static readonly Reply Instance = new();
    }

    /// <summary>The message type is not in the list: refused everywhere (and a test fails).</summary>
    public sealed record Unlisted : MessageAccess
    {
        /// <summary>The instance.</summary>
        public static readonly Unlisted Instance = new();
    }
}

/// <summary>
/// The one list of what every protocol message needs. Shard handlers and singletons take the
/// permission they check from here, so this table is what is enforced, not documentation of it;
/// a test walks every <see cref="IForgeOneMessage"/> type and fails on one that is
/// <see cref="MessageAccess.Unlisted"/>, and the authorization matrix test checks the behaviour
/// of every request for every role.
/// </summary>
/// <remarks>
/// Messages Akka itself exchanges between members (cluster gossip, sharding coordinator and
/// region traffic, singleton hand-over, Distributed Data) are not ours to authorize: they are
/// accepted only from members, and membership is what mutual TLS between nodes protects. What a
/// member can do with them is disturb placement (rebalance, hand-off), not read or change data.
/// </remarks>
public static class MessagePermissions
{
    /// <summary>What <paramref name="message"/> needs (instances decide where a flag changes it, e.g. a forced offset commit).</summary>
    public static MessageAccess Of(object message) => message switch
    {
        // Logs.
        AppendLog or AppendLogBatch or CreateCheckpoint => Needs(Permissions.LogsWrite),
        GetLog or ReadLogRange or QueryLogs or CountLogs or ListCheckpoints or ReplayLogs or GetLogTopicPolicy => Needs(Permissions.LogsRead),
        SetLogTopicPolicy or SweepLogRetention => Needs(Permissions.SystemWrite),

        // Events.
        CreateTopic or SetTopicLegalHold => Needs(Permissions.EventsAdmin),
        SweepEventRetention => Needs(Permissions.SystemWrite),
        PublishEvent or PublishEvents => Needs(Permissions.EventsWrite),
        DescribeTopic or ListTopics or QueryEvents or GetEvent or GetConsumerOffset or Subscribe => Needs(Permissions.EventsRead),
        CommitConsumerOffset c => Needs(c.Force ? Permissions.EventsWrite : Permissions.EventsRead), // a rewind re-delivers: a write decision
        SubscriptionAck or CancelSubscription => MessageAccess.StreamControl.Instance,

        // Blobs.
        BeginBlobUpload or PutBlobChunk or CompleteBlobUpload => Needs(Permissions.BlobsWrite),
        DeleteBlob => Needs(Permissions.BlobsDelete),
        GetBlob or ReadBlobChunk or ReadBlobRange or FindBlobs => Needs(Permissions.BlobsRead),
        SweepAbandonedUploads => Needs(Permissions.SystemWrite),

        // System shard.
        RecordShardCounts or PutSetting or AddSnapshot or RecordMetrics or SweepMetrics => Needs(Permissions.SystemWrite),
        GetSetting or GetSettingHistory or ListSnapshots or GetSnapshot or GetSnapshotHistory or QueryMetrics => Needs(Permissions.SystemRead),
        RegisterBootstrapKey => Needs(Permissions.ApiKeyBootstrap),
        CreateApiKey or ListApiKeys or RevokeApiKey => Needs(Permissions.ApiKeyAdmin),
        GetApiKeyCredential or GetRevokedApiKeys => Needs(Permissions.ApiKeyVerify), // and the node role: salts and hashes go to nodes only
        SetResidency => Needs(Permissions.ResidencyAdmin),
        GetResidencyDirectory or CheckShardCounts => MessageAccess.AnyPrincipal.Instance,
        RecordAudit or RecordBackupEvent => Needs(Permissions.AuditWrite),
        RecordIntegrityEvent => Needs(Permissions.SystemWrite),

        // Every shard.
        CommandBatch => MessageAccess.Envelope.Instance,
        GetShardStats or GetSchemaStatus => Needs(Permissions.SystemRead),
        MigrateSchema => Needs(Permissions.AuditWrite), // from the backup coordinator (a node), after its rehearsal gate
        GetAuditHead or ScrubNow => Needs(Permissions.AuditRead),
        ReadAudit => Needs(Permissions.AuditExport),
        AcceptIncarnation => Needs(Permissions.AuditWrite), // from the sealer (a node); the shard also checks the seal's signature
        RotateKey => Needs(Permissions.KeysAdmin),
        HandOff => new MessageAccess.Internal("the sharding hand-off and passivation stop message: obeyed only from an actor of the shard's own node"),

        // Singletons.
        SealNow => Needs(Permissions.AuditRead),
        GetSealHistory or SignEvidenceManifest => Needs(Permissions.AuditExport),
        StartIncarnation => Needs(Permissions.BackupAdmin), // a restore's authorized rewind
        GetAuditPublicKey => MessageAccess.AnyPrincipal.Instance,
        RotateAll => Needs(Permissions.KeysAdmin),
        GetKeyEventHistory => Needs(Permissions.AuditRead),
        SetBackupSchedule or GetBackupSchedule or RunBackup or AwaitOperation or ListBackups or ShowBackup or VerifyBackup or RestoreBackup
            or ListDataVersions or DiscardVersion or RunDrill or ListDrills or ShowDrill or GetBackupProgress => Needs(Permissions.BackupAdmin),
        BackupKeys or VerifyKeyBackup or ListKeyBackups => Needs(Permissions.KeysAdmin), // key backups carry the KEK
        BackupShard or SuspendShard or ResumeShard => Needs(Permissions.BackupAdmin),
        RehearseSchema or MigrateCluster => Needs(Permissions.BackupAdmin),
        GetClusterSchemaStatus => Needs(Permissions.SystemRead),
        RetentionSweeper.SweepNow => Needs(Permissions.SystemWrite),

        IReply => MessageAccess.Reply.Instance,
        _ => MessageAccess.Unlisted.Instance,
    };

    /// <summary>The permission <paramref name="message"/> is authorized against, or null when it needs none (not a <see cref="MessageAccess.Permission"/>).</summary>
    public static string? PermissionOf(object message) => Of(message) is MessageAccess.Permission p ? p.Name : null;

    private static MessageAccess.Permission Needs(string permission) => new(permission);
}
