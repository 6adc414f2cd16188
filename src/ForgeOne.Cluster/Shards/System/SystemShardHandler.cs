using System.Buffers.Binary;
using System.Security.Cryptography;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Shards.System;

/// <summary>
/// The system shard: cluster-wide facts that must survive every node (shard counts, the
/// bootstrap admin key hash), versioned settings and metadata, the snapshot catalog and metrics
/// (see <c>SystemShardHandler.Store.cs</c>). Every value is encrypted like every other record.
/// </summary>
public sealed partial class SystemShardHandler : IShardHandler
{
    /// <summary>Permission for cluster administration.</summary>
    public const string AdminPermission = Permissions.SystemWrite;

    private static readonly byte[] ShardCountsKey = "cluster/shard_counts"u8.ToArray();
    private static readonly byte[] BootstrapKeyKey = "auth/bootstrap_admin_key_sha256"u8.ToArray();

    /// <inheritdoc />
    public ShardKind Kind => ShardKind.System;

    /// <inheritdoc />
    public Admission Admit(IShardOperation operation, ShardContext context)
    {
        if (operation is RecordIntegrityEvent integrity)
        {
            return AdmitIntegrityEvent(integrity, context);
        }

        var (action, error) = operation switch
        {
            RecordShardCounts c => ("system.shard_counts", c.Logs < 1 || c.Events < 1 || c.Blobs < 1 || Math.Max(c.Logs, Math.Max(c.Events, c.Blobs)) > RecordId.MaxShards
                ? new ForgeOneError(ErrorCodes.InvalidConfiguration, "Shard counts must be 1..1024.")
                : null),
            RegisterBootstrapKey k => ("system.bootstrap_key", k.Sha256 is { Length: 32 } ? null : new ForgeOneError(ErrorCodes.InvalidArgument, "A SHA-256 hash is 32 bytes.")),
            VerifyBootstrapKey v => ("system.bootstrap_key_verify", v.Sha256 is { Length: 32 } ? null : new ForgeOneError(ErrorCodes.InvalidArgument, "A SHA-256 hash is 32 bytes.")),
            _ when AdmitStore(operation, context.Limits) is { } store => store,
            _ when AdmitResidency(operation) is { } residency => residency,
            _ => ("system.unknown", new ForgeOneError(ErrorCodes.InvalidArgument, $"{operation.GetType().Name} is not a system operation.")),
        };
        if (error is not null)
        {
            return Admission.Reject(action, context.ResourcePrefix, error);
        }

        // Queries read (system:read); every command changes cluster state (system:write), and
        // where data may live is decided by admins only (residency:admin: operators hold
        // system:* but not this).
        var permission = operation switch
        {
            SetResidency => Permissions.ResidencyAdmin,
            RecordBackupEvent { Keys: true } => Permissions.KeysAdmin,
            RecordBackupEvent => Permissions.BackupAdmin,
            IShardQuery => Permissions.SystemRead,
            _ => AdminPermission,
        };
        var decision = operation.Caller is null
            ? new AccessDecision(false, "no principal")
            : context.Security.Authorize(operation.Caller, permission, new ShardResource("system", null, null, null));
        var detail = operation is RecordBackupEvent recorded ? recorded.Detail : ResidencyDetail(operation);
        var resource = operation is RecordBackupEvent { Snapshot: { } snapshot } ? $"{context.ResourcePrefix}/snapshots/{snapshot.Id}" : context.ResourcePrefix;
        return decision.Allowed ? Admission.Allow(action, resource, detail) : Admission.Deny(action, resource, decision.Reason);
    }

    // The event is the audit record itself: its action and resource are the finding's, not
    // the shard's generic ones, and only the node (system:write) records them.
    private static Admission AdmitIntegrityEvent(RecordIntegrityEvent e, ShardContext context)
    {
        var valid = e.Action is { Length: > 0 and <= 100 } && e.Resource is { Length: > 0 and <= 1000 } && e.Detail is { Length: <= 10_000 }
            && !e.Action.Any(char.IsControl) && !e.Resource.Any(char.IsControl);
        if (!valid)
        {
            return Admission.Reject("system.integrity_event", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, "An integrity event has an action (1..100), a resource (1..1000) and a detail (0..10000 characters), no control characters."));
        }

        var decision = e.Caller is null
            ? new AccessDecision(false, "no principal")
            : context.Security.Authorize(e.Caller, AdminPermission, new ShardResource("system", null, null, null));
        return decision.Allowed ? Admission.Allow(e.Action, e.Resource, e.Detail) : Admission.Deny(e.Action, e.Resource, decision.Reason);
    }

    /// <inheritdoc />
    public object Apply(IWriteTransaction txn, IShardCommand command, ShardContext context)
    {
        switch (command)
        {
            case RecordIntegrityEvent e:
                return new IntegrityEventRecorded(e.Action, e.Resource);
            case RecordShardCounts counts:
                {
                    var stored = Get(txn, ShardCountsKey, context);
                    if (stored is null)
                    {
                        var value = new byte[12];
                        BinaryPrimitives.WriteInt32BigEndian(value, counts.Logs);
                        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(4), counts.Events);
                        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(8), counts.Blobs);
                        Put(txn, ShardCountsKey, value, context);
                        return new ShardCountsAccepted(counts.Logs, counts.Events, counts.Blobs, true);
                    }

                    var (logs, events, blobs) = (BinaryPrimitives.ReadInt32BigEndian(stored), BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(4)), BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(8)));
                    if ((logs, events, blobs) != (counts.Logs, counts.Events, counts.Blobs))
                    {
                        throw new ForgeOneException(ErrorCodes.ShardCountMismatch,
                            $"This node is configured with shard counts logs={counts.Logs} events={counts.Events} blobs={counts.Blobs}, but the cluster was created with logs={logs} events={events} blobs={blobs}. Shard counts are fixed for a cluster's life: set ForgeOne:ShardCounts to the recorded values.");
                    }

                    return new ShardCountsAccepted(logs, events, blobs, false);
                }

            case RegisterBootstrapKey key:
                {
                    if (Get(txn, BootstrapKeyKey, context) is not null)
                    {
                        return new BootstrapKeyRegistered(false);
                    }

                    Put(txn, BootstrapKeyKey, key.Sha256, context);
                    return new BootstrapKeyRegistered(true);
                }

            case SetResidency residency:
                return ApplyResidency(txn, residency, context);

            default:
                return ApplyStore(txn, command, context)
                    ?? throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{command.GetType().Name} is not a system command.");
        }
    }

    /// <inheritdoc />
    public object Read(IReadTransaction txn, IShardQuery query, ShardContext context) => query switch
    {
        GetResidencyDirectory => ReadResidency(txn, context),
        VerifyBootstrapKey verify => new BootstrapKeyVerified(Get(txn, BootstrapKeyKey, context) is { } stored
            && CryptographicOperations.FixedTimeEquals(stored, verify.Sha256)),
        _ => ReadStore(txn, query, context) ?? new SystemFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"{query.GetType().Name} is not a system query.")),
    };

    /// <inheritdoc />
    public object Fail(ForgeOneError error) => new SystemFailed(error);

    private static byte[]? Get(IReadTransaction txn, byte[] key, ShardContext context) =>
        txn.Get(Tables.Metadata, key) is { } value ? context.Security.Decrypt(Tables.Metadata, key, value) : null;

    private static void Put(IWriteTransaction txn, byte[] key, byte[] value, ShardContext context) =>
        txn.Put(Tables.Metadata, key, context.Security.Encrypt(Tables.Metadata, key, value));
}
