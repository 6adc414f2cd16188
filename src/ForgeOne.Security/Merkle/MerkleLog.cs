namespace ForgeOne.Security;

/// <summary>
/// An append-only RFC 6962 Merkle tree held in memory, which answers roots of any earlier size
/// and builds inclusion and consistency proofs. It keeps every complete subtree hash
/// (<c>levels[k][i]</c> covers leaves <c>[i·2^k, (i+1)·2^k)</c>, about 2n hashes in all), so a
/// proof costs <c>O(log² n)</c> hashes at most and never a pass over the leaves. Not
/// thread-safe. Built by whoever serves proofs (an exporter reading a shard's audit table);
/// a shard only needs the <see cref="MerkleFrontier"/> of its tree.
/// </summary>
public sealed class MerkleLog
{
    private readonly List<List<byte[]>> _levels = [[]];

    /// <summary>Leaves appended so far.</summary>
    public long Count => _levels[0].Count;

    /// <summary>Appends a leaf given its data (hashed with the 0x00 prefix); returns its index.</summary>
    public long Append(ReadOnlySpan<byte> leafData) => AppendLeafHash(Rfc6962.LeafHash(leafData));

    /// <summary>Appends a leaf by its leaf hash; returns its index.</summary>
    public long AppendLeafHash(byte[] leafHash)
    {
        if (leafHash is not { Length: Rfc6962.HashLength })
        {
            throw new ArgumentException("a leaf hash is 32 bytes", nameof(leafHash));
        }

        var index = Count;
        var hash = leafHash;
        var position = index;
        for (var level = 0; ; level++)
        {
            if (level == _levels.Count)
            {
                _levels.Add([]);
            }

            _levels[level].Add(hash);
            if ((position & 1) == 0)
            {
                break;
            }

            // A right child completes its parent's subtree.
            hash = Rfc6962.NodeHash(_levels[level][(int)(position - 1)], hash);
            position >>= 1;
        }

        return index;
    }

    /// <summary>The leaf hash at <paramref name="index"/>.</summary>
    public byte[] LeafHash(long index) => _levels[0][checked((int)index)];

    /// <summary>Root of the tree of the first <paramref name="size"/> leaves.</summary>
    public byte[] Root(long size)
    {
        CheckSize(size);
        return size == 0 ? Rfc6962.EmptyRoot : Subtree(0, size);
    }

    /// <summary>Root over every leaf.</summary>
    public byte[] Root() => Root(Count);

    /// <summary>Audit path of leaf <paramref name="index"/> in the tree of the first <paramref name="size"/> leaves (RFC 6962 PATH, bottom-up).</summary>
    public IReadOnlyList<byte[]> InclusionProof(long index, long size)
    {
        CheckSize(size);
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"leaf {index} is not in a tree of {size}");
        }

        var path = new List<byte[]>();
        Path(index, 0, size, path);
        return path;
    }

    /// <summary>Proof that the tree of <paramref name="size2"/> leaves extends the one of <paramref name="size1"/> (RFC 6962 PROOF).</summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long size1, long size2)
    {
        CheckSize(size2);
        if (size1 < 0 || size1 > size2)
        {
            throw new ArgumentOutOfRangeException(nameof(size1), $"a tree of {size1} cannot precede one of {size2}");
        }

        var proof = new List<byte[]>();
        if (size1 > 0 && size1 < size2)
        {
            SubProof(size1, 0, size2, true, proof);
        }

        return proof;
    }

    private void Path(long m, long lo, long hi, List<byte[]> path)
    {
        var n = hi - lo;
        if (n == 1)
        {
            return;
        }

        var k = Rfc6962.SplitPoint(n);
        if (m < k)
        {
            Path(m, lo, lo + k, path);
            path.Add(Subtree(lo + k, hi));
        }
        else
        {
            Path(m - k, lo + k, hi, path);
            path.Add(Subtree(lo, lo + k));
        }
    }

    private void SubProof(long m, long lo, long hi, bool whole, List<byte[]> proof)
    {
        var n = hi - lo;
        if (m == n)
        {
            if (!whole)
            {
                proof.Add(Subtree(lo, hi));
            }

            return;
        }

        var k = Rfc6962.SplitPoint(n);
        if (m <= k)
        {
            SubProof(m, lo, lo + k, whole, proof);
            proof.Add(Subtree(lo + k, hi));
        }
        else
        {
            SubProof(m - k, lo + k, hi, false, proof);
            proof.Add(Subtree(lo, lo + k));
        }
    }

    // MTH(D[lo:hi]): a stored node when the range is an aligned power of two, else split.
    private byte[] Subtree(long lo, long hi)
    {
        var n = hi - lo;
        if ((n & (n - 1)) == 0)
        {
            var level = System.Numerics.BitOperations.TrailingZeroCount((ulong)n);
            return _levels[level][(int)(lo >> level)];
        }

        var k = Rfc6962.SplitPoint(n);
        return Rfc6962.NodeHash(Subtree(lo, lo + k), Subtree(lo + k, hi));
    }

    private void CheckSize(long size)
    {
        if (size < 0 || size > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"the log holds {Count} leaves, not {size}");
        }
    }
}
