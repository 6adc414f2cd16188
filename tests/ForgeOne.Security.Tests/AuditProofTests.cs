using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

/// <summary>Seal format 3 (tree roots) and record / consistency proofs, checked from the attacker's side.</summary>
public sealed class AuditProofTests : IDisposable
{
    private readonly AuditSigner _signer = AuditSigner.Generate();
    private readonly AuditSigner _other = AuditSigner.Generate();
    private readonly SealVerifier _seals;
    private readonly ProofVerifier _verifier;
    private readonly DateTimeOffset _t0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public AuditProofTests()
    {
        _seals = new SealVerifier(_signer.ExportPublicKeyPem());
        _verifier = new ProofVerifier(_seals);
    }

    public void Dispose()
    {
        _signer.Dispose();
        _other.Dispose();
        _seals.Dispose();
    }

    private sealed record Shard(string Id, List<AuditRecord> Records, MerkleLog Tree)
    {
        public ChainHead Head => Records.Count == 0 ? AuditChain.Genesis(Id) : Records[^1].HeadFor(Id);
    }

    private Shard Build(string id, int count, Func<int, string>? action = null)
    {
        var chain = new AuditChain(id);
        var records = new List<AuditRecord>();
        var tree = new MerkleLog();
        for (var i = 0; i < count; i++)
        {
            var record = chain.Append(_t0.AddSeconds(i), "svc", action?.Invoke(i) ?? "logs.append", $"logs/{i % 3}", AuditOutcome.Success, $"{{\"n\":{i}}}");
            records.Add(record);
            tree.Append(AuditRecordCodec.Encode(record));
        }

        return new Shard(id, records, tree);
    }

    private Seal SealOf(AuditSigner signer, Seal? previous, params Shard[] shards) =>
        signer.CreateSeal(previous, _t0.AddHours(1), shards.Select(s => s.Head), treeRoots: shards.ToDictionary(s => s.Id, s => s.Tree.Root()));

    [Fact]
    public void SealV3_RoundTripsVerifiesAndFollowsAFormat2Seal()
    {
        var a = Build("logs-0001", 40);
        var b = Build("events-0002", 7);
        var v2 = _signer.CreateSeal(null, _t0, [a.Head, b.Head]);
        var v3 = SealOf(_signer, v2, a, b);

        var decoded = SealCodec.Decode(SealCodec.Encode(v3));

        Assert.Equal(SealCodec.FormatV3, decoded.Format);
        Assert.Equal(["events-0002", "logs-0001"], decoded.Heads.Select(h => h.ShardId));
        Assert.Equal([b.Tree.Root(), a.Tree.Root()], decoded.TreeRoots);
        Assert.Equal(SealCodec.HeaderLengthV3, SealCodec.SignatureInput(decoded).Length);
        Assert.True(_seals.Verify(decoded).IsValid);
        Assert.True(_seals.VerifyHistory([v2, decoded]).IsValid);
        var chains = new Dictionary<string, IEnumerable<AuditRecord>> { ["logs-0001"] = a.Records, ["events-0002"] = b.Records };
        Assert.True(_seals.VerifyChains(decoded, chains).IsValid, _seals.VerifyChains(decoded, chains).Message);
    }

    [Fact]
    public void SealV3_DetectsAnAlteredHeadTreeRootOrFailureList()
    {
        var a = Build("logs-0001", 10);
        var seal = SealOf(_signer, null, a);

        var otherRoot = seal with { TreeRoots = [Build("logs-0001", 9).Tree.Root()] };
        Assert.Equal(SealFailure.MerkleMismatch, _seals.Verify(otherRoot).Failure);
        var shorter = seal with { Heads = [a.Records[8].HeadFor(a.Id)] };
        Assert.Equal(SealFailure.MerkleMismatch, _seals.Verify(shorter).Failure);
        var failures = seal with { Failed = [new SealedShardFailure("logs-0002", "cluster.unavailable", "silent")] };
        Assert.Equal(SealFailure.BadSignature, _seals.Verify(failures).Failure);

        // Edited bytes of the encoded failure list no longer match the hash the header signed.
        var withFailure = _signer.CreateSeal(null, _t0, [a.Head], [new SealedShardFailure("logs-0002", "cluster.unavailable", "silent")], treeRoots: new Dictionary<string, byte[]> { [a.Id] = a.Tree.Root() });
        var encoded = SealCodec.Encode(withFailure);
        encoded[encoded.Length - 70] ^= 0x20;
        Assert.Equal(ErrorCodes.AuditUnknownFormat, Assert.Throws<ForgeOneException>(() => SealCodec.Decode(encoded)).Code);
    }

    [Fact]
    public void VerifyChains_FailsWhenTheRecordsDoNotHashToTheSignedTreeRoot()
    {
        var a = Build("logs-0001", 20);
        var wrongTree = _signer.CreateSeal(null, _t0, [a.Head], treeRoots: new Dictionary<string, byte[]> { [a.Id] = Build("logs-0001", 20, i => i == 3 ? "logs.query" : "logs.append").Tree.Root() });

        var result = _seals.VerifyChains(wrongTree, new Dictionary<string, IEnumerable<AuditRecord>> { [a.Id] = a.Records });

        Assert.Equal(SealFailure.TreeRootMismatch, result.Failure);
        Assert.Equal("logs-0001", result.ShardId);
    }

    [Fact]
    public void RecordProof_VerifiesOffline_AfterAFileRoundTrip()
    {
        var a = Build("logs-0001", 1000);
        var b = Build("blobs-0003", 5);
        var seal = SealOf(_signer, null, a, b);

        foreach (var seq in new long[] { 1, 617, 999, 1000 })
        {
            var file = AuditProofCodec.Encode(RecordProof.Create(seal, a.Id, a.Tree, seq, AuditRecordCodec.Encode(a.Records[(int)seq - 1])));
            var result = _verifier.Verify(AuditProofCodec.DecodeRecordProof(file));
            Assert.True(result.IsValid, result.Message);
            Assert.Contains($"record {seq} of logs-0001", result.Message);
        }
    }

    [Fact]
    public void RecordProof_FailsForAnAlteredRecord_EvenWhenItsHashIsRecomputed()
    {
        var a = Build("logs-0001", 100);
        var seal = SealOf(_signer, null, a);
        var proof = RecordProof.Create(seal, a.Id, a.Tree, 42, AuditRecordCodec.Encode(a.Records[41]));

        var flipped = proof.Record.ToArray();
        flipped[20] ^= 0x01;
        Assert.Equal(ProofFailure.RecordModified, _verifier.Verify(proof with { Record = flipped }).Failure);

        var rewritten = a.Records[41] with { Outcome = AuditOutcome.Denied };
        rewritten = rewritten with { Hash = AuditRecordCodec.ComputeHash(rewritten) };
        Assert.Equal(ProofFailure.RecordNotInTree, _verifier.Verify(proof with { Record = AuditRecordCodec.Encode(rewritten) }).Failure);

        // Another record of the same chain does not pass with this record's path.
        Assert.Equal(ProofFailure.RecordNotInTree, _verifier.Verify(proof with { Record = AuditRecordCodec.Encode(a.Records[42]) }).Failure);

        // The same record content from another shard's chain is not in this one.
        var foreign = Build("logs-0002", 100);
        Assert.Equal(ProofFailure.RecordNotInTree, _verifier.Verify(proof with { Record = AuditRecordCodec.Encode(foreign.Records[41]) }).Failure);
    }

    [Fact]
    public void RecordProof_FailsAgainstASealOfAnotherKey_OrAForgedOne()
    {
        var a = Build("logs-0001", 100);
        var foreignSeal = SealOf(_other, null, a);
        var proof = RecordProof.Create(foreignSeal, a.Id, a.Tree, 7, AuditRecordCodec.Encode(a.Records[6]));
        Assert.Equal(ProofFailure.WrongKey, _verifier.Verify(proof).Failure);

        // The other key's signature with our key id written into the header: the signature fails.
        var header = proof.Anchor.Header.ToArray();
        _signer.KeyId.CopyTo(header, 17);
        Assert.Equal(ProofFailure.BadSignature, _verifier.Verify(proof with { Anchor = proof.Anchor with { Header = header } }).Failure);

        var genuine = RecordProof.Create(SealOf(_signer, null, a), a.Id, a.Tree, 7, AuditRecordCodec.Encode(a.Records[6]));
        Assert.True(_verifier.Verify(genuine).IsValid);
        var later = genuine.Anchor.Header.ToArray();
        later[10] ^= 0x01; // the seal's time
        Assert.Equal(ProofFailure.BadSignature, _verifier.Verify(genuine with { Anchor = genuine.Anchor with { Header = later } }).Failure);
    }

    [Fact]
    public void RecordProof_FailsForATreeRootOrHeadTheSealDidNotSign()
    {
        var a = Build("logs-0001", 100);
        var b = Build("logs-0002", 100);
        var seal = SealOf(_signer, null, a, b);
        var proof = RecordProof.Create(seal, a.Id, a.Tree, 50, AuditRecordCodec.Encode(a.Records[49]));

        // A forged tree (the attacker's own records) under the genuine signed header.
        var forged = Build("logs-0001", 100, i => i == 49 ? "logs.delete" : "logs.append");
        var forgedProof = new RecordProof(AuditRecordCodec.Encode(forged.Records[49]), forged.Tree.InclusionProof(49, 100),
            proof.Anchor with { Head = forged.Head, TreeRoot = forged.Tree.Root() });
        Assert.Equal(ProofFailure.HeadNotSealed, _verifier.Verify(forgedProof).Failure);

        // The sealed head claimed for a shorter tree.
        Assert.Equal(ProofFailure.HeadNotSealed, _verifier.Verify(proof with { Anchor = proof.Anchor with { Head = a.Records[59].HeadFor(a.Id) } }).Failure);
    }

    [Fact]
    public void RecordProof_RefusesRecordsPastTheSealedHead_AndMalformedFiles()
    {
        var a = Build("logs-0001", 30);
        var seal = SealOf(_signer, null, a);
        Assert.Equal(ErrorCodes.NotFound, Assert.Throws<ForgeOneException>(() => RecordProof.Create(seal, a.Id, a.Tree, 31, [])).Code);
        Assert.Equal(ErrorCodes.NotFound, Assert.Throws<ForgeOneException>(() => RecordProof.Create(seal, "logs-0009", a.Tree, 3, [])).Code);
        var v2 = _signer.CreateSeal(null, _t0, [a.Head]);
        Assert.Equal(ErrorCodes.InvalidArgument, Assert.Throws<ForgeOneException>(() => RecordProof.Create(v2, a.Id, a.Tree, 3, [])).Code);

        var file = AuditProofCodec.Encode(RecordProof.Create(seal, a.Id, a.Tree, 3, AuditRecordCodec.Encode(a.Records[2])));
        Assert.Equal(ErrorCodes.AuditUnknownFormat, Assert.Throws<ForgeOneException>(() => AuditProofCodec.DecodeRecordProof(file.AsSpan(0, file.Length - 1))).Code);
        Assert.Equal(ErrorCodes.AuditUnknownFormat, Assert.Throws<ForgeOneException>(() => AuditProofCodec.DecodeRecordProof([.. file, 0])).Code);
        Assert.Equal(ErrorCodes.AuditUnknownFormat, Assert.Throws<ForgeOneException>(() => AuditProofCodec.DecodeConsistencyProof(file)).Code);
        file[0] = (byte)'X';
        Assert.Equal(ErrorCodes.AuditUnknownFormat, Assert.Throws<ForgeOneException>(() => AuditProofCodec.DecodeRecordProof(file)).Code);
    }

    [Fact]
    public void ConsistencyProof_VerifiesAnAppendOnlyShard_AndFailsForARewrittenOne()
    {
        var early = Build("logs-0001", 300);
        var late = Build("logs-0001", 1000);
        var seal1 = SealOf(_signer, null, early);
        var seal2 = SealOf(_signer, seal1, late);

        var proof = AuditProofCodec.DecodeConsistencyProof(AuditProofCodec.Encode(ConsistencyProof.Create(seal1, seal2, "logs-0001", late.Tree)));
        var ok = _verifier.Verify(proof);
        Assert.True(ok.IsValid, ok.Message);

        // Seal 2 signed over a history whose record 17 was rewritten: not an extension of seal 1.
        var rewritten = Build("logs-0001", 1000, i => i == 16 ? "logs.query" : "logs.append");
        var forkSeal = SealOf(_signer, seal1, rewritten);
        var fork = ConsistencyProof.Create(seal1, forkSeal, "logs-0001", rewritten.Tree);
        Assert.Equal(ProofFailure.Inconsistent, _verifier.Verify(fork).Failure);

        Assert.Equal(ProofFailure.Malformed, _verifier.Verify(proof with { Older = proof.Newer, Newer = proof.Older }).Failure);
        Assert.Equal(ProofFailure.WrongKey, _verifier.Verify(ConsistencyProof.Create(seal1, SealOf(_other, null, late), "logs-0001", late.Tree)).Failure);
    }
}
