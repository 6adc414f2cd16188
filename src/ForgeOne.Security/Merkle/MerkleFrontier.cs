using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// The right edge of an RFC 6962 tree: the roots of its complete subtrees, largest first (one
/// per set bit of the size), so at most 64 hashes. Enough to append a leaf and to give the root
/// in <c>O(log n)</c> without the leaves, which is what a shard keeps beside its chain head to
/// hand its tree root to the sealer. Immutable: <see cref="Append"/> returns a new value.
/// Stored form: <c>u8 1 | i64 size | (popcount(size) × 32 hash)</c>.
/// </summary>
public sealed class MerkleFrontier
{
    private const byte Format = 1;
    private readonly byte[][] _nodes;

    private MerkleFrontier(long size, byte[][] nodes)
    {
        Size = size;
        _nodes = nodes;
    }

    /// <summary>The empty tree.</summary>
    public static MerkleFrontier Empty { get; } = new(0, []);

    /// <summary>Leaves in the tree.</summary>
    public long Size { get; }

    /// <summary>The tree with one more leaf, given its leaf hash.</summary>
    public MerkleFrontier Append(byte[] leafHash)
    {
        if (leafHash is not { Length: Rfc6962.HashLength })
        {
            throw new ArgumentException("a leaf hash is 32 bytes", nameof(leafHash));
        }

        var nodes = new List<byte[]>(_nodes) { leafHash };
        // Each trailing 1 bit of the old size is a complete subtree the new leaf's subtree merges with.
        for (var s = Size; (s & 1) == 1; s >>= 1)
        {
            var right = nodes[^1];
            var left = nodes[^2];
            nodes.RemoveRange(nodes.Count - 2, 2);
            nodes.Add(Rfc6962.NodeHash(left, right));
        }

        return new MerkleFrontier(Size + 1, [.. nodes]);
    }

    /// <summary>The tree's root (SHA-256 of nothing when empty).</summary>
    public byte[] Root()
    {
        if (_nodes.Length == 0)
        {
            return Rfc6962.EmptyRoot;
        }

        var r = _nodes[^1];
        for (var i = _nodes.Length - 2; i >= 0; i--)
        {
            r = Rfc6962.NodeHash(_nodes[i], r);
        }

        return r;
    }

    /// <summary>The stored form.</summary>
    public byte[] Encode()
    {
        var output = new byte[1 + 8 + (_nodes.Length * Rfc6962.HashLength)];
        var w = new SpanWriter(output);
        w.U8(Format);
        w.I64(Size);
        foreach (var node in _nodes)
        {
            w.Bytes(node);
        }

        return output;
    }

    /// <summary>Reads the stored form; a malformed value is <c>storage.corrupt_record</c>.</summary>
    public static MerkleFrontier Decode(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data, ErrorCodes.StorageCorruptRecord, "merkle frontier");
        var format = r.U8();
        if (format != Format)
        {
            throw r.Fail($"format {format} is not {Format}");
        }

        var size = r.I64();
        if (size < 0)
        {
            throw r.Fail($"size {size} is negative");
        }

        var nodes = new byte[System.Numerics.BitOperations.PopCount((ulong)size)][];
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = r.Bytes(Rfc6962.HashLength).ToArray();
        }

        r.End();
        return new MerkleFrontier(size, nodes);
    }
}
