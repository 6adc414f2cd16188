using Akka.Actor;
using Akka.Cluster;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using LightningDB;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>
/// Two ActorSystems on loopback sharing one data root, one of them hosting the residency zone
/// <c>eu</c>: the sealer seals every shard, zone shards included, into the journal and the seals
/// file outside the data root. With the cluster stopped, the tail of one shard's audit chain is
/// cut with a raw LMDB writer; after the restart the next seal leaves that shard out and names
/// it (its open check caught the cut) while every other shard is sealed as before, the finding
/// is in the system store's audit chain, and an authorized rewind brings the shard back.
/// </summary>
public sealed class TamperClusterSpec : IAsyncLifetime
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(30);
    private readonly TempRoot _root = new();
    private readonly List<InProcessNode> _nodes = [];
    private int[] _ports = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await StopAll();
        _root.Dispose();
    }

    private ForgeOneNodeOptions Options(int i)
    {
        var options = InProcessNode.Options_(_root, _ports[i], _ports[0]);
        options.ShardCounts = new ShardCountOptions { Logs = 2, Events = 1, Blobs = 1 };
        options.ResidencyZones = ["eu"];
        options.Region = i == 0 ? "default" : "eu";
        options.Singletons.SealInterval = TimeSpan.FromHours(1); // seals only when the test asks
        options.Scrubber.Enabled = false;
        options.Audit.SealsFile = SealsFile;
        return options;
    }

    private string SealsFile => Path.Combine(_root.Root, "seals", "audit-seals.log");

    private async Task StartAll()
    {
        _nodes.Add(await InProcessNode.StartAsync(Options(0)));
        _nodes.Add(await InProcessNode.StartAsync(Options(1)));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Akka.Cluster.Cluster.Get(_nodes[0].System).State.Members.Count(m => m.Status == MemberStatus.Up) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "two members up within 60 s");
            await Task.Delay(100);
        }
    }

    private async Task StopAll()
    {
        foreach (var node in _nodes)
        {
            await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _nodes.Clear();
    }

    private async Task<SealerProtocol.SealDone> Seal()
    {
        // The sealer proxy needs the singleton to be up after a (re)start: ask until it answers.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return Assert.IsType<SealerProtocol.SealDone>(await _nodes[0].Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.System), Ask));
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    [Fact]
    public async Task TailTruncationOfOneShard_IsLeftOutOfTheNextSealAndNamed_TheOthersSealNormally_AndARewindBringsItBack()
    {
        _ports = [InProcessNode.FreePort(), InProcessNode.FreePort()];
        await StartAll();
        var cluster = _nodes[0].Cluster;
        var appended = (LogAppended)await cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("one")), Ask);
        await cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("two")), Ask);
        var (euRegion, error) = cluster.Route(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("in eu"), Zone: "eu"));
        Assert.Null(error);
        Assert.IsType<LogAppended>(await euRegion!.Ask<object>(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("in eu"), Zone: "eu"), Ask));

        var first = await Seal();
        var victim = ShardSecurityFactory.ChainIdOf(ShardKind.Logs, appended.Id.Shard, null);
        var chains = new[] { null, "eu" }.SelectMany(zone => new[] { (ShardKind.System, 1), (ShardKind.Logs, 2), (ShardKind.Events, 1), (ShardKind.Blobs, 1) }
            .Where(k => zone is null || k.Item1 != ShardKind.System)
            .SelectMany(k => Enumerable.Range(0, k.Item2).Select(n => ShardSecurityFactory.ChainIdOf(k.Item1, n, zone)))).Order(StringComparer.Ordinal).ToArray();
        using var verifier = new SealVerifier(AuditSigner.Load(_root.KeysDirectory).ExportPublicKeyPem());
        var fileSeal = new SealLogFile(SealsFile).Latest()!;
        Assert.Equal(first.Number, fileSeal.Number);
        Assert.Equal(chains, fileSeal.Heads.Select(h => h.ShardId));
        Assert.Empty(fileSeal.Failed);
        var sealedVictim = fileSeal.HeadOf(victim)!;

        // The attacker, with the cluster stopped, cuts the victim's last (sealed) audit record.
        await StopAll();
        var path = ShardStore.PathFor(TestHosts.Create(_root.DataRoot, _root.KeysDirectory).StoreOptions(ShardKind.Logs, 0).DataRoot, ShardKind.Logs, appended.Id.Shard);
        using (var env = new LightningEnvironment(path, new EnvironmentConfiguration { MaxDatabases = 32, MapSize = 256L << 20 }))
        {
            env.Open(EnvironmentOpenFlags.NoSubDir);
            using var txn = env.BeginTransaction();
            using var audit = txn.OpenDatabase(Tables.Audit);
            Assert.Equal(MDBResultCode.Success, txn.Delete(audit, KeyCodec.UInt64((ulong)sealedVictim.Seq)));
            Assert.Equal(MDBResultCode.Success, txn.Commit());
        }

        await StartAll();
        var second = await Seal();
        Assert.True(second.Written);
        var failure = Assert.Single(second.Failed);
        Assert.Equal((victim, ErrorCodes.AuditChainBroken), (failure.ShardId, failure.Code));
        Assert.Contains($"Truncated at seq {sealedVictim.Seq}", failure.Reason, StringComparison.Ordinal);
        var afterCut = new SealLogFile(SealsFile).Latest()!;
        Assert.Equal(second.Number, afterCut.Number);
        Assert.Equal(chains.Where(c => c != victim), afterCut.Heads.Select(h => h.ShardId));
        Assert.All(afterCut.Heads, h => Assert.True(h.Matches(fileSeal.HeadOf(h.ShardId)!) || h.Seq > fileSeal.HeadOf(h.ShardId)!.Seq));

        // The victim refuses writes.
        cluster = _nodes[0].Cluster;
        var refused = await cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("three")), Ask);
        Assert.Equal(ErrorCodes.AuditChainBroken, Assert.IsType<LogFailed>(refused).Error.Code);

        // An operator records the rewind (as a restore would): the shard is back in the next seal.
        var rewind = await _nodes[0].Cluster.Sealer.Ask<object>(new SealerProtocol.StartIncarnation(Callers.Admin, [victim], "accepting the cut tail (test)"), Ask);
        var started = Assert.IsType<SealerProtocol.IncarnationStarted>(rewind);
        Assert.Equal([victim], started.Accepted);
        Assert.IsType<LogAppended>(await cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("four")), Ask));
        var third = await Seal();
        Assert.Empty(third.Failed);
        var all = new SealLogFile(SealsFile).ReadAll();
        Assert.Equal([victim], all.Single(s => s.Number == started.SealNumber).NewIncarnations);
        Assert.Equal(chains, all[^1].Heads.Select(h => h.ShardId));
        var history = verifier.VerifyHistory(all);
        Assert.True(history.IsValid, history.Message);

        // A non-admin cannot rewind anything.
        var denied = await _nodes[0].Cluster.Sealer.Ask<object>(new SealerProtocol.StartIncarnation(Callers.Writer, [victim], "let me"), Ask);
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<SealerProtocol.SealFailed>(denied).Error.Code);

        // The finding and the rewind are in the system store's audit chain.
        await StopAll();
        using var system = ShardStore.Open(TestHosts.Create(_root.DataRoot, _root.KeysDirectory).StoreOptions(ShardKind.System, 0));
        var records = system.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        Assert.True(AuditVerifier.Verify(records, "system-0000").IsValid);
        Assert.Contains(records, r => r.Action == ErrorCodes.AuditChainBroken && r.Resource.StartsWith($"integrity/{victim}/audit/", StringComparison.Ordinal) && r.Resource.EndsWith("/Truncated", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Action == "audit.incarnation" && r.Resource == $"integrity/seal/{started.SealNumber}");
    }
}
