using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace ForgeOne.Security;

/// <summary>
/// Authenticates stored values that are not encrypted but must not be editable without the
/// shard's keys: index entries, <c>shard_meta</c>, <c>schema_history</c> rows and the id
/// high-water mark (docs/FORMATS.md "Record MAC"). The tag is SipHash-2-4 with 128-bit output
/// over <c>u8 table length | table | u16 key length | key | value</c>, keyed with
/// <c>HKDF-SHA256(keyring index key, info "forgeone.record-mac.v1")[0..16]</c>.
/// <para>
/// Why SipHash: it is a PRF built as a MAC for short inputs, and an index entry is tagged on the
/// ingest path for every record (22 ns here, against ~1 us for a one-shot HMAC-SHA256, which
/// would cost the ingest path ~15%). The values it covers are short; the index key never
/// rotates, so tags stay valid across data-key rotations. Thread-safe.
/// </para>
/// </summary>
public sealed class RecordMac
{
    /// <summary>Tag length in bytes.</summary>
    public const int TagLength = 16;

    private readonly ulong _k0;
    private readonly ulong _k1;

    /// <summary>The MAC of a keyring (its index key).</summary>
    public RecordMac(Keyring keyring)
        : this(DeriveKey(keyring))
    {
    }

    /// <summary>A MAC with a raw 16-byte SipHash key (tests).</summary>
    internal RecordMac(ReadOnlySpan<byte> key)
    {
        if (key.Length != 16)
        {
            throw new ArgumentException("a SipHash key is 16 bytes", nameof(key));
        }

        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(key);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(key[8..]);
    }

    /// <summary>Writes the tag of (<paramref name="table"/>, <paramref name="key"/>, <paramref name="value"/>) into <paramref name="tag"/> (16 bytes).</summary>
    public void Compute(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, Span<byte> tag)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (tag.Length < TagLength)
        {
            throw new ArgumentException($"a tag is {TagLength} bytes", nameof(tag));
        }

        var tableLength = Encoding.UTF8.GetByteCount(table);
        if (tableLength > byte.MaxValue || key.Length > ushort.MaxValue)
        {
            throw new ArgumentException("table name or key too long for a record MAC");
        }

        var length = 1 + tableLength + 2 + key.Length + value.Length;
        byte[]? rented = null;
        var input = length <= 1024 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            input[0] = (byte)tableLength;
            Encoding.UTF8.GetBytes(table, input[1..]);
            BinaryPrimitives.WriteUInt16BigEndian(input[(1 + tableLength)..], (ushort)key.Length);
            key.CopyTo(input[(3 + tableLength)..]);
            value.CopyTo(input[(3 + tableLength + key.Length)..]);
            SipHash128(_k0, _k1, input, tag);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>A new tag array.</summary>
    public byte[] Compute(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var tag = new byte[TagLength];
        Compute(table, key, value, tag);
        return tag;
    }

    /// <summary>True when <paramref name="tag"/> is the tag of the value (compared in constant time).</summary>
    public bool Verify(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> tag)
    {
        Span<byte> expected = stackalloc byte[TagLength];
        Compute(table, key, value, expected);
        return tag.Length == TagLength && CryptographicOperations.FixedTimeEquals(expected, tag);
    }

    private static byte[] DeriveKey(Keyring keyring)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        var key = new byte[16];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, keyring.IndexKey, key, salt: [], info: "forgeone.record-mac.v1"u8.ToArray());
        return key;
    }

    /// <summary>SipHash-2-4 with 128-bit output (the reference's <c>siphash</c> with outlen 16; libsodium's <c>crypto_shorthash_siphashx24</c>).</summary>
    internal static void SipHash128(ulong k0, ulong k1, ReadOnlySpan<byte> input, Span<byte> output)
    {
        var v0 = k0 ^ 0x736f6d6570736575UL;
        var v1 = (k1 ^ 0x646f72616e646f6dUL) ^ 0xee;
        var v2 = k0 ^ 0x6c7967656e657261UL;
        var v3 = k1 ^ 0x7465646279746573UL;

        var blocks = input.Length / 8;
        for (var i = 0; i < blocks; i++)
        {
            var m = BinaryPrimitives.ReadUInt64LittleEndian(input[(i * 8)..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        var b = (ulong)(uint)input.Length << 56;
        var tail = input[(blocks * 8)..];
        for (var i = 0; i < tail.Length; i++)
        {
            b |= (ulong)tail[i] << (8 * i);
        }

        v3 ^= b;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= b;

        v2 ^= 0xee;
        for (var i = 0; i < 4; i++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(output, v0 ^ v1 ^ v2 ^ v3);
        v1 ^= 0xdd;
        for (var i = 0; i < 4; i++)
        {
            Round(ref v0, ref v1, ref v2, ref v3);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(output[8..], v0 ^ v1 ^ v2 ^ v3);
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }
}
