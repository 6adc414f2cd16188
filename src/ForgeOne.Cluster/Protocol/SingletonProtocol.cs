using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Messages of the audit sealer singleton.</summary>
public static class SealerProtocol
{
    /// <summary>Seal now instead of waiting for the next tick (<c>audit:read</c>). Reply: <see cref="SealDone"/> or <see cref="SealFailed"/>.</summary>
    public sealed record SealNow(PrincipalToken Token) : IAuthenticated;

    /// <summary>A seal was written, or (<paramref name="Written"/> false) no head moved since seal <paramref name="Number"/>.</summary>
    /// <param name="Number">The seal written (or the last one, when none was).</param>
    /// <param name="Time">Its time.</param>
    /// <param name="Heads">How many chain heads it signs.</param>
    /// <param name="Node">The node the sealer runs on.</param>
    /// <param name="Failed">Shards the seal left out, and why (<c>audit.seal_invalid</c>, <c>audit.chain_broken</c>, <c>cluster.unavailable</c>).</param>
    /// <param name="Written">False when nothing moved since the last seal, which is then what <paramref name="Number"/> names.</param>
    public sealed record SealDone(long Number, DateTimeOffset Time, int Heads, string Node, ForgeOne.Security.SealedShardFailure[] Failed, bool Written = true) : IReply;

    /// <summary>
    /// Records an authorized rewind: each named chain (or every chain when empty) starts a new
    /// incarnation at its current head, which the next seal signs as such; the open check and
    /// the sealer accept it instead of calling it tampering. For restores (<c>backup:admin</c>).
    /// Reply: <see cref="IncarnationStarted"/> or <see cref="SealFailed"/>.
    /// </summary>
    /// <param name="Token">Proof of who authorizes it (audited).</param>
    /// <param name="Chains">Chain ids (<c>logs-0003</c>, <c>logs-0003@eu</c>); empty for the whole data root.</param>
    /// <param name="Reason">Why (audited), e.g. <c>restored backup 2026-11-30T02:00Z</c>.</param>
    /// <param name="Heads">
    /// The heads the new incarnations start at, one per chain of <paramref name="Chains"/>, when
    /// they are not the shards' current heads: a restore names the heads it verified before the
    /// shards open the restored files (they take the seal up when they open). Null: the shards'
    /// current heads, and each shard records the rewind at once.
    /// </param>
    public sealed record StartIncarnation(PrincipalToken Token, string[] Chains, string Reason, ForgeOne.Security.ChainHead[]? Heads = null) : IAuthenticated;

    /// <summary>The seal that started the new incarnations, and the chains it names.</summary>
    public sealed record IncarnationStarted(long SealNumber, string[] Chains, string[] Accepted) : IReply;

    /// <summary>Sealing failed this round (e.g. a shard did not answer; nothing was written), or the request was refused.</summary>
    public sealed record SealFailed(ForgeOneError Error) : IFailureReply;

    /// <summary>Asks for the seal numbers written so far, most recent last (<c>audit:export</c>). Reply: <see cref="SealHistory"/> or <see cref="SealFailed"/>.</summary>
    public sealed record GetSealHistory(PrincipalToken Token) : IAuthenticated;

    /// <summary>The persisted seal history: numbers in order, and the encoded seals (SealCodec) for verifiers.</summary>
    public sealed record SealHistory(long[] Numbers, byte[][] Seals) : IReply;

    /// <summary>Asks for the public key seals verify under (any authenticated principal: the key is public by nature). Reply: <see cref="AuditPublicKey"/>.</summary>
    public sealed record GetAuditPublicKey(PrincipalToken Token) : IAuthenticated;

    /// <summary>The audit public key (SubjectPublicKeyInfo PEM) and its fingerprint; public by nature.</summary>
    public sealed record AuditPublicKey(string Pem, string Fingerprint) : IReply;

    /// <summary>
    /// Signs an evidence package manifest with the audit key, under the manifest domain (the
    /// signature can never pass for a seal's), <c>audit:export</c>. The manifest must be a
    /// format-1 manifest. Reply: <see cref="EvidenceManifestSigned"/> or <see cref="SealFailed"/>.
    /// </summary>
    /// <param name="Token">Who exports.</param>
    /// <param name="Manifest">The manifest's exact bytes.</param>
    public sealed record SignEvidenceManifest(PrincipalToken Token, byte[] Manifest) : IAuthenticated;

    /// <summary>The manifest signature and the id of the key that made it.</summary>
    public sealed record EvidenceManifestSigned(byte[] Signature, string KeyId) : IReply;
}

/// <summary>Messages of the key rotation coordinator singleton.</summary>
public static class KeyRotationProtocol
{
    /// <summary>Rotates every shard's data key now (<c>keys:admin</c>). Reply: <see cref="RotationDone"/> or <see cref="RotationFailed"/>.</summary>
    public sealed record RotateAll(PrincipalToken Token, string Reason) : IAuthenticated;

    /// <summary>How many shards rotated, and which failed.</summary>
    public sealed record RotationDone(int Rotated, int Checked, string[] Failures) : IReply;

    /// <summary>Asks for the key-event history (<c>audit:read</c>). Reply: <see cref="KeyEventHistory"/> or <see cref="RotationFailed"/>.</summary>
    public sealed record GetKeyEventHistory(PrincipalToken Token) : IAuthenticated;

    /// <summary>Key events recorded by the coordinator, oldest first (<c>time shard event</c>).</summary>
    public sealed record KeyEventHistory(string[] Events) : IReply;

    /// <summary>The request was refused (not authenticated, not authorized, or its audit record could not be written).</summary>
    public sealed record RotationFailed(ForgeOneError Error) : IFailureReply;
}
