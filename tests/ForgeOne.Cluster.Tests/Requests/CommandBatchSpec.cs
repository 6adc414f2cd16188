using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Requests;

/// <summary>Coalesced commands at the shard: each one is admitted, de-duplicated, audited and answered on its own.</summary>
public sealed class CommandBatchSpec : TestKit, IDisposable
{
    private const string Topic = "orders";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempRoot _root = new();
    private readonly ShardHost _host;
    private readonly IActorRef _shard;
    private readonly int _shardOfTopic;

    public CommandBatchSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "command-batch-spec")
    {
        _host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory);
        _shardOfTopic = ShardRouter.ShardFor(Topic, _host.Counts.Logs);
        _shard = Sys.ActorOf(ShardActor.Props(_host, $"logs-{_shardOfTopic}", "test-node"));
    }

    private static LogInput Entry(string message) => new(DateTimeOffset.UtcNow, Severity.Info, message);

    private IForgeOneMessage[] Send(params IShardCommand[] commands)
    {
        _shard.Tell(new ShardProtocol.CommandBatch(ShardKind.Logs, _shardOfTopic, commands), TestActor);
        return ExpectMsg<ShardProtocol.CommandBatchReplies>(Wait).Replies;
    }

    private List<AuditRecord> Audit()
    {
        Watch(_shard);
        _shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(_shard, Wait);
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, _shardOfTopic));
        return store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
    }

    [Fact]
    public void EachCommand_IsAnsweredOnItsOwn_ABadOneFailsOnlyItself()
    {
        var replies = Send(
            new AppendLog(Callers.Writer, Topic, Entry("a")),
            new AppendLog(Callers.Writer, Topic, Entry("from the future") with { Timestamp = DateTimeOffset.UtcNow.AddDays(2) }),
            new AppendLog(Callers.Reader, Topic, Entry("denied")),
            new AppendLog(Callers.Writer, Topic, Entry("c")));

        Assert.Equal(4, replies.Length);
        var a = Assert.IsType<LogAppended>(replies[0]);
        Assert.Equal(ErrorCodes.InvalidTimestamp, Assert.IsType<LogFailed>(replies[1]).Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<LogFailed>(replies[2]).Error.Code);
        var c = Assert.IsType<LogAppended>(replies[3]);
        Assert.True(a.Id < c.Id);

        var appends = Audit().Where(r => r.Action == "logs.append").ToList();
        Assert.Equal(4, appends.Count);
        Assert.Equal(2, appends.Count(r => r.Outcome == AuditOutcome.Success));
        Assert.Single(appends, r => r.Outcome == AuditOutcome.Failed);
        Assert.Single(appends, r => r.Outcome == AuditOutcome.Denied && r.Principal == TestAuth.PrincipalOf(Callers.Reader).Id);
    }

    [Fact]
    public void TheSameRequestIdTwiceInOneBatch_TheSecondIsInFlight_ThenARetryIsReplayed()
    {
        var request = new AppendLog(Callers.Writer, Topic, Entry("once"), RequestId: new RequestId("client-a", 1));

        var replies = Send(request, request);
        var retry = Send(request);

        var first = Assert.IsType<LogAppended>(replies[0]);
        Assert.Equal(ErrorCodes.RequestInFlight, Assert.IsType<LogFailed>(replies[1]).Error.Code);
        Assert.Equal(first with { Replayed = true }, Assert.IsType<LogAppended>(retry[0]));
    }

    [Fact]
    public void ACommandForAnotherShard_IsRefusedInItsSlot()
    {
        var otherTopic = Enumerable.Range(0, 100).Select(i => $"t{i}").First(t => ShardRouter.ShardFor(t, _host.Counts.Logs) != _shardOfTopic);

        var replies = Send(
            new AppendLog(Callers.Writer, otherTopic, Entry("misrouted")),
            new EventProtocol.PublishEvent(Callers.Writer, Topic, new EventProtocol.EventInput(DateTimeOffset.UtcNow, Priority.Normal, [])),
            new AppendLog(Callers.Writer, Topic, Entry("ok")));

        Assert.Equal(ErrorCodes.StorageWrongShard, Assert.IsType<LogFailed>(replies[0]).Error.Code);
        Assert.Equal(ErrorCodes.StorageWrongShard, Assert.IsType<LogFailed>(replies[1]).Error.Code);
        Assert.IsType<LogAppended>(replies[2]);
    }

    [Fact]
    public void AnEmptyBatch_GetsAnEmptyReply()
    {
        Assert.Empty(Send());
    }

    [Fact]
    public void ABatch_CommitsInOneTransaction()
    {
        _shard.Tell(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, _shardOfTopic), TestActor);
        var before = ExpectMsg<ShardProtocol.ShardStats>(Wait).CommitCount;

        var replies = Send([.. Enumerable.Range(0, 200).Select(i => (IShardCommand)new AppendLog(Callers.Writer, Topic, Entry($"m{i}"), RequestId: new RequestId("client-a", i)))]);

        Assert.All(replies, r => Assert.IsType<LogAppended>(r));
        _shard.Tell(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, _shardOfTopic), TestActor);
        Assert.Equal(before + 1, ExpectMsg<ShardProtocol.ShardStats>(Wait).CommitCount);
    }

    public new void Dispose()
    {
        base.Dispose();
        _root.Dispose();
    }
}
