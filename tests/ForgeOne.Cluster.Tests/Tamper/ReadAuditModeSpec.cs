using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Tamper;

/// <summary>
/// <c>Shards:ReadAuditMode</c>: in the default bounded mode a read answers at once and its audit
/// record commits within the delay; in the sync mode the answer waits for the record's commit,
/// so an answered read always has its record on disk.
/// </summary>
public sealed class ReadAuditModeSpec : TestKit, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private readonly TempRoot _root = new();

    public ReadAuditModeSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "read-audit-mode")
    {
    }

    void IDisposable.Dispose() => _root.Dispose();

    private (IActorRef Shard, HookedStore Store, RecordId Id, long AuditBefore) Start(string mode, TimeSpan delay)
    {
        HookedStore? store = null;
        var host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory, tune: o =>
        {
            o.ReadAuditMode = mode;
            o.ReadAuditDelay = delay;
        }) with { OpenStore = options => store = new HookedStore(ShardStore.Open(options)) };
        var shard = Sys.ActorOf(ShardActor.Props(host, "logs-0", "test-node"));
        shard.Tell(new AppendLog(Callers.Writer, "orders", TestHosts.Entry("audited read")));
        var id = ExpectMsg<LogAppended>(Wait).Id;
        return (shard, store!, id, Stats(shard));
    }

    private long Stats(IActorRef shard)
    {
        shard.Tell(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, 0));
        return ExpectMsg<ShardProtocol.ShardStats>(Wait).AuditSequence;
    }

    [Fact]
    public void Sync_TheReplyWaitsForTheReadsAuditCommit()
    {
        var (shard, store, id, before) = Start(ShardOptions.SyncReadAudit, TimeSpan.FromSeconds(10));
        using var held = new ManualResetEventSlim();
        using var reached = new ManualResetEventSlim();
        store.BeforeCommit = () =>
        {
            reached.Set();
            held.Wait(Wait);
        };

        shard.Tell(new GetLog(Callers.Reader, id));
        Assert.True(reached.Wait(Wait), "the read's audit record goes to a commit at once, not after the 10 s delay");
        ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the commit is held: so is the answer
        held.Set();
        Assert.Equal("audited read", ExpectMsg<LogFound>(Wait).Entry.Message);
        store.BeforeCommit = null;
        Assert.Equal(before + 1, Stats(shard));
    }

    [Fact]
    public void Bounded_TheReplyComesAtOnce_TheRecordCommitsWithinTheDelay()
    {
        var (shard, store, id, before) = Start(ShardOptions.BoundedReadAudit, TimeSpan.FromMilliseconds(300));
        using var reached = new ManualResetEventSlim();
        store.BeforeCommit = reached.Set;

        shard.Tell(new GetLog(Callers.Reader, id));
        Assert.Equal("audited read", ExpectMsg<LogFound>(Wait).Entry.Message);
        Assert.False(reached.IsSet, "answered before its audit record committed");
        Assert.True(reached.Wait(Wait), "the record commits once the delay is up");
        AwaitAssert(() => Assert.Equal(before + 1, Stats(shard)), Wait);
    }
}
