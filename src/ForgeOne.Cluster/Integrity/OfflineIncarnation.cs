using ForgeOne.Backup;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// The authorized rewind of a restore made while no node runs (<c>ForgeOne.Node offline
/// restore</c>): the same seal the running sealer would sign for an online restore, naming every
/// restored chain as a new incarnation at its verified head, appended to the seals file and
/// signed with the cluster's audit signing key (the operator restored it first). At start the
/// sealer adopts it into its journal (the file is ahead) and every shard's open check finds it
/// as its newest seal. Without a seals file, or one with no seals yet, nothing needs accepting.
/// </summary>
public static class OfflineIncarnation
{
    /// <summary>Appends the incarnation seal; returns it, or null when the seals file holds no seal.</summary>
    public static Seal? Record(SealLogFile seals, AuditSigner signer, IReadOnlyList<ShardRestored> shards, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(seals);
        ArgumentNullException.ThrowIfNull(signer);
        if (seals.Latest() is not { } last)
        {
            return null;
        }

        using var verifier = new SealVerifier(signer.ExportPublicKeyPem());
        if (verifier.Verify(last) is { IsValid: false } bad)
        {
            // Never continue a history this key did not sign, nor one whose newest seal was edited.
            throw new ForgeOneException(ErrorCodes.AuditSigningKeyMismatch, $"the newest seal ({last.Number}) in {seals.Name} does not verify under the audit signing key {signer.PublicKeyFingerprint}: {bad.Message}");
        }

        var heads = SealedRestoreIncarnations.Heads(shards);
        var seal = signer.CreateSeal(last, now > last.Time ? now : last.Time, heads, [], heads.Select(h => h.ShardId));
        seals.Append(seal);
        return seal;
    }
}
