using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>Why a seal (or seal history) failed verification.</summary>
public enum SealFailure
{
    /// <summary>Verified.</summary>
    None = 0,

    /// <summary>The signature does not verify under the public key: forged or modified seal.</summary>
    BadSignature = 1,

    /// <summary>The Merkle root does not match the heads.</summary>
    MerkleMismatch = 2,

    /// <summary>Heads are not sorted by shard id or repeat a shard.</summary>
    MalformedHeads = 3,

    /// <summary>A seal number is missing from the history: a seal was deleted.</summary>
    Missing = 4,

    /// <summary>Seals are out of order (or a number repeats).</summary>
    Reordered = 5,

    /// <summary>A seal does not link to the previous seal's hash.</summary>
    BrokenLink = 6,

    /// <summary>A shard's sealed head went backwards or forked between two seals.</summary>
    HeadRegressed = 7,

    /// <summary>A shard chain failed verification against the seal (see the inner chain result).</summary>
    ChainInvalid = 8,

    /// <summary>The seal names another signing key than the verifier's (its key id differs).</summary>
    WrongKey = 9,

    /// <summary>Format 3: a shard's audit records do not hash to the tree root the seal signed for it.</summary>
    TreeRootMismatch = 10,
}

/// <summary>Outcome of seal verification.</summary>
/// <param name="Failure">What is wrong (None when valid).</param>
/// <param name="FirstBadNumber">The first bad seal number, or null.</param>
/// <param name="Message">A sentence for the operator.</param>
/// <param name="ShardId">For <see cref="SealFailure.ChainInvalid"/>: the shard whose chain failed.</param>
/// <param name="Chain">For <see cref="SealFailure.ChainInvalid"/>: the chain result (failure kind and first bad seq).</param>
public sealed record SealVerification(SealFailure Failure, long? FirstBadNumber, string Message, string? ShardId = null, AuditVerification? Chain = null)
{
    /// <summary>True when verified.</summary>
    public bool IsValid => Failure == SealFailure.None;

    internal static SealVerification Ok(string message) => new(SealFailure.None, null, message);
}

/// <summary>
/// Verifies seals with only the audit public key. Deleting the newest seal cannot be seen from
/// the seals alone: keep an exported copy (or the latest seal number) outside the cluster and
/// pass it as the trusted anchor where it matters.
/// </summary>
public sealed class SealVerifier : IDisposable
{
    private readonly ECDsa _key;
    private readonly Lock _lock = new();

    /// <summary>From a SubjectPublicKeyInfo PEM (<see cref="AuditSigner.ExportPublicKeyPem"/>).</summary>
    public SealVerifier(string publicKeyPem)
    {
        _key = ECDsa.Create();
        try
        {
            _key.ImportFromPem(publicKeyPem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            _key.Dispose();
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, "the audit public key is not a valid EC public key PEM");
        }

        KeyId = SealCodec.KeyIdOf(_key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The id of the public key (what format-2 seals carry).</summary>
    public byte[] KeyId { get; }

    /// <summary>
    /// True when <paramref name="signature"/> (P1363, 64 bytes) is this key's ECDSA P-256 / SHA-256
    /// signature of <paramref name="data"/>: for what the audit key signs besides whole seals
    /// (a format-3 seal header in a record proof, an evidence manifest).
    /// </summary>
    public bool VerifySignature(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        lock (_lock)
        {
            return signature.Length == 64 && _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
    }

    /// <summary>True when <paramref name="signature"/> is this key's signature of an evidence manifest (<see cref="AuditSigner.SignEvidenceManifest"/>).</summary>
    public bool VerifyEvidenceManifest(ReadOnlySpan<byte> manifest, ReadOnlySpan<byte> signature)
    {
        var input = new byte[AuditSigner.EvidenceManifestDomain.Length + manifest.Length];
        AuditSigner.EvidenceManifestDomain.CopyTo(input);
        manifest.CopyTo(input.AsSpan(AuditSigner.EvidenceManifestDomain.Length));
        return VerifySignature(input, signature);
    }

    /// <summary>Checks one seal: signature, head order and Merkle root.</summary>
    public SealVerification Verify(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        byte[] input;
        try
        {
            input = SealCodec.SignatureInput(seal);
        }
        catch (ForgeOneException e)
        {
            return new SealVerification(SealFailure.MalformedHeads, seal.Number, $"seal {seal.Number} is malformed: {e.Error.Message}");
        }

        bool signatureOk;
        lock (_lock)
        {
            signatureOk = seal.Signature.Length == 64 && _key.VerifyData(input, seal.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }

        if (seal.KeyId is { } keyId && !keyId.AsSpan().SequenceEqual(KeyId))
        {
            return new SealVerification(SealFailure.WrongKey, seal.Number,
                $"seal {seal.Number} was signed by key {seal.KeyIdHex}, not by this verifier's key {Convert.ToHexStringLower(KeyId)}");
        }

        if (!signatureOk)
        {
            return new SealVerification(SealFailure.BadSignature, seal.Number, $"seal {seal.Number} signature does not verify under the audit public key: forged or modified");
        }

        if (!StrictlySorted(seal.Heads.Select(h => h.ShardId)) || !StrictlySorted(seal.NewIncarnations) || !StrictlySorted(seal.Failed.Select(f => f.ShardId)))
        {
            return new SealVerification(SealFailure.MalformedHeads, seal.Number, $"seal {seal.Number} heads, incarnations or failures are not strictly sorted by shard id");
        }

        if (seal.NewIncarnations.Any(id => seal.HeadOf(id) is null) || seal.Failed.Any(f => seal.HeadOf(f.ShardId) is not null))
        {
            return new SealVerification(SealFailure.MalformedHeads, seal.Number, $"seal {seal.Number} names a new incarnation without a head, or a failed shard with one");
        }

        if (!SealCodec.HeadsRoot(seal).AsSpan().SequenceEqual(seal.MerkleRoot))
        {
            return new SealVerification(SealFailure.MerkleMismatch, seal.Number, $"seal {seal.Number} Merkle root does not match its heads");
        }

        return SealVerification.Ok($"seal {seal.Number} verified ({seal.Heads.Count} heads)");
    }

    /// <summary>
    /// Verifies a seal history in storage order: each seal, numbering without gaps, the hash link
    /// to the previous seal, and that no shard's head goes backwards. Starts at seal 1, or after
    /// <paramref name="anchor"/> (a seal verified before).
    /// </summary>
    public SealVerification VerifyHistory(IEnumerable<Seal> seals, Seal? anchor = null)
    {
        ArgumentNullException.ThrowIfNull(seals);
        var list = seals.ToList();
        var expected = (anchor?.Number ?? 0) + 1;
        var prevHash = anchor is null ? SealCodec.NoPreviousSeal : SealCodec.Hash(anchor);
        var heads = new Dictionary<string, ChainHead>(StringComparer.Ordinal);
        foreach (var h in anchor?.Heads ?? [])
        {
            heads[h.ShardId] = h;
        }

        for (var i = 0; i < list.Count; i++)
        {
            var seal = list[i];
            if (seal.Number < expected)
            {
                return new SealVerification(SealFailure.Reordered, seal.Number, $"seal {seal.Number} appears after seal {expected - 1}: seals are out of order or repeated");
            }

            if (seal.Number > expected)
            {
                var later = list.Skip(i + 1).Any(s => s.Number == expected);
                return later
                    ? new SealVerification(SealFailure.Reordered, expected, $"seal {expected} appears after seal {seal.Number}: seals are out of order")
                    : new SealVerification(SealFailure.Missing, expected, $"seal {expected} is missing (the next seal is {seal.Number})");
            }

            var single = Verify(seal);
            if (!single.IsValid)
            {
                return single;
            }

            if (!seal.PrevSealHash.AsSpan().SequenceEqual(prevHash))
            {
                return new SealVerification(SealFailure.BrokenLink, seal.Number, $"seal {seal.Number} does not link to seal {seal.Number - 1}: the history was altered");
            }

            foreach (var h in seal.Heads)
            {
                // A new incarnation (a restore, recorded and signed) may start anywhere.
                var rewound = seal.NewIncarnations.Contains(h.ShardId, StringComparer.Ordinal);
                if (!rewound && heads.TryGetValue(h.ShardId, out var before) && (h.Seq < before.Seq || (h.Seq == before.Seq && !h.Hash.AsSpan().SequenceEqual(before.Hash))))
                {
                    return new SealVerification(SealFailure.HeadRegressed, seal.Number,
                        $"seal {seal.Number}: shard {h.ShardId} head {h.Seq} is behind or forks from {before.Seq} in an earlier seal (chain truncated or rewritten)", h.ShardId);
                }

                heads[h.ShardId] = h;
            }

            prevHash = SealCodec.Hash(seal);
            expected++;
        }

        return SealVerification.Ok($"{list.Count} seals verified; latest {expected - 1}");
    }

    /// <summary>
    /// Verifies the seal, then every shard chain it covers against its sealed head (catches a chain
    /// truncated below, or rewritten before, the sealed head). A shard missing from
    /// <paramref name="chains"/> counts as an empty chain.
    /// </summary>
    public SealVerification VerifyChains(Seal seal, IReadOnlyDictionary<string, IEnumerable<AuditRecord>> chains)
    {
        ArgumentNullException.ThrowIfNull(chains);
        var single = Verify(seal);
        if (!single.IsValid)
        {
            return single;
        }

        for (var i = 0; i < seal.Heads.Count; i++)
        {
            var head = seal.Heads[i];
            var records = chains.TryGetValue(head.ShardId, out var r) ? r : [];
            var tree = seal.Format == SealCodec.FormatV3 ? new MerkleLog() : null;
            if (tree is not null)
            {
                // One pass: the chain check and the tree both see every record once.
                records = records.Select(record =>
                {
                    if (record.Seq <= head.Seq)
                    {
                        tree.Append(AuditRecordCodec.Encode(record));
                    }

                    return record;
                });
            }

            var result = AuditVerifier.Verify(records, head.ShardId, [head]);
            if (!result.IsValid)
            {
                return new SealVerification(SealFailure.ChainInvalid, seal.Number,
                    $"shard {head.ShardId}: {result.Failure} at seq {result.FirstBadSeq}: {result.Message}", head.ShardId, result);
            }

            if (tree is not null && (tree.Count != head.Seq || !tree.Root().AsSpan().SequenceEqual(seal.TreeRoots[i])))
            {
                return new SealVerification(SealFailure.TreeRootMismatch, seal.Number,
                    $"shard {head.ShardId}: its {tree.Count} audit records up to seq {head.Seq} do not hash to the tree root seal {seal.Number} signed", head.ShardId, result);
            }
        }

        return SealVerification.Ok($"seal {seal.Number} and {seal.Heads.Count} chains verified");
    }

    /// <inheritdoc />
    public void Dispose() => _key.Dispose();

    private static bool StrictlySorted(IEnumerable<string> ids)
    {
        string? previous = null;
        foreach (var id in ids)
        {
            if (previous is not null && string.CompareOrdinal(previous, id) >= 0)
            {
                return false;
            }

            previous = id;
        }

        return true;
    }
}
