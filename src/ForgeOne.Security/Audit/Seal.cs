using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// A signed checkpoint over every shard's chain head. Seals form their own chain
/// (<see cref="PrevSealHash"/>), so a deleted, reordered or forged seal is detected; the heads
/// pin each shard chain, so truncating a chain below its sealed head is detected.
/// </summary>
/// <param name="Number">1, 2, 3, ... without gaps.</param>
/// <param name="Time">UTC time of sealing.</param>
/// <param name="Heads">Chain heads sorted by shard id (ordinal), unique.</param>
/// <param name="MerkleRoot">Merkle root over <paramref name="Heads"/> (<see cref="SealCodec.MerkleRoot"/>).</param>
/// <param name="PrevSealHash">Hash of the previous seal (<see cref="SealCodec.Hash"/>); 32 zero bytes for seal 1.</param>
/// <param name="Signature">ECDSA P-256 / SHA-256 over the signature input, IEEE P1363 (r|s, 64 bytes).</param>
public sealed record Seal(long Number, DateTimeOffset Time, IReadOnlyList<ChainHead> Heads, byte[] MerkleRoot, byte[] PrevSealHash, byte[] Signature)
{
    /// <summary>The encoded format: <see cref="SealCodec.FormatV1"/> (older seals) or <see cref="SealCodec.FormatV2"/>.</summary>
    public byte Format { get; init; } = SealCodec.FormatV1;

    /// <summary>Format 2: the signing key's id (first 16 bytes of SHA-256 of its SubjectPublicKeyInfo); null in format 1.</summary>
    public byte[]? KeyId { get; init; }

    /// <summary>
    /// Format 2: shards in <see cref="Heads"/> that start a new incarnation at their head (an
    /// authorized rewind after a restore): their head need not extend the one sealed before.
    /// Sorted, unique, each one of the heads.
    /// </summary>
    public IReadOnlyList<string> NewIncarnations { get; init; } = [];

    /// <summary>Format 2: shards left out of this seal, and why (not answering, chain broken, head not a continuation). Sorted, unique, none of them in <see cref="Heads"/>.</summary>
    public IReadOnlyList<SealedShardFailure> Failed { get; init; } = [];

    /// <summary>
    /// Format 3: per head (same order), the RFC 6962 root of the shard's audit records 1..seq
    /// (leaf = a record's stored bytes), so a single record is provable against the seal in
    /// O(log n) (<see cref="RecordProof"/>). Empty in formats 1 and 2.
    /// </summary>
    public IReadOnlyList<byte[]> TreeRoots { get; init; } = [];

    /// <summary>The key id as lower-case hex, or null in format 1.</summary>
    public string? KeyIdHex => KeyId is null ? null : Convert.ToHexStringLower(KeyId);

    /// <summary>The head of <paramref name="shardId"/> in this seal, or null.</summary>
    public ChainHead? HeadOf(string shardId)
    {
        foreach (var head in Heads)
        {
            if (head.ShardId == shardId)
            {
                return head;
            }
        }

        return null;
    }
}

/// <summary>A shard a seal names as left out.</summary>
/// <param name="ShardId">The chain id.</param>
/// <param name="Code">Stable error code, e.g. <c>audit.chain_broken</c>, <c>audit.seal_invalid</c>, <c>cluster.unavailable</c>.</param>
/// <param name="Reason">A sentence for the operator (shard, seq, kind of damage).</param>
public sealed record SealedShardFailure(string ShardId, string Code, string Reason);

/// <summary>
/// Binary forms of a seal (docs/FORMATS.md "Seal"). Signature input, format 2:
/// <c>u8 2 | i64 number | i64 time | 16 key id | u32 head count | heads (str shard, i64 seq, 32 hash)
/// | u32 count | new-incarnation shard ids (str) | u32 count | failed (str shard, str code, str reason)
/// | 32 merkle root | 32 prev seal hash</c>; format 1 lacks the key id and both lists. Encoded
/// seal = <c>signature input | u16 signature length | signature</c>; seal hash = SHA-256(encoded seal).
/// </summary>
public static partial class SealCodec
{
    /// <summary>Format byte of seals without key id, incarnations or failures (still read).</summary>
    public const byte FormatV1 = 1;

    /// <summary>Format byte of seals written today.</summary>
    public const byte FormatV2 = 2;

    /// <summary>Length of a signing key id.</summary>
    public const int KeyIdLength = 16;

    /// <summary>The previous-seal hash of seal number 1.</summary>
    public static byte[] NoPreviousSeal => new byte[32];

    /// <summary>The bytes the signature covers (format 1; kept for older seals and tests).</summary>
    public static byte[] SignatureInput(long number, DateTimeOffset time, IReadOnlyList<ChainHead> heads, byte[] merkleRoot, byte[] prevSealHash) =>
        SignatureInput(new Seal(number, time, heads, merkleRoot, prevSealHash, []));

    /// <summary>Signature input of a seal, in its format.</summary>
    public static byte[] SignatureInput(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        if (seal.Format == FormatV3)
        {
            return SignatureInputV3(seal);
        }

        ArgumentNullException.ThrowIfNull(seal.Heads);
        Check32(seal.MerkleRoot, "merkle root");
        Check32(seal.PrevSealHash, "previous seal hash");
        var v2 = seal.Format switch
        {
            FormatV1 when seal.KeyId is null && seal.NewIncarnations.Count == 0 && seal.Failed.Count == 0 => false,
            FormatV1 => throw new ForgeOneException(ErrorCodes.InvalidArgument, "a format-1 seal has no key id, incarnations or failures"),
            FormatV2 when seal.KeyId is { Length: KeyIdLength } => true,
            FormatV2 => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"a format-2 seal carries a {KeyIdLength}-byte key id"),
            _ => throw new ForgeOneException(ErrorCodes.AuditUnknownFormat, $"seal format {seal.Format} is not supported"),
        };
        var length = 1 + 8 + 8 + 4 + seal.Heads.Sum(h => 2 + Utf8.Length16(h.ShardId, "shard id") + 8 + 32) + 32 + 32;
        var details = v2 ? Details(seal) : [];
        length += v2 ? KeyIdLength + details.Length : 0;

        var output = new byte[length];
        var w = new SpanWriter(output);
        w.U8(seal.Format);
        w.I64(seal.Number);
        w.I64(seal.Time.UtcTicks);
        if (v2)
        {
            w.Bytes(seal.KeyId);
        }

        w.U32((uint)seal.Heads.Count);
        foreach (var h in seal.Heads)
        {
            Check32(h.Hash, "head hash");
            w.String16(h.ShardId);
            w.I64(h.Seq);
            w.Bytes(h.Hash);
        }

        w.Bytes(details);
        w.Bytes(seal.MerkleRoot);
        w.Bytes(seal.PrevSealHash);
        return output;
    }

    /// <summary>Encodes a seal for storage (the sealer's journal, evidence exports).</summary>
    public static byte[] Encode(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        if (seal.Format == FormatV3)
        {
            return EncodeV3(seal);
        }

        var input = SignatureInput(seal);
        var output = new byte[input.Length + 2 + seal.Signature.Length];
        var w = new SpanWriter(output);
        w.Bytes(input);
        w.Bytes16(seal.Signature);
        return output;
    }

    /// <summary>Decodes a seal; structure errors are <c>audit.unknown_format</c>. The signature is not checked here.</summary>
    public static Seal Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0 && data[0] == FormatV3)
        {
            return DecodeV3(data);
        }

        var r = new SpanReader(data, ErrorCodes.AuditUnknownFormat, "seal");
        var format = r.U8();
        if (format is not (FormatV1 or FormatV2))
        {
            throw new ForgeOneException(ErrorCodes.AuditUnknownFormat, $"seal format {format} is not supported (this code reads {FormatV1} to {FormatV3})");
        }

        var number = r.I64();
        var ticks = r.I64();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw r.Fail("time out of range");
        }

        var keyId = format == FormatV2 ? r.Bytes(KeyIdLength).ToArray() : null;
        var count = r.U32();
        if (count > r.Remaining / 42)
        {
            throw r.Fail($"head count {count} does not fit the remaining {r.Remaining} bytes");
        }

        var heads = new ChainHead[count];
        for (var i = 0; i < count; i++)
        {
            heads[i] = new ChainHead(r.String16(), r.I64(), r.Bytes(32).ToArray());
        }

        string[] incarnations = [];
        SealedShardFailure[] failed = [];
        if (format == FormatV2)
        {
            var n = r.U32();
            if (n > r.Remaining / 2)
            {
                throw r.Fail($"incarnation count {n} does not fit the remaining {r.Remaining} bytes");
            }

            incarnations = new string[n];
            for (var i = 0; i < n; i++)
            {
                incarnations[i] = r.String16();
            }

            n = r.U32();
            if (n > r.Remaining / 6)
            {
                throw r.Fail($"failure count {n} does not fit the remaining {r.Remaining} bytes");
            }

            failed = new SealedShardFailure[n];
            for (var i = 0; i < n; i++)
            {
                failed[i] = new SealedShardFailure(r.String16(), r.String16(), r.String16());
            }
        }

        var root = r.Bytes(32).ToArray();
        var prev = r.Bytes(32).ToArray();
        var signature = r.Bytes16().ToArray();
        r.End();
        return new Seal(number, new DateTimeOffset(ticks, TimeSpan.Zero), heads, root, prev, signature)
        {
            Format = format,
            KeyId = keyId,
            NewIncarnations = incarnations,
            Failed = failed,
        };
    }

    /// <summary>The seal's hash, which the next seal's <see cref="Seal.PrevSealHash"/> must equal.</summary>
    public static byte[] Hash(Seal seal) => SHA256.HashData(Encode(seal));

    /// <summary>
    /// Merkle root over heads in the given order. Leaf = <c>SHA-256(0x00 | str shard | i64 seq | 32 hash)</c>,
    /// node = <c>SHA-256(0x01 | left | right)</c>; an odd last node is carried up unchanged (never
    /// duplicated, so two head lists cannot share a root); no heads = SHA-256 of nothing.
    /// </summary>
    public static byte[] MerkleRoot(IReadOnlyList<ChainHead> heads)
    {
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0)
        {
            return SHA256.HashData([]);
        }

        var level = heads.Select(Leaf).ToList();
        while (level.Count > 1)
        {
            var next = new List<byte[]>((level.Count + 1) / 2);
            for (var i = 0; i < level.Count; i += 2)
            {
                next.Add(i + 1 < level.Count ? SHA256.HashData([0x01, .. level[i], .. level[i + 1]]) : level[i]);
            }

            level = next;
        }

        return level[0];
    }

    private static byte[] Leaf(ChainHead head)
    {
        Check32(head.Hash, "head hash");
        var buffer = new byte[1 + 2 + Utf8.Length16(head.ShardId, "shard id") + 8 + 32];
        var w = new SpanWriter(buffer);
        w.U8(0x00);
        w.String16(head.ShardId);
        w.I64(head.Seq);
        w.Bytes(head.Hash);
        return SHA256.HashData(buffer);
    }

    private static void Check32(byte[] value, string name)
    {
        if (value is null || value.Length != 32)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"seal {name} must be 32 bytes");
        }
    }

    internal static string Fingerprint(byte[] subjectPublicKeyInfo) => Convert.ToHexStringLower(KeyIdOf(subjectPublicKeyInfo));

    /// <summary>The key id of a public key: the first 16 bytes of SHA-256 over its SubjectPublicKeyInfo DER.</summary>
    internal static byte[] KeyIdOf(byte[] subjectPublicKeyInfo) => SHA256.HashData(subjectPublicKeyInfo).AsSpan(0, KeyIdLength).ToArray();
}
