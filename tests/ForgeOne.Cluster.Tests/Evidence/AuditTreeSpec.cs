using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Integrity;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Singletons;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Evidence;

/// <summary>
/// A real shard reports the RFC 6962 root of its stored audit records with its head; the
/// sealer's plan turns the roots into a format-3 seal; a record proof built from the shard file
/// verifies with the public key alone, and an edited stored record does not.
/// </summary>
public sealed class AuditTreeSpec : TestKit, IDisposable
{
    private const string Store = "logs-0000";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly TempRoot _root = new();
    private readonly SealLogFile _seals;
    private readonly AuditSigner _signer;
    private readonly ShardHost _host;

    public AuditTreeSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "audit-tree")
    {
        _seals = new SealLogFile(Path.Combine(_root.Root, "seals", "audit-seals.log"));
        _signer = AuditSigner.LoadFor(_seals, _root.KeysDirectory, _root.DataRoot);
        _host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory).WithTamperEvidence(_seals, _signer, new ScrubberOptions { Enabled = false });
    }

    void IDisposable.Dispose()
    {
        _signer.Dispose();
        _root.Dispose();
    }

    private IActorRef Start() => Sys.ActorOf(ShardActor.Props(_host, "logs-0", "test-node"));

    private void Stop(IActorRef shard)
    {
        Watch(shard);
        shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(shard, Wait);
    }

    private ShardProtocol.AuditHead Head(IActorRef shard, long? since = null)
    {
        shard.Tell(new ShardProtocol.GetAuditHead(Callers.Admin, ShardKind.Logs, 0, since));
        return ExpectMsg<ShardProtocol.AuditHead>(Wait);
    }

    private void Append(IActorRef shard, int count)
    {
        for (var i = 0; i < count; i++)
        {
            shard.Tell(new AppendLog(Callers.Writer, "orders", TestHosts.Entry($"entry {i}")));
            ExpectMsg<LogAppended>(Wait);
        }
    }

    // The shard file read as an exporter does: every stored record, in seq order.
    private List<AuditRecord> StoredRecords()
    {
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0));
        return store.Read(txn => AuditChainCheck.Records(txn, 1).ToList());
    }

    private static MerkleLog TreeOf(IEnumerable<AuditRecord> records)
    {
        var tree = new MerkleLog();
        foreach (var r in records)
        {
            tree.Append(AuditRecordCodec.Encode(r));
        }

        return tree;
    }

    [Fact]
    public void Shard_ReportsTheTreeRootOfItsStoredRecords_AcrossAppendsAndReopens()
    {
        var shard = Start();
        Append(shard, 5);
        var first = Head(shard);
        Stop(shard);
        var records = StoredRecords();
        Assert.Equal(first.Sequence, records.Count);
        Assert.Equal(TreeOf(records).Root(), first.TreeRoot);

        shard = Start();
        Append(shard, 3);
        var second = Head(shard, first.Sequence);
        var third = Head(shard, first.Sequence); // a read audit may join in between: the root follows the head
        Stop(shard);
        records = StoredRecords();
        var tree = TreeOf(records);
        Assert.True(second.Sequence > first.Sequence);
        Assert.Equal(tree.Root(second.Sequence), second.TreeRoot);
        Assert.Equal(tree.Root(third.Sequence), third.TreeRoot);
        Assert.True(Rfc6962.VerifyConsistency(first.Sequence, second.Sequence, first.TreeRoot!, second.TreeRoot!, tree.ConsistencyProof(first.Sequence, second.Sequence)));
    }

    [Fact]
    public void SealerPlan_MakesAFormat3Seal_WhoseRecordProofsVerifyOffline()
    {
        var shard = Start();
        Append(shard, 4);
        var h = Head(shard);
        Stop(shard);
        var plan = SealRound.Plan(new SealLedger(), [new HeadReport(h.Chain, new ChainHead(h.Chain, h.Sequence, h.Hash), h.HashAtSince, h.Broken, h.TreeRoot)]);
        Assert.NotNull(plan.TreeRoots);
        var seal = _signer.CreateSeal(null, DateTimeOffset.UtcNow, plan.Heads, plan.Failed, plan.NewIncarnations, plan.TreeRoots);
        Assert.Equal(SealCodec.FormatV3, seal.Format);

        var records = StoredRecords();
        var tree = TreeOf(records);
        using var key = new SealVerifier(_signer.ExportPublicKeyPem());
        Assert.True(key.VerifyChains(seal, new Dictionary<string, IEnumerable<AuditRecord>> { [Store] = records }).IsValid);
        var verifier = new ProofVerifier(key);
        var proof = RecordProof.Create(seal, Store, tree, 3, AuditRecordCodec.Encode(records[2]));
        Assert.True(verifier.Verify(AuditProofCodec.DecodeRecordProof(AuditProofCodec.Encode(proof))).IsValid);

        // The stored record as an attacker with file access rewrites it (and its hash): not in the sealed tree.
        var edited = records[2] with { Principal = "someone-else" };
        edited = edited with { Hash = AuditRecordCodec.ComputeHash(edited) };
        Assert.Equal(ProofFailure.RecordNotInTree, verifier.Verify(proof with { Record = AuditRecordCodec.Encode(edited) }).Failure);
    }

    [Fact]
    public void SealRound_StaysAtFormat2_WhenAHeadHasNoTreeRoot()
    {
        var a = new HeadReport("logs-0001", new ChainHead("logs-0001", 3, new byte[32]), null, null, new byte[32]);
        var b = new HeadReport("logs-0002", new ChainHead("logs-0002", 3, new byte[32]), null, null);

        Assert.Null(SealRound.Plan(new SealLedger(), [a, b]).TreeRoots);
        Assert.Equal(["logs-0001"], SealRound.Plan(new SealLedger(), [a]).TreeRoots!.Keys);
    }
}
