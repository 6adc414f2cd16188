using System.Buffers.Binary;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Shards.System;

/// <summary>
/// The system shard: cluster-wide facts that must survive every node (shard counts, the
/// API-key store, see <c>SystemShardHandler.ApiKeys.cs</c>), versioned settings and metadata, the snapshot catalog and metrics
/// (see <c>SystemShardHandler.Store.cs</c>). Every value is encrypted like every other record.
/// </summary>
public sealed partial class SystemShardHandler : IShardHandler
{
    /// <summary>Permission for cluster administration.</summary>
    public const string AdminPermission = Permissions.SystemWrite;

    private static readonly byte[] ShardCountsKey = "cluster/shard_counts"u8.ToArray();
    // Where clusters created before the API-key store kept the bootstrap key's SHA-256; migrated
    // into api_keys by the first RegisterBootstrapKey that presents the same key.
    private static readonly byte[] BootstrapKeyKey = "auth/bootstrap_admin_key_sha256"u8.ToArray();

    /// <inheritdoc />
    public ShardKind Kind => ShardKind.System;

    /// <inheritdoc />
    public Admission Admit(IShardOperation operation, Principal principal, ShardContext context)
    {
        if (operation is RecordIntegrityEvent integrity)
        {
            return AdmitIntegrityEvent(integrity, principal, context);
        }

        if (AdmitApiKeys(operation, principal, context) is { } keys)
        {
            return keys;
        }

        var (action, error) = operation switch
        {
            RecordShardCounts c => ("system.shard_counts", ValidateCounts(c.Logs, c.Events, c.Blobs)),
            CheckShardCounts c => ("system.shard_counts_check", ValidateCounts(c.Logs, c.Events, c.Blobs)),
            RecordAudit r => (Printable(r.Action, 128), ValidateRecordAudit(r)),
            _ when AdmitStore(operation, context.Limits) is { } store => store,
            _ when AdmitResidency(operation) is { } residency => residency,
            _ => ("system.unknown", new ForgeOneError(ErrorCodes.InvalidArgument, $"{operation.GetType().Name} is not a system operation.")),
        };
        // Queries read (system:read); commands change cluster state (system:write); where data
        // may live is decided by admins only (residency:admin: operators hold system:* but not
        // this). MessagePermissions says which is which.
        var detail = operation is RecordBackupEvent recorded ? recorded.Detail : ResidencyDetail(operation);
        var resource = operation is RecordBackupEvent { Snapshot: { } snapshot } ? $"{context.ResourcePrefix}/snapshots/{snapshot.Id}" : context.ResourcePrefix;
        var admission = ShardAccess.Admit(context, principal, operation, new ResourceDescriptor("system"), action, resource, detail, error);
        return !admission.Admitted ? admission : operation switch
        {
            // The command's own audit record is the record asked for: the subject's, with the
            // outcome decided elsewhere, and the submitting node named in the detail.
            RecordAudit record => new Admission(admission.Action, Printable(record.Resource, 512), null, record.Outcome, $"{Printable(record.Detail, 2048)}; recorded by {principal.Id}") { Subject = Printable(record.Subject, 256) },
            RecordBackupEvent e => new Admission(admission.Action, resource, null, e.Outcome, $"{detail}; recorded by {principal.Id}") { Subject = Printable(e.Subject, 256) },
            _ => admission,
        };
    }

    // The event is the audit record itself: its action and resource are the finding's, not
    // the shard's generic ones, and only the node (system:write) records them.
    private static Admission AdmitIntegrityEvent(RecordIntegrityEvent e, Principal principal, ShardContext context)
    {
        var valid = e.Action is { Length: > 0 and <= 100 } && e.Resource is { Length: > 0 and <= 1000 } && e.Detail is { Length: <= 10_000 }
            && !e.Action.Any(char.IsControl) && !e.Resource.Any(char.IsControl);
        if (!valid)
        {
            return Admission.Reject("system.integrity_event", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, "An integrity event has an action (1..100), a resource (1..1000) and a detail (0..10000 characters), no control characters."));
        }

        var decision = ShardAccess.Decide(context, principal, e, new ResourceDescriptor("system"));
        return decision.Allowed ? Admission.Allow(e.Action, e.Resource, e.Detail) : Admission.Deny(e.Action, e.Resource, decision.Reason);
    }

    /// <inheritdoc />
    public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context)
    {
        switch (command)
        {
            case RecordIntegrityEvent e:
                return new IntegrityEventRecorded(e.Action, e.Resource);
            case RecordAudit record:
                return new AuditRecorded(record.Action);

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

            case SetResidency residency:
                return ApplyResidency(txn, residency, principal, context);

            default:
                return ApplyStore(txn, command, principal, context)
                    ?? ApplyApiKeys(txn, command, principal, context)
                    ?? throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{command.GetType().Name} is not a system command.");
        }
    }

    /// <inheritdoc />
    public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context) =>
        query switch
        {
            GetResidencyDirectory => ReadResidency(txn, context),
            CheckShardCounts check => CheckCounts(txn, check, context),
            _ => ReadStore(txn, query, context) ?? ReadApiKeys(txn, query, principal, context) ?? new SystemFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"{query.GetType().Name} is not a system query.")),
        };

    /// <inheritdoc />
    public object Fail(ForgeOneError error) => new SystemFailed(error);

    private static object CheckCounts(IReadTransaction txn, CheckShardCounts check, ShardContext context)
    {
        if (Get(txn, ShardCountsKey, context) is not { } stored)
        {
            return new SystemFailed(new ForgeOneError(ErrorCodes.NotFound, "No storage node has recorded the cluster's shard counts yet."));
        }

        var (logs, events, blobs) = (BinaryPrimitives.ReadInt32BigEndian(stored), BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(4)), BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(8)));
        return (logs, events, blobs) == (check.Logs, check.Events, check.Blobs)
            ? new ShardCountsAccepted(logs, events, blobs, false)
            : new SystemFailed(new ForgeOneError(ErrorCodes.ShardCountMismatch,
                $"This member is configured with shard counts logs={check.Logs} events={check.Events} blobs={check.Blobs}, but the cluster was created with logs={logs} events={events} blobs={blobs}."));
    }

    private static ForgeOneError? ValidateCounts(int logs, int events, int blobs) =>
        logs < 1 || events < 1 || blobs < 1 || Math.Max(logs, Math.Max(events, blobs)) > RecordId.MaxShards
            ? new ForgeOneError(ErrorCodes.InvalidConfiguration, $"Shard counts must be 1..{RecordId.MaxShards}.")
            : null;

    private static ForgeOneError? ValidateRecordAudit(RecordAudit r) =>
        string.IsNullOrWhiteSpace(r.Subject) || string.IsNullOrWhiteSpace(r.Action) || string.IsNullOrWhiteSpace(r.Resource) || r.Detail is null
            ? Invalid("An audit record needs a subject, an action, a resource and a detail.")
            : !Enum.IsDefined(r.Outcome) ? Invalid($"Audit outcome {(int)r.Outcome} is unknown.") : null;

    // Audit fields stay printable and bounded whatever a submitter sends.
    private static string Printable(string? value, int max) =>
        value is null ? "<null>" : new string([.. value.Take(max).Select(c => char.IsControl(c) ? '?' : c)]);

    private static byte[]? Get(IReadTransaction txn, byte[] key, ShardContext context) =>
        txn.Get(Tables.Metadata, key) is { } value ? context.Security.Decrypt(Tables.Metadata, key, value) : null;

    private static void Put(IWriteTransaction txn, byte[] key, byte[] value, ShardContext context) =>
        txn.Put(Tables.Metadata, key, context.Security.Encrypt(Tables.Metadata, key, value));
}
