using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class SealTests : IDisposable
{
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly SealVerifier _verifier;
    private readonly DateTimeOffset _t0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public SealTests() => _verifier = new SealVerifier(_signer.ExportPublicKeyPem());

    public void Dispose()
    {
        _signer.Dispose();
        _verifier.Dispose();
    }

    private static ChainHead Head(string shard, long seq) => new(shard, seq, System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{shard}:{seq}")));

    private List<Seal> History(int count)
    {
        var seals = new List<Seal>();
        Seal? previous = null;
        for (var i = 1; i <= count; i++)
        {
            previous = _signer.CreateSeal(previous, _t0.AddMinutes(i), [Head("logs-0002", i * 10), Head("logs-0001", i * 5), Head("events-0001", i)]);
            seals.Add(previous);
        }

        return seals;
    }

    [Fact]
    public void CreateSeal_SortsHeadsChainsAndVerifiesWithThePublicKeyOnly()
    {
        var seals = History(3);

        Assert.Equal(["events-0001", "logs-0001", "logs-0002"], seals[0].Heads.Select(h => h.ShardId));
        Assert.Equal(new byte[32], seals[0].PrevSealHash);
        Assert.Equal(SealCodec.Hash(seals[0]), seals[1].PrevSealHash);
        Assert.Equal(64, seals[0].Signature.Length);
        Assert.True(_verifier.Verify(seals[2]).IsValid);
        var history = _verifier.VerifyHistory(seals);
        Assert.True(history.IsValid, history.Message);
        Assert.DoesNotContain("PRIVATE", _signer.ExportPublicKeyPem(), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_DetectsForgedSignature()
    {
        using var mallory = AuditSigner.Generate();
        // Signed by another key but claiming ours: the key id alone would give it away otherwise.
        var forged = mallory.CreateSeal(null, _t0, [Head("logs-0001", 1)]) with { KeyId = _signer.KeyId };
        forged = forged with { Signature = mallory.Sign(SealCodec.SignatureInput(forged)) };

        var result = _verifier.Verify(forged);

        Assert.Equal(SealFailure.BadSignature, result.Failure);
        Assert.Equal(1, result.FirstBadNumber);
    }

    [Fact]
    public void Verify_DetectsAModifiedHeadInASignedSeal()
    {
        var seal = History(1)[0];
        var heads = seal.Heads.ToArray();
        heads[1] = heads[1] with { Seq = 1 }; // pretend the shard was sealed lower (hide a truncation)
        var modified = seal with { Heads = heads, MerkleRoot = SealCodec.MerkleRoot(heads) };

        Assert.Equal(SealFailure.BadSignature, _verifier.Verify(modified).Failure);
    }

    [Fact]
    public void Verify_DetectsMerkleRootNotMatchingTheHeads()
    {
        var heads = new[] { Head("a", 1), Head("b", 2) };
        var root = SealCodec.MerkleRoot([Head("a", 1), Head("b", 3)]);
        var prev = SealCodec.NoPreviousSeal;
        var signature = _signer.Sign(SealCodec.SignatureInput(1, _t0, heads, root, prev));

        Assert.Equal(SealFailure.MerkleMismatch, _verifier.Verify(new Seal(1, _t0, heads, root, prev, signature)).Failure);
    }

    [Fact]
    public void VerifyHistory_DetectsReorderedSeals()
    {
        var seals = History(5);
        (seals[1], seals[2]) = (seals[2], seals[1]);

        var result = _verifier.VerifyHistory(seals);

        Assert.Equal(SealFailure.Reordered, result.Failure);
        Assert.Equal(2, result.FirstBadNumber);
    }

    [Fact]
    public void VerifyHistory_DetectsMissingSeal()
    {
        var seals = History(5);
        seals.RemoveAt(2);

        var result = _verifier.VerifyHistory(seals);

        Assert.Equal(SealFailure.Missing, result.Failure);
        Assert.Equal(3, result.FirstBadNumber);
    }

    [Fact]
    public void VerifyHistory_DetectsASealReplacedByAnotherValidlySignedOne()
    {
        var seals = History(3);
        // Re-sign a different seal 2 (e.g. an insider with the key rewrites history): seal 3 no longer links.
        seals[1] = _signer.CreateSeal(seals[0], _t0.AddHours(5), [Head("logs-0001", 10)]);

        var result = _verifier.VerifyHistory(seals);

        Assert.Equal(SealFailure.BrokenLink, result.Failure);
        Assert.Equal(3, result.FirstBadNumber);
    }

    [Fact]
    public void VerifyHistory_DetectsAShardHeadGoingBackwards()
    {
        var s1 = _signer.CreateSeal(null, _t0, [Head("logs-0001", 50)]);
        var s2 = _signer.CreateSeal(s1, _t0.AddMinutes(1), [Head("logs-0001", 40)]);

        var result = _verifier.VerifyHistory([s1, s2]);

        Assert.Equal(SealFailure.HeadRegressed, result.Failure);
        Assert.Equal(2, result.FirstBadNumber);
        Assert.Equal("logs-0001", result.ShardId);
    }

    [Fact]
    public void VerifyHistory_StartsAfterATrustedAnchor()
    {
        var seals = History(4);

        Assert.True(_verifier.VerifyHistory(seals.Skip(2), anchor: seals[1]).IsValid);
        Assert.Equal(SealFailure.Missing, _verifier.VerifyHistory(seals.Skip(3), anchor: seals[1]).Failure);
    }

    [Fact]
    public void VerifyChains_DetectsAChainTruncatedBelowItsSealedHead()
    {
        var logs = AuditChainTests.BuildChain(20, "logs-0001");
        var events = AuditChainTests.BuildChain(5, "events-0001");
        var seal = _signer.CreateSeal(null, _t0, [logs[^1].HeadFor("logs-0001"), events[^1].HeadFor("events-0001")]);

        var ok = _verifier.VerifyChains(seal, new Dictionary<string, IEnumerable<AuditRecord>> { ["logs-0001"] = logs, ["events-0001"] = events });
        var truncated = _verifier.VerifyChains(seal, new Dictionary<string, IEnumerable<AuditRecord>> { ["logs-0001"] = logs.Take(12), ["events-0001"] = events });

        Assert.True(ok.IsValid, ok.Message);
        Assert.Equal(SealFailure.ChainInvalid, truncated.Failure);
        Assert.Equal("logs-0001", truncated.ShardId);
        Assert.Equal(AuditFailure.Truncated, truncated.Chain!.Failure);
        Assert.Equal(13, truncated.Chain.FirstBadSeq);
    }

    [Fact]
    public void Codec_RoundTripsAndRejectsUnknownFormat()
    {
        var seal = History(2)[1];

        var decoded = SealCodec.Decode(SealCodec.Encode(seal));

        Assert.Equal(seal.Number, decoded.Number);
        Assert.Equal(seal.Time, decoded.Time);
        Assert.Equal(SealCodec.Hash(seal), SealCodec.Hash(decoded));
        Assert.True(_verifier.Verify(decoded).IsValid);
        var bytes = SealCodec.Encode(seal);
        bytes[0] = 9;
        Fixtures.Throws(ErrorCodes.AuditUnknownFormat, () => SealCodec.Decode(bytes));
    }

    [Fact]
    public void MerkleRoot_DependsOnEveryHeadAndItsOrder()
    {
        var heads = Enumerable.Range(1, 5).Select(i => Head($"s{i}", i)).ToArray();
        var root = SealCodec.MerkleRoot(heads);

        Assert.NotEqual(root, SealCodec.MerkleRoot(heads[..4]));
        Assert.NotEqual(root, SealCodec.MerkleRoot([heads[1], heads[0], .. heads[2..]]));
        Assert.NotEqual(root, SealCodec.MerkleRoot([.. heads[..4], heads[4] with { Seq = 6 }]));
        Assert.Equal(32, SealCodec.MerkleRoot([]).Length);
    }

    [Fact]
    public void AuditSigner_CreatesOwnerOnlyKeyFileAndReloadsTheSameKey()
    {
        using var dir = new TempDir();
        var keys = dir.Sub("keys");
        using var first = AuditSigner.LoadOrCreate(keys);
        using var second = AuditSigner.LoadOrCreate(keys);

        Assert.Equal(first.ExportPublicKeyPem(), second.ExportPublicKeyPem());
        Assert.Equal(first.PublicKeyFingerprint, second.PublicKeyFingerprint);
        var path = Path.Combine(keys, AuditSigner.KeyFileName);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            Fixtures.Throws(ErrorCodes.CryptoKeyFileInsecure, () => AuditSigner.LoadOrCreate(keys));
        }
    }

    [Fact]
    public void SealVerifier_RejectsAnInvalidPublicKey()
    {
        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => new SealVerifier("not a key"));
        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => AuditSigner.FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"));
    }
}
