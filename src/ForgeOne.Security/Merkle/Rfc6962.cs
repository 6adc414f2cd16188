using System.Numerics;
using System.Security.Cryptography;

namespace ForgeOne.Security;

/// <summary>
/// Merkle tree hashing and proof verification exactly as certificate-transparency logs do it
/// (RFC 6962 §2.1, verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2): leaf hash =
/// <c>SHA-256(0x00 | leaf)</c>, node hash = <c>SHA-256(0x01 | left | right)</c>, the tree over
/// <c>n</c> leaves splits at the largest power of two below <c>n</c>, the empty tree's root is
/// <c>SHA-256("")</c>. The distinct prefixes keep a leaf from passing for a node (second
/// preimages). Verification needs only hashes: proofs are <c>O(log n)</c> and so is checking them.
/// </summary>
public static class Rfc6962
{
    /// <summary>SHA-256 length.</summary>
    public const int HashLength = 32;

    /// <summary>Deepest proof a tree of at most 2^63 leaves can have.</summary>
    public const int MaxPathLength = 64;

    /// <summary>Root of the empty tree: SHA-256 of nothing.</summary>
    public static byte[] EmptyRoot => SHA256.HashData([]);

    /// <summary><c>SHA-256(0x00 | data)</c>.</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> data)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        h.AppendData([0x00]);
        h.AppendData(data);
        return h.GetHashAndReset();
    }

    /// <summary><c>SHA-256(0x01 | left | right)</c>.</summary>
    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> input = stackalloc byte[1 + HashLength + HashLength];
        input[0] = 0x01;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + HashLength)..]);
        return SHA256.HashData(input);
    }

    /// <summary>The largest power of two strictly below <paramref name="n"/> (n &gt; 1): where the tree over n leaves splits.</summary>
    public static long SplitPoint(long n) => n < 2 ? throw new ArgumentOutOfRangeException(nameof(n)) : 1L << (63 - BitOperations.LeadingZeroCount((ulong)(n - 1)));

    /// <summary>
    /// Checks that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of
    /// <paramref name="size"/> leaves whose root is <paramref name="root"/>, given its audit path
    /// (siblings bottom-up).
    /// </summary>
    public static bool VerifyInclusion(ReadOnlySpan<byte> leafHash, long index, long size, IReadOnlyList<byte[]> path, ReadOnlySpan<byte> root)
    {
        var computed = RootFromInclusion(leafHash, index, size, path);
        return computed is not null && CryptographicOperations.FixedTimeEquals(computed, root);
    }

    /// <summary>The root an inclusion path leads to, or null when the path cannot belong to a tree of that size.</summary>
    public static byte[]? RootFromInclusion(ReadOnlySpan<byte> leafHash, long index, long size, IReadOnlyList<byte[]> path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (index < 0 || index >= size || leafHash.Length != HashLength || path.Count > MaxPathLength)
        {
            return null;
        }

        var fn = index;
        var sn = size - 1;
        var r = leafHash.ToArray();
        foreach (var p in path)
        {
            if (sn == 0 || p is not { Length: HashLength })
            {
                return null;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = NodeHash(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 ? r : null;
    }

    /// <summary>
    /// Checks that the tree of <paramref name="size2"/> leaves with root <paramref name="root2"/>
    /// extends the tree of <paramref name="size1"/> leaves with root <paramref name="root1"/>
    /// (append-only: the first tree's leaves are the second's first leaves, unchanged). The empty
    /// tree is a prefix of every tree; equal sizes need equal roots and an empty proof.
    /// </summary>
    public static bool VerifyConsistency(long size1, long size2, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        if (size1 < 0 || size2 < size1 || root1.Length != HashLength || root2.Length != HashLength || proof.Count > 2 * MaxPathLength)
        {
            return false;
        }

        if (size1 == size2)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(root1, root2);
        }

        if (size1 == 0)
        {
            return proof.Count == 0;
        }

        if (proof.Count == 0 || proof.Any(p => p is not { Length: HashLength }))
        {
            return false;
        }

        // A first tree of 2^k leaves is a whole subtree of the second: its root starts the walk.
        var path = (size1 & (size1 - 1)) == 0 ? [root1.ToArray(), .. proof] : proof;
        var fn = size1 - 1;
        var sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = path[0];
        var sr = path[0];
        for (var i = 1; i < path.Count; i++)
        {
            var c = path[i];
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = NodeHash(c, fr);
                sr = NodeHash(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = NodeHash(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(fr, root1) && CryptographicOperations.FixedTimeEquals(sr, root2);
    }
}
