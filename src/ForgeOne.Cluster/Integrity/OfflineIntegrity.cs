using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// The deep integrity check for offline use (the node that owns the shard must be stopped):
/// the store's own walk (envelopes, <c>shard_meta</c>, <c>schema_history</c> under the record
/// MAC) plus every check of <see cref="ShardRecordVerifier"/>, the audit chain against the last
/// seal in the seal store. Needs the KEK (to open the keyring) and the audit public key;
/// writes nothing but LMDB's own open bookkeeping.
/// </summary>
public static class OfflineIntegrity
{
    /// <summary>Checks shard <paramref name="n"/> of <paramref name="kind"/> under <paramref name="host"/>.</summary>
    public static IntegrityReport Check(ShardHost host, ShardKind kind, int n, ISealStore? seals = null, SealVerifier? sealKey = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        using var store = ShardStore.Open(host.StoreOptions(kind, n));
        using var security = host.Security.Open(store, kind, n, host.Zone, create: false);
        var extra = new List<IntegrityError>();
        try
        {
            store.UseAuthenticator(security.Mac);
        }
        catch (ForgeOneException e)
        {
            extra.Add(new IntegrityError(e.Error.Details?.GetValueOrDefault(ForgeOneError.TableDetail) ?? Tables.ShardMeta, e.Error.Details?.GetValueOrDefault(ForgeOneError.KeyDetail), e.Code, e.Message));
        }

        var context = new ShardContext(kind, n, host.Counts.Of(kind), security, new RecordIdGenerator(n, host.Time), host.Time, host.Limits ?? Limits.Default) { Zone = host.Zone };
        var anchor = SealAnchors.Find(seals, sealKey, security.ChainId, out var sealProblem);
        if (sealProblem is not null)
        {
            extra.Add(new IntegrityError("seals", null, sealProblem.Code, sealProblem.Message));
        }

        Incarnation? incarnation = null;
        try
        {
            incarnation = store.Read(txn => Incarnation.Read(txn, security));
        }
        catch (ForgeOneException e)
        {
            extra.Add(new IntegrityError(Tables.Keys, KeyCodec.ToHex(ShardRecordVerifier.IncarnationKey), e.Code, e.Message));
        }

        var verifier = new ShardRecordVerifier(context, anchor, incarnation?.Head) { Authenticated = store.Meta.SchemaVersion >= 2 };
        var report = store.CheckIntegrity(verifier);
        return report with { Errors = [.. extra, .. report.Errors] };
    }
}

/// <summary>Finding a shard's last sealed head in a seal store, trusting only seals the audit public key verifies.</summary>
public static class SealAnchors
{
    /// <summary>The anchor of <paramref name="chainId"/>, or null (no store, nothing sealed, or the newest seal covering it does not verify: <paramref name="problem"/>).</summary>
    public static ChainAnchor? Find(ISealStore? seals, SealVerifier? key, string chainId, out ForgeOneError? problem)
    {
        problem = null;
        if (seals is null || key is null)
        {
            return null;
        }

        Seal? seal;
        try
        {
            seal = seals.LatestCovering(chainId);
        }
        catch (ForgeOneException e)
        {
            problem = new ForgeOneError(ErrorCodes.AuditSealInvalid, $"the seal store {seals.Name} cannot be read: {e.Error.Message}");
            return null;
        }

        if (seal is null)
        {
            return null;
        }

        var verification = key.Verify(seal);
        if (!verification.IsValid)
        {
            problem = new ForgeOneError(ErrorCodes.AuditSealInvalid, $"the newest seal covering {chainId} in {seals.Name} does not verify: {verification.Message}");
            return null;
        }

        return ChainAnchor.From(seal, chainId);
    }
}
