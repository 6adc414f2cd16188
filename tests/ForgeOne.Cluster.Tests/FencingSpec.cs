using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests;

/// <summary>
/// Two owners of one shard file at once, as when a shard moves while its old node still runs:
/// the stale owner is fenced at its next write, refuses what it had not committed back to its
/// senders, commits the audit records it still held on top of the new owner's chain, and the new
/// owner's chain goes on from there. One LMDB environment serves both actors, as one file
/// shared by two processes would (LMDB's writer lock keeps their transactions apart).
/// </summary>
public sealed class FencingSpec : TestKit, IDisposable
{
    private const string Topic = "orders";
    private readonly TempRoot _root = new();
    private IShardStore? _file;

    public FencingSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "fencing-spec")
    {
    }

    [Fact]
    public void FencedOwner_RefusesItsQueuedWrites_CommitsItsQueuedAudits_AndTheNewOwnersChainStaysWhole()
    {
        // Long read-audit delay: the stale owner's read records are still queued when it is fenced.
        var host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory, tune: o => o.ReadAuditDelay = TimeSpan.FromSeconds(10));
        IShardStore? file = null;
        var oldOwner = Sys.ActorOf(ShardActor.Props(host with { OpenStore = options => new SharedStore(file = ShardStore.Open(options)) }, "logs-0", "node-a"));
        oldOwner.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("w1")));
        var w1 = ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10)).Id;

        // The new owner opens the same file (not a second environment in this process) and claims it.
        var newOwner = Sys.ActorOf(ShardActor.Props(host with { OpenStore = _ => new SharedStore(file!) }, "logs-0", "node-b"));
        newOwner.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("w2")));
        var w2 = ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10)).Id;

        // The old owner does not know yet: it serves two reads (records queued), then a write.
        var reader = CreateTestProbe();
        oldOwner.Tell(new GetLog(Callers.Reader, w1), reader);
        oldOwner.Tell(new GetLog(Callers.Reader, w2), reader);
        reader.ExpectMsg<LogFound>(TimeSpan.FromSeconds(10));
        reader.ExpectMsg<LogFound>(TimeSpan.FromSeconds(10));
        EventFilter.Error(contains: "FENCED").ExpectOne(() =>
        {
            oldOwner.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("w3")));
            Assert.Equal(ErrorCodes.StorageStaleOwner, ExpectMsg<LogFailed>(TimeSpan.FromSeconds(10)).Error.Code);
        });
        oldOwner.Tell(new GetLog(Callers.Reader, w1));
        Assert.Equal(ErrorCodes.StorageStaleOwner, ExpectMsg<LogFailed>(TimeSpan.FromSeconds(10)).Error.Code);

        // The new owner writes again: on top of the records the fenced owner committed.
        newOwner.Tell(new AppendLog(Callers.Writer, Topic, TestHosts.Entry("w4")));
        var w4 = ExpectMsg<LogAppended>(TimeSpan.FromSeconds(10)).Id;

        var audit = file!.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
        var verification = AuditVerifier.Verify(audit, "logs-0000");
        Assert.True(verification.IsValid, verification.Message);
        var operations = audit.Where(r => r.Action.StartsWith("logs.", StringComparison.Ordinal)).Select(r => $"{r.Principal} {r.Action} {r.Outcome}").ToList();
        Assert.Equal(
            ["alice logs.append Success", "alice logs.append Success", "bob logs.get Success", "bob logs.get Success", "alice logs.append Failed", "alice logs.append Success"],
            operations);
        var stored = file.Read(txn => new[] { w1, w2, w4 }.Count(id => txn.Get(Tables.Logs, KeyCodec.UInt64(id.Value)) is not null));
        Assert.Equal(3, stored);
        Assert.Equal(3, file.Read(txn => txn.Count(Tables.Logs)));
        Watch(newOwner);
        newOwner.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(newOwner, TimeSpan.FromSeconds(10));
        _file = file;
    }

    public new void Dispose()
    {
        Shutdown();
        _file?.Dispose();
        _root.Dispose();
    }
}
