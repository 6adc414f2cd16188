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
public sealed record Seal(long Number, DateTimeOffset Time, IReadOnlyList<ChainHead> Heads, byte[] MerkleRoot, byte[] PrevSealHash, byte[] Signature);

/// <summary>
/// Binary forms of a seal (docs/FORMATS.md "Seal"). Signature input =
/// <c>u8 format=1 | i64 number | i64 time (UTC ticks) | u32 head count | heads (str shard, i64 seq, 32 hash) | 32 merkle root | 32 prev seal hash</c>;
/// encoded seal = <c>signature input | u16 signature length | signature</c>; seal hash = SHA-256(encoded seal).
/// </summary>
public static class SealCodec
{
    /// <summary>Format byte.</summary>
    public const byte FormatV1 = 1;

    /// <summary>The previous-seal hash of seal number 1.</summary>
    public static byte[] NoPreviousSeal => new byte[32];

    /// <summary>The bytes the signature covers.</summary>
    public static byte[] SignatureInput(long number, DateTimeOffset time, IReadOnlyList<ChainHead> heads, byte[] merkleRoot, byte[] prevSealHash)
    {
        ArgumentNullException.ThrowIfNull(heads);
        Check32(merkleRoot, "merkle root");
        Check32(prevSealHash, "previous seal hash");
        var length = 1 + 8 + 8 + 4 + heads.Sum(h => 2 + Utf8.Length16(h.ShardId, "shard id") + 8 + 32) + 32 + 32;
        var output = new byte[length];
        var w = new SpanWriter(output);
        w.U8(FormatV1);
        w.I64(number);
        w.I64(time.UtcTicks);
        w.U32((uint)heads.Count);
        foreach (var h in heads)
        {
            Check32(h.Hash, "head hash");
            w.String16(h.ShardId);
            w.I64(h.Seq);
            w.Bytes(h.Hash);
        }

        w.Bytes(merkleRoot);
        w.Bytes(prevSealHash);
        return output;
    }

    /// <summary>Signature input of an existing seal.</summary>
    public static byte[] SignatureInput(Seal seal)
    {
        ArgumentNullException.ThrowIfNull(seal);
        return SignatureInput(seal.Number, seal.Time, seal.Heads, seal.MerkleRoot, seal.PrevSealHash);
    }

    /// <summary>Encodes a seal for storage (the sealer's journal, evidence exports).</summary>
    public static byte[] Encode(Seal seal)
    {
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
        var r = new SpanReader(data, ErrorCodes.AuditUnknownFormat, "seal");
        var format = r.U8();
        if (format != FormatV1)
        {
            throw new ForgeOneException(ErrorCodes.AuditUnknownFormat, $"seal format {format} is not supported (expected {FormatV1})");
        }

        var number = r.I64();
        var ticks = r.I64();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw r.Fail("time out of range");
        }

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

        var root = r.Bytes(32).ToArray();
        var prev = r.Bytes(32).ToArray();
        var signature = r.Bytes16().ToArray();
        r.End();
        return new Seal(number, new DateTimeOffset(ticks, TimeSpan.Zero), heads, root, prev, signature);
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

    internal static string Fingerprint(byte[] subjectPublicKeyInfo) =>
        Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo).AsSpan(0, 16));
}
