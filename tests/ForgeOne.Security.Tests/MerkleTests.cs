using System.Security.Cryptography;

namespace ForgeOne.Security.Tests;

/// <summary>
/// The Merkle log against the RFC 6962 definitions written out recursively (MTH, PATH, PROOF),
/// the published CT test vectors, and every way a proof can be wrong.
/// </summary>
public sealed class MerkleTests
{
    // The leaves of the RFC 6962 test vectors used by certificate-transparency implementations.
    private static readonly byte[][] VectorLeaves =
    [
        [],
        [0x00],
        [0x10],
        [0x20, 0x21],
        [0x30, 0x31],
        [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ];

    private static readonly string[] VectorRoots =
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    private static byte[][] Leaves(int n) => [.. Enumerable.Range(0, n).Select(i => BitConverter.GetBytes(i * 7919))];

    private static MerkleLog LogOf(byte[][] leaves)
    {
        var log = new MerkleLog();
        foreach (var leaf in leaves)
        {
            log.Append(leaf);
        }

        return log;
    }

    // RFC 6962 §2.1, literally.
    private static byte[] Mth(ReadOnlySpan<byte[]> d)
    {
        if (d.Length == 0)
        {
            return SHA256.HashData([]);
        }

        if (d.Length == 1)
        {
            return SHA256.HashData([0x00, .. d[0]]);
        }

        var k = (int)Rfc6962.SplitPoint(d.Length);
        return SHA256.HashData([0x01, .. Mth(d[..k]), .. Mth(d[k..])]);
    }

    private static List<byte[]> RfcPath(int m, ReadOnlySpan<byte[]> d)
    {
        if (d.Length <= 1)
        {
            return [];
        }

        var k = (int)Rfc6962.SplitPoint(d.Length);
        return m < k ? [.. RfcPath(m, d[..k]), Mth(d[k..])] : [.. RfcPath(m - k, d[k..]), Mth(d[..k])];
    }

    private static List<byte[]> RfcSubProof(int m, ReadOnlySpan<byte[]> d, bool b)
    {
        if (m == d.Length)
        {
            return b ? [] : [Mth(d)];
        }

        var k = (int)Rfc6962.SplitPoint(d.Length);
        return m <= k ? [.. RfcSubProof(m, d[..k], b), Mth(d[k..])] : [.. RfcSubProof(m - k, d[k..], false), Mth(d[..k])];
    }

    [Fact]
    public void Root_MatchesThePublishedRfc6962Vectors()
    {
        var log = LogOf(VectorLeaves);

        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Convert.ToHexStringLower(log.Root(0)));
        for (var n = 1; n <= VectorLeaves.Length; n++)
        {
            Assert.Equal(VectorRoots[n - 1], Convert.ToHexStringLower(log.Root(n)));
        }
    }

    [Fact]
    public void RootsAndProofs_EqualTheRecursiveDefinitions_ForEverySizeUpTo70()
    {
        var leaves = Leaves(70);
        var log = LogOf(leaves);
        for (var n = 1; n <= leaves.Length; n++)
        {
            var root = log.Root(n);
            Assert.Equal(Mth(leaves.AsSpan(0, n)), root);
            for (var m = 0; m < n; m++)
            {
                var path = log.InclusionProof(m, n);
                Assert.Equal(RfcPath(m, leaves.AsSpan(0, n)), path);
                Assert.True(Rfc6962.VerifyInclusion(log.LeafHash(m), m, n, path, root), $"inclusion of {m} in {n}");
            }

            for (var m = 1; m < n; m++)
            {
                var proof = log.ConsistencyProof(m, n);
                Assert.Equal(RfcSubProof(m, leaves.AsSpan(0, n), true), proof);
                Assert.True(Rfc6962.VerifyConsistency(m, n, log.Root(m), root, proof), $"consistency {m} -> {n}");
            }
        }
    }

    [Fact]
    public void Frontier_GivesTheSameRootAsTheFullTree_AndRoundTrips()
    {
        var leaves = Leaves(300);
        var log = LogOf(leaves);
        var frontier = MerkleFrontier.Empty;
        Assert.Equal(Rfc6962.EmptyRoot, frontier.Root());
        for (var i = 0; i < leaves.Length; i++)
        {
            frontier = frontier.Append(Rfc6962.LeafHash(leaves[i]));
            Assert.Equal(log.Root(i + 1), frontier.Root());
        }

        var decoded = MerkleFrontier.Decode(frontier.Encode());
        Assert.Equal(300, decoded.Size);
        Assert.Equal(frontier.Root(), decoded.Root());
        Assert.Equal(log.Root(300), decoded.Root());
    }

    [Fact]
    public void Frontier_RefusesATruncatedOrPaddedForm()
    {
        var encoded = MerkleFrontier.Empty.Append(new byte[32]).Append(new byte[32]).Append(new byte[32]).Encode();

        Assert.Equal(1 + 8 + (2 * 32), encoded.Length);
        Assert.Equal("storage.corrupt_record", Assert.Throws<ForgeOne.Common.ForgeOneException>(() => MerkleFrontier.Decode(encoded.AsSpan(0, encoded.Length - 1))).Code);
        Assert.Equal("storage.corrupt_record", Assert.Throws<ForgeOne.Common.ForgeOneException>(() => MerkleFrontier.Decode([.. encoded, 0])).Code);
    }

    [Fact]
    public void VerifyInclusion_FailsForAnAlteredLeafPathIndexSizeOrRoot()
    {
        var log = LogOf(Leaves(1000));
        var root = log.Root();
        var path = log.InclusionProof(617, 1000);
        var leaf = log.LeafHash(617);
        Assert.True(Rfc6962.VerifyInclusion(leaf, 617, 1000, path, root));

        Assert.False(Rfc6962.VerifyInclusion(log.LeafHash(618), 617, 1000, path, root));
        Assert.False(Rfc6962.VerifyInclusion(leaf, 616, 1000, path, root));
        Assert.False(Rfc6962.VerifyInclusion(leaf, 617, 2048, path, root));
        Assert.False(Rfc6962.VerifyInclusion(leaf, 617, 600, path, root));
        // (A path alone does not pin the size: 617 sits alike in trees of 999, 1000 and 1001
        // leaves. The size is bound by the signed tree head the root comes with.)
        Assert.False(Rfc6962.VerifyInclusion(leaf, 617, 1000, path, log.Root(999)));
        Assert.False(Rfc6962.VerifyInclusion(leaf, 617, 1000, path.Take(path.Count - 1).ToList(), root));
        Assert.False(Rfc6962.VerifyInclusion(leaf, 617, 1000, [.. path, path[0]], root));
        Assert.False(Rfc6962.VerifyInclusion(leaf, 1000, 1000, path, root));
        for (var i = 0; i < path.Count; i++)
        {
            var altered = path.Select(p => p.ToArray()).ToList();
            altered[i][5] ^= 0x01;
            Assert.False(Rfc6962.VerifyInclusion(leaf, 617, 1000, altered, root), $"hash {i} altered");
        }

        // A node hash does not pass for a leaf: the 0x00/0x01 prefixes differ.
        Assert.False(Rfc6962.VerifyInclusion(Rfc6962.NodeHash(log.LeafHash(616), leaf), 308, 500, log.InclusionProof(308, 500), log.Root(1000)));
    }

    [Fact]
    public void VerifyConsistency_FailsForARewrittenPrefixOrAlteredProof()
    {
        var leaves = Leaves(1000);
        var log = LogOf(leaves);
        var proof = log.ConsistencyProof(333, 1000);
        Assert.True(Rfc6962.VerifyConsistency(333, 1000, log.Root(333), log.Root(1000), proof));

        // The same later tree, but one early leaf rewritten: its root no longer extends the old one.
        var rewritten = (byte[][])leaves.Clone();
        rewritten[10] = [0xff];
        var forked = LogOf(rewritten);
        Assert.False(Rfc6962.VerifyConsistency(333, 1000, log.Root(333), forked.Root(1000), forked.ConsistencyProof(333, 1000)));
        Assert.False(Rfc6962.VerifyConsistency(333, 1000, log.Root(333), log.Root(1000), proof.Skip(1).ToList()));
        Assert.False(Rfc6962.VerifyConsistency(332, 1000, log.Root(333), log.Root(1000), proof));
        Assert.False(Rfc6962.VerifyConsistency(333, 1000, log.Root(334), log.Root(1000), proof));
        Assert.False(Rfc6962.VerifyConsistency(1000, 333, log.Root(1000), log.Root(333), proof));
        Assert.False(Rfc6962.VerifyConsistency(500, 500, log.Root(500), log.Root(499), []));
        Assert.True(Rfc6962.VerifyConsistency(500, 500, log.Root(500), log.Root(500), []));
        for (var i = 0; i < proof.Count; i++)
        {
            var altered = proof.Select(p => p.ToArray()).ToList();
            altered[i][0] ^= 0x80;
            Assert.False(Rfc6962.VerifyConsistency(333, 1000, log.Root(333), log.Root(1000), altered), $"hash {i} altered");
        }
    }

    [Fact]
    public void Proofs_GrowWithLogN()
    {
        var log = LogOf(Leaves(4096));

        Assert.Equal(12, log.InclusionProof(1234, 4096).Count);
        Assert.True(log.ConsistencyProof(1000, 4096).Count <= 2 * 12);
    }
}
