using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// The fixed-size signed part of a format-3 seal: everything a record proof needs to check the
/// signature without the seal's head list (which grows with the shard count).
/// </summary>
/// <param name="Number">Seal number.</param>
/// <param name="Time">Sealing time (UTC).</param>
/// <param name="KeyId">Signing key id (16 bytes).</param>
/// <param name="HeadCount">Heads in the seal (the size of the heads tree).</param>
/// <param name="HeadsRoot">RFC 6962 root over the head leaves (<see cref="SealCodec.HeadLeaf"/>).</param>
/// <param name="DetailsHash">SHA-256 of the encoded new-incarnation and failure lists.</param>
/// <param name="PrevSealHash">Hash of the previous seal.</param>
public sealed record SealHeader(long Number, DateTimeOffset Time, byte[] KeyId, long HeadCount, byte[] HeadsRoot, byte[] DetailsHash, byte[] PrevSealHash);

/// <summary>
/// Seal format 3 (docs/FORMATS.md "Seal"). It adds, per head, the RFC 6962 root of the shard's
/// audit records 1..seq (<see cref="Seal.TreeRoots"/>), and signs a fixed 133-byte header
/// instead of the whole head list:
/// <code>
///   header  = u8 3 | i64 number | i64 time | 16 key id | u32 head count | 32 heads root | 32 details hash | 32 prev seal hash
///   encoded = header | heads (str shard, i64 seq, 32 chain hash, 32 tree root) | details | u16 signature length | signature
///   details = u32 count | new-incarnation shard ids (str) | u32 count | failed (str shard, str code, str reason)
/// </code>
/// The heads root is an RFC 6962 tree over <c>str shard | i64 seq | 32 chain hash | 32 tree root</c>
/// in shard order, so one shard's head is provable in O(log shards): a record proof carries the
/// header, the signature, two audit paths and the record, and stays small for any cluster.
/// </summary>
public static partial class SealCodec
{
    /// <summary>Format byte of seals that carry per-shard Merkle tree roots.</summary>
    public const byte FormatV3 = 3;

    /// <summary>Length of the signed header of a format-3 seal.</summary>
    public const int HeaderLengthV3 = 1 + 8 + 8 + KeyIdLength + 4 + 32 + 32 + 32;

    /// <summary>Leaf data of one head in a format-3 seal's heads tree.</summary>
    public static byte[] HeadLeaf(ChainHead head, byte[] treeRoot)
    {
        ArgumentNullException.ThrowIfNull(head);
        Check32(head.Hash, "head hash");
        Check32(treeRoot, "tree root");
        var output = new byte[2 + Utf8.Length16(head.ShardId, "shard id") + 8 + 32 + 32];
        var w = new SpanWriter(output);
        w.String16(head.ShardId);
        w.I64(head.Seq);
        w.Bytes(head.Hash);
        w.Bytes(treeRoot);
        return output;
    }

    /// <summary>The root a seal's <see cref="Seal.MerkleRoot"/> must equal: over heads and tree roots in format 3, over heads before.</summary>
    public static byte[] HeadsRoot(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        return seal.Format == FormatV3 ? HeadsTree(seal).Root() : MerkleRoot(seal.Heads);
    }

    /// <summary>The RFC 6962 tree over a format-3 seal's head leaves (to prove one head in it).</summary>
    public static MerkleLog HeadsTree(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        if (seal.TreeRoots.Count != seal.Heads.Count)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"a format-3 seal carries one tree root per head ({seal.Heads.Count} heads, {seal.TreeRoots.Count} roots)");
        }

        var tree = new MerkleLog();
        for (var i = 0; i < seal.Heads.Count; i++)
        {
            tree.Append(HeadLeaf(seal.Heads[i], seal.TreeRoots[i]));
        }

        return tree;
    }

    /// <summary>Reads the signed header of a format-3 seal (the first <see cref="HeaderLengthV3"/> bytes of its encoding).</summary>
    public static SealHeader DecodeHeader(ReadOnlySpan<byte> header)
    {
        var r = new SpanReader(header, ErrorCodes.AuditUnknownFormat, "seal header");
        var header3 = ReadHeader(ref r);
        r.End();
        return header3;
    }

    private static SealHeader ReadHeader(ref SpanReader r)
    {
        var format = r.U8();
        if (format != FormatV3)
        {
            throw r.Fail($"format {format} has no compact header (only format {FormatV3})");
        }

        var number = r.I64();
        var ticks = r.I64();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw r.Fail("time out of range");
        }

        var keyId = r.Bytes(KeyIdLength).ToArray();
        var count = r.U32();
        return new SealHeader(number, new DateTimeOffset(ticks, TimeSpan.Zero), keyId, count, r.Bytes(32).ToArray(), r.Bytes(32).ToArray(), r.Bytes(32).ToArray());
    }

    private static byte[] SignatureInputV3(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal.Heads);
        Check32(seal.MerkleRoot, "merkle root");
        Check32(seal.PrevSealHash, "previous seal hash");
        if (seal.KeyId is not { Length: KeyIdLength })
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"a format-3 seal carries a {KeyIdLength}-byte key id");
        }

        if (seal.TreeRoots.Count != seal.Heads.Count)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"a format-3 seal carries one tree root per head ({seal.Heads.Count} heads, {seal.TreeRoots.Count} roots)");
        }

        var output = new byte[HeaderLengthV3];
        var w = new SpanWriter(output);
        w.U8(FormatV3);
        w.I64(seal.Number);
        w.I64(seal.Time.UtcTicks);
        w.Bytes(seal.KeyId);
        w.U32((uint)seal.Heads.Count);
        w.Bytes(seal.MerkleRoot);
        w.Bytes(SHA256.HashData(Details(seal)));
        w.Bytes(seal.PrevSealHash);
        return output;
    }

    private static byte[] Details(Seal seal)
    {
        var length = 4 + seal.NewIncarnations.Sum(id => 2 + Utf8.Length16(id, "shard id"))
            + 4 + seal.Failed.Sum(f => 6 + Utf8.Length16(f.ShardId, "shard id") + Utf8.Length16(f.Code, "failure code") + Utf8.Length16(f.Reason, "failure reason"));
        var output = new byte[length];
        var w = new SpanWriter(output);
        w.U32((uint)seal.NewIncarnations.Count);
        foreach (var id in seal.NewIncarnations)
        {
            w.String16(id);
        }

        w.U32((uint)seal.Failed.Count);
        foreach (var f in seal.Failed)
        {
            w.String16(f.ShardId);
            w.String16(f.Code);
            w.String16(f.Reason);
        }

        return output;
    }

    private static byte[] EncodeV3(Seal seal)
    {
        var header = SignatureInputV3(seal);
        var heads = seal.Heads.Select((h, i) => HeadLeaf(h, seal.TreeRoots[i])).ToList();
        var details = Details(seal);
        var output = new byte[header.Length + heads.Sum(h => h.Length) + details.Length + 2 + seal.Signature.Length];
        var w = new SpanWriter(output);
        w.Bytes(header);
        foreach (var h in heads)
        {
            w.Bytes(h);
        }

        w.Bytes(details);
        w.Bytes16(seal.Signature);
        return output;
    }

    private static Seal DecodeV3(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data, ErrorCodes.AuditUnknownFormat, "seal");
        var header = ReadHeader(ref r);
        if (header.HeadCount > r.Remaining / 74)
        {
            throw r.Fail($"head count {header.HeadCount} does not fit the remaining {r.Remaining} bytes");
        }

        var heads = new ChainHead[header.HeadCount];
        var roots = new byte[header.HeadCount][];
        for (var i = 0; i < heads.Length; i++)
        {
            heads[i] = new ChainHead(r.String16(), r.I64(), r.Bytes(32).ToArray());
            roots[i] = r.Bytes(32).ToArray();
        }

        var detailsStart = r.Position;
        var n = r.U32();
        if (n > r.Remaining / 2)
        {
            throw r.Fail($"incarnation count {n} does not fit the remaining {r.Remaining} bytes");
        }

        var incarnations = new string[n];
        for (var i = 0; i < n; i++)
        {
            incarnations[i] = r.String16();
        }

        n = r.U32();
        if (n > r.Remaining / 6)
        {
            throw r.Fail($"failure count {n} does not fit the remaining {r.Remaining} bytes");
        }

        var failed = new SealedShardFailure[n];
        for (var i = 0; i < n; i++)
        {
            failed[i] = new SealedShardFailure(r.String16(), r.String16(), r.String16());
        }

        // The header signs the details by hash: a list edited after signing is a malformed seal.
        if (!SHA256.HashData(data[detailsStart..r.Position]).AsSpan().SequenceEqual(header.DetailsHash))
        {
            throw r.Fail("the incarnation and failure lists do not match the signed header");
        }

        var signature = r.Bytes16().ToArray();
        r.End();
        return new Seal(header.Number, header.Time, heads, header.HeadsRoot, header.PrevSealHash, signature)
        {
            Format = FormatV3,
            KeyId = header.KeyId,
            NewIncarnations = incarnations,
            Failed = failed,
            TreeRoots = roots,
        };
    }
}
