using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// One shard's head in a format-3 seal, provable with the public key alone: the seal's signed
/// header and signature, the head with its tree root, and the head's audit path in the seal's
/// heads tree. O(log shards) in size, whatever the cluster.
/// </summary>
/// <param name="Header">The seal's signed header (<see cref="SealCodec.HeaderLengthV3"/> bytes).</param>
/// <param name="Signature">The seal's signature over <paramref name="Header"/>.</param>
/// <param name="Head">The shard's sealed head.</param>
/// <param name="TreeRoot">RFC 6962 root of the shard's audit records 1..<c>Head.Seq</c>.</param>
/// <param name="HeadIndex">The head's position in the seal (shard order).</param>
/// <param name="HeadsPath">Audit path of the head's leaf in the heads tree.</param>
public sealed record SealAnchor(byte[] Header, byte[] Signature, ChainHead Head, byte[] TreeRoot, long HeadIndex, IReadOnlyList<byte[]> HeadsPath)
{
    /// <summary>The anchor of <paramref name="shardId"/> in a format-3 seal.</summary>
    public static SealAnchor For(Seal seal, string shardId)
    {
        ArgumentNullException.ThrowIfNull(seal);
        if (seal.Format != SealCodec.FormatV3)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"seal {seal.Number} is format {seal.Format}: only format-3 seals carry tree roots a proof can point to");
        }

        var index = -1;
        for (var i = 0; i < seal.Heads.Count; i++)
        {
            if (seal.Heads[i].ShardId == shardId)
            {
                index = i;
            }
        }

        if (index < 0)
        {
            throw new ForgeOneException(ErrorCodes.NotFound, $"seal {seal.Number} has no head for shard {shardId}");
        }

        var tree = SealCodec.HeadsTree(seal);
        return new SealAnchor(SealCodec.SignatureInput(seal), seal.Signature, seal.Heads[index], seal.TreeRoots[index], index, tree.InclusionProof(index, tree.Count));
    }

    internal int EncodedLength => 2 + Header.Length + 2 + Signature.Length + 2 + Utf8.Length16(Head.ShardId, "shard id") + 8 + 32 + 32 + 8 + 1 + (32 * HeadsPath.Count);

    internal void Write(ref SpanWriter w)
    {
        w.Bytes16(Header);
        w.Bytes16(Signature);
        w.String16(Head.ShardId);
        w.I64(Head.Seq);
        w.Bytes(Head.Hash);
        w.Bytes(TreeRoot);
        w.I64(HeadIndex);
        AuditProofCodec.WritePath(ref w, HeadsPath);
    }

    internal static SealAnchor Read(ref SpanReader r) =>
        new(r.Bytes16().ToArray(), r.Bytes16().ToArray(), new ChainHead(r.String16(), r.I64(), r.Bytes(32).ToArray()), r.Bytes(32).ToArray(), r.I64(), AuditProofCodec.ReadPath(ref r));
}

/// <summary>
/// Proof that one audit record, as stored (the bytes its chain hashes), is in its shard's
/// chain up to a head a seal signed: the record, its audit path in the shard's tree (leaf
/// index = seq - 1, tree size = the sealed head's seq) and the seal anchor.
/// </summary>
/// <param name="Record">The record's stored bytes (<see cref="AuditRecordCodec.Encode"/>).</param>
/// <param name="Path">Audit path of the record's leaf in the shard's tree.</param>
/// <param name="Anchor">The seal and the shard's head in it.</param>
public sealed record RecordProof(byte[] Record, IReadOnlyList<byte[]> Path, SealAnchor Anchor)
{
    /// <summary>
    /// The proof of the record at <paramref name="seq"/> of a shard, from the tree over that
    /// shard's records (leaf i = record i + 1) and a format-3 seal whose head covers it.
    /// </summary>
    public static RecordProof Create(Seal seal, string shardId, MerkleLog shardTree, long seq, byte[] storedRecord)
    {
        ArgumentNullException.ThrowIfNull(shardTree);
        var anchor = SealAnchor.For(seal, shardId);
        if (seq < 1 || seq > anchor.Head.Seq)
        {
            throw new ForgeOneException(ErrorCodes.NotFound, $"record {seq} of {shardId} is not covered by seal {seal.Number} (its head is at {anchor.Head.Seq}); wait for the next seal");
        }

        return new RecordProof(storedRecord, shardTree.InclusionProof(seq - 1, anchor.Head.Seq), anchor);
    }
}

/// <summary>
/// Proof that a shard's tree at a later seal extends its tree at an earlier one: every record
/// the first seal covered is still there, unchanged and in place (RFC 6962 consistency proof
/// between the two sealed tree sizes).
/// </summary>
/// <param name="Older">The shard's anchor in the earlier seal.</param>
/// <param name="Newer">The shard's anchor in the later seal.</param>
/// <param name="Proof">The consistency proof from <c>Older.Head.Seq</c> to <c>Newer.Head.Seq</c>.</param>
public sealed record ConsistencyProof(SealAnchor Older, SealAnchor Newer, IReadOnlyList<byte[]> Proof)
{
    /// <summary>The proof for <paramref name="shardId"/> between two format-3 seals, from the tree over its records.</summary>
    public static ConsistencyProof Create(Seal older, Seal newer, string shardId, MerkleLog shardTree)
    {
        ArgumentNullException.ThrowIfNull(shardTree);
        var a = SealAnchor.For(older, shardId);
        var b = SealAnchor.For(newer, shardId);
        if (a.Head.Seq > b.Head.Seq)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"seal {older.Number} covers {shardId} up to {a.Head.Seq}, past seal {newer.Number} ({b.Head.Seq})");
        }

        return new ConsistencyProof(a, b, shardTree.ConsistencyProof(a.Head.Seq, b.Head.Seq));
    }
}

/// <summary>
/// File forms of proofs (docs/FORMATS.md "Audit proofs"):
/// <code>
///   file        = "FOAP" | u8 1 (format) | u8 kind (1 record, 2 consistency) | body
///   record      = u32 length | record bytes | path | anchor
///   consistency = anchor (older) | anchor (newer) | path
///   anchor      = u16 length | seal header | u16 length | signature | str shard | i64 seq | 32 chain hash
///                 | 32 tree root | i64 head index | path
///   path        = u8 count | count × 32 hash
/// </code>
/// Malformed input is <c>audit.unknown_format</c>.
/// </summary>
public static class AuditProofCodec
{
    private const byte Format = 1;
    private const byte KindRecord = 1;
    private const byte KindConsistency = 2;
    private static ReadOnlySpan<byte> Magic => "FOAP"u8;

    /// <summary>Encodes a record proof.</summary>
    public static byte[] Encode(RecordProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var output = new byte[4 + 2 + 4 + proof.Record.Length + 1 + (32 * proof.Path.Count) + proof.Anchor.EncodedLength];
        var w = new SpanWriter(output);
        w.Bytes(Magic);
        w.U8(Format);
        w.U8(KindRecord);
        w.U32((uint)proof.Record.Length);
        w.Bytes(proof.Record);
        WritePath(ref w, proof.Path);
        proof.Anchor.Write(ref w);
        return output;
    }

    /// <summary>Encodes a consistency proof.</summary>
    public static byte[] Encode(ConsistencyProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var output = new byte[4 + 2 + proof.Older.EncodedLength + proof.Newer.EncodedLength + 1 + (32 * proof.Proof.Count)];
        var w = new SpanWriter(output);
        w.Bytes(Magic);
        w.U8(Format);
        w.U8(KindConsistency);
        proof.Older.Write(ref w);
        proof.Newer.Write(ref w);
        WritePath(ref w, proof.Proof);
        return output;
    }

    /// <summary>Decodes a record proof file.</summary>
    public static RecordProof DecodeRecordProof(ReadOnlySpan<byte> data)
    {
        var r = Open(data, KindRecord, "record proof");
        var length = r.U32();
        if (length > r.Remaining)
        {
            throw r.Fail($"record length {length} exceeds the remaining {r.Remaining} bytes");
        }

        var record = r.Bytes((int)length).ToArray();
        var path = ReadPath(ref r);
        var anchor = SealAnchor.Read(ref r);
        r.End();
        return new RecordProof(record, path, anchor);
    }

    /// <summary>Decodes a consistency proof file.</summary>
    public static ConsistencyProof DecodeConsistencyProof(ReadOnlySpan<byte> data)
    {
        var r = Open(data, KindConsistency, "consistency proof");
        var older = SealAnchor.Read(ref r);
        var newer = SealAnchor.Read(ref r);
        var proof = ReadPath(ref r);
        r.End();
        return new ConsistencyProof(older, newer, proof);
    }

    internal static void WritePath(ref SpanWriter w, IReadOnlyList<byte[]> path)
    {
        if (path.Count > 2 * Rfc6962.MaxPathLength)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"a proof path has at most {2 * Rfc6962.MaxPathLength} hashes");
        }

        w.U8((byte)path.Count);
        foreach (var hash in path)
        {
            if (hash is not { Length: 32 })
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, "a proof path holds 32-byte hashes");
            }

            w.Bytes(hash);
        }
    }

    internal static IReadOnlyList<byte[]> ReadPath(ref SpanReader r)
    {
        var count = r.U8();
        if (count > 2 * Rfc6962.MaxPathLength)
        {
            throw r.Fail($"path of {count} hashes is longer than any tree allows");
        }

        var path = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            path[i] = r.Bytes(32).ToArray();
        }

        return path;
    }

    private static SpanReader Open(ReadOnlySpan<byte> data, byte kind, string what)
    {
        var r = new SpanReader(data, ErrorCodes.AuditUnknownFormat, what);
        if (!r.Bytes(4).SequenceEqual(Magic))
        {
            throw r.Fail("not a ForgeOne audit proof (magic FOAP)");
        }

        var format = r.U8();
        if (format != Format)
        {
            throw r.Fail($"proof format {format} is not supported (this code reads {Format})");
        }

        var actual = r.U8();
        if (actual != kind)
        {
            throw r.Fail(actual == KindRecord ? "this is a record proof" : actual == KindConsistency ? "this is a consistency proof" : $"unknown proof kind {actual}");
        }

        return r;
    }
}

/// <summary>Why a proof failed.</summary>
public enum ProofFailure
{
    /// <summary>Verified.</summary>
    None = 0,

    /// <summary>The proof or a part of it cannot be read.</summary>
    Malformed = 1,

    /// <summary>The seal names another key than the verifier's.</summary>
    WrongKey = 2,

    /// <summary>The seal header's signature does not verify: forged or altered seal.</summary>
    BadSignature = 3,

    /// <summary>The shard's head and tree root are not the ones the seal signed.</summary>
    HeadNotSealed = 4,

    /// <summary>The record's content does not match its own chain hash, or differs from the sealed head.</summary>
    RecordModified = 5,

    /// <summary>The record's stored bytes are not the leaf at its position in the sealed tree.</summary>
    RecordNotInTree = 6,

    /// <summary>The later tree does not extend the earlier one (records changed, removed or reordered).</summary>
    Inconsistent = 7,
}

/// <summary>Outcome of a proof check.</summary>
/// <param name="Failure">What is wrong (None when valid).</param>
/// <param name="Message">A sentence for the auditor.</param>
public sealed record ProofVerification(ProofFailure Failure, string Message)
{
    /// <summary>True when verified.</summary>
    public bool IsValid => Failure == ProofFailure.None;
}

/// <summary>
/// Checks record and consistency proofs offline with the audit public key only. Costs two
/// audit paths (O(log n + log shards) SHA-256) and one ECDSA verification.
/// </summary>
public sealed class ProofVerifier(SealVerifier seals)
{
    /// <summary>Checks a record proof.</summary>
    public ProofVerification Verify(RecordProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var anchor = VerifyAnchor(proof.Anchor, out var header);
        if (anchor is not null)
        {
            return anchor;
        }

        AuditRecord record;
        try
        {
            record = AuditRecordCodec.Decode(proof.Record);
        }
        catch (ForgeOneException e)
        {
            return new ProofVerification(ProofFailure.Malformed, $"the record cannot be read: {e.Error.Message}");
        }

        var head = proof.Anchor.Head;
        if (!record.Hash.AsSpan().SequenceEqual(AuditRecordCodec.ComputeHash(record)) || (record.Seq == head.Seq && !record.Hash.AsSpan().SequenceEqual(head.Hash)))
        {
            return new ProofVerification(ProofFailure.RecordModified, $"record {record.Seq} of {head.ShardId} does not match its hash: it was modified");
        }

        if (record.Seq < 1 || record.Seq > head.Seq
            || !Rfc6962.VerifyInclusion(Rfc6962.LeafHash(proof.Record), record.Seq - 1, head.Seq, proof.Path, proof.Anchor.TreeRoot))
        {
            return new ProofVerification(ProofFailure.RecordNotInTree,
                $"record {record.Seq} as given is not in the audit chain of {head.ShardId} that seal {header!.Number} covers up to {head.Seq}: altered, moved or from another chain");
        }

        return new ProofVerification(ProofFailure.None,
            $"record {record.Seq} of {head.ShardId} ({record.Action}, {record.Time:O}) is in the chain sealed by seal {header!.Number} at {header.Time:O} (head {head.Seq}, key {Convert.ToHexStringLower(header.KeyId)})");
    }

    /// <summary>Checks a consistency proof: both seals, both heads, and that the later tree extends the earlier.</summary>
    public ProofVerification Verify(ConsistencyProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (VerifyAnchor(proof.Older, out var older) is { } a)
        {
            return a;
        }

        if (VerifyAnchor(proof.Newer, out var newer) is { } b)
        {
            return b;
        }

        var shard = proof.Older.Head.ShardId;
        if (proof.Newer.Head.ShardId != shard || older!.Number >= newer!.Number)
        {
            return new ProofVerification(ProofFailure.Malformed, $"a consistency proof compares one shard in an earlier and a later seal (got {shard} in seal {older!.Number}, {proof.Newer.Head.ShardId} in seal {newer!.Number})");
        }

        if (!Rfc6962.VerifyConsistency(proof.Older.Head.Seq, proof.Newer.Head.Seq, proof.Older.TreeRoot, proof.Newer.TreeRoot, proof.Proof))
        {
            return new ProofVerification(ProofFailure.Inconsistent,
                $"shard {shard}: the tree of seal {newer.Number} ({proof.Newer.Head.Seq} records) does not extend the tree of seal {older.Number} ({proof.Older.Head.Seq} records): sealed records were changed or removed");
        }

        return new ProofVerification(ProofFailure.None,
            $"shard {shard}: seal {newer.Number} ({proof.Newer.Head.Seq} records) extends seal {older.Number} ({proof.Older.Head.Seq} records) append-only");
    }

    private ProofVerification? VerifyAnchor(SealAnchor anchor, out SealHeader? header)
    {
        header = null;
        try
        {
            header = SealCodec.DecodeHeader(anchor.Header);
        }
        catch (ForgeOneException e)
        {
            return new ProofVerification(ProofFailure.Malformed, $"the seal header cannot be read: {e.Error.Message}");
        }

        if (!header.KeyId.AsSpan().SequenceEqual(seals.KeyId))
        {
            return new ProofVerification(ProofFailure.WrongKey,
                $"seal {header.Number} was signed by key {Convert.ToHexStringLower(header.KeyId)}, not by the given public key {Convert.ToHexStringLower(seals.KeyId)}");
        }

        if (!seals.VerifySignature(anchor.Header, anchor.Signature))
        {
            return new ProofVerification(ProofFailure.BadSignature, $"seal {header.Number} signature does not verify under the audit public key: forged or altered");
        }

        byte[] leaf;
        try
        {
            leaf = Rfc6962.LeafHash(SealCodec.HeadLeaf(anchor.Head, anchor.TreeRoot));
        }
        catch (ForgeOneException e)
        {
            return new ProofVerification(ProofFailure.Malformed, $"the sealed head cannot be read: {e.Error.Message}");
        }

        if (!Rfc6962.VerifyInclusion(leaf, anchor.HeadIndex, header.HeadCount, anchor.HeadsPath, header.HeadsRoot))
        {
            return new ProofVerification(ProofFailure.HeadNotSealed, $"seal {header.Number} did not sign head {anchor.Head.Seq} of {anchor.Head.ShardId} with this tree root");
        }

        return null;
    }
}
