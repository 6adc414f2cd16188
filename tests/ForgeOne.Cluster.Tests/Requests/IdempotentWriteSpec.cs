using System.Text;
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
using Microsoft.Extensions.Time.Testing;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Requests;

/// <summary>
/// Exactly-once writes at the shard actor: a request id's outcome is remembered in the write's
/// own transaction, survives the shard's hand-off, is scoped by principal and expires with the window.
/// </summary>
public sealed class IdempotentWriteSpec : TestKit, IDisposable
{
    private const string Topic = "orders";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly TempRoot _root = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly ShardHost _host;

    public IdempotentWriteSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "idempotent-write-spec")
    {
        _host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory) with { Time = _time };
    }

    private IActorRef Start(string entity = "logs-0") => Sys.ActorOf(ShardActor.Props(_host, entity, "test-node"));

    private T Ask<T>(IActorRef shard, object message)
    {
        shard.Tell(message, TestActor);
        var reply = ExpectMsg<object>(Wait);
        return reply is T t ? t : throw new Xunit.Sdk.XunitException($"Expected {typeof(T).Name}, got {reply}");
    }

    private LogInput Entry(string message) => new(_time.GetUtcNow(), Severity.Info, message);

    private long Count(IActorRef shard) =>
        Ask<LogCount>(shard, new CountLogs(Callers.Reader, Topic, _time.GetUtcNow().AddHours(-3), _time.GetUtcNow().AddHours(3))).Count;

    private void HandOff(IActorRef shard)
    {
        Watch(shard);
        shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(shard, Wait);
    }

    private List<AuditRecord> Audit(ShardKind kind = ShardKind.Logs)
    {
        using var store = ShardStore.Open(_host.StoreOptions(kind, 0));
        return store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
    }

    private static byte[] DetailHash(string detail) => System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(detail));

    [Fact]
    public void Retry_OfACommittedAppend_ReturnsTheOriginalId_WritesNothing_AndIsAudited()
    {
        var shard = Start();
        var request = new AppendLog(Callers.Writer, Topic, Entry("paid"), RequestId: new RequestId("client-a", 1));

        var first = Ask<LogAppended>(shard, request);
        var retry = Ask<LogAppended>(shard, request);

        Assert.False(first.Replayed);
        Assert.Equal(first with { Replayed = true }, retry);
        Assert.Equal(1, Count(shard));
        HandOff(shard);
        var appends = Audit().Where(r => r.Action == "logs.append").ToList();
        Assert.Equal(2, appends.Count);
        Assert.All(appends, r => Assert.Equal(AuditOutcome.Success, r.Outcome));
        // Only the detail's hash is kept: the replay is recorded as such, not as a second write.
        Assert.Equal(DetailHash("count=1 replayed ids=1"), appends[1].DetailHash);
        Assert.Equal(DetailHash("count=1"), appends[0].DetailHash);
        Assert.True(AuditVerifier.Verify(Audit(), "logs-0000").IsValid);
    }

    [Fact]
    public void Retry_AfterTheShardWasHandedOffAndReopened_ReturnsTheOriginalIds()
    {
        var shard = Start();
        var batch = new AppendLogBatch(Callers.Writer, Topic, [.. Enumerable.Range(0, 50).Select(i => Entry($"b{i}"))], RequestId: new RequestId("client-a", 7));
        var first = Ask<LogBatchAppended>(shard, batch);
        HandOff(shard);

        var reopened = Start();
        var retry = Ask<LogBatchAppended>(reopened, batch);

        Assert.True(retry.Replayed);
        Assert.Equal(first.Ids, retry.Ids);
        Assert.Equal(50, Count(reopened));
    }

    [Fact]
    public void SameId_WithDifferentContent_IsRefusedKeyReused_AndNothingIsWritten()
    {
        var shard = Start();
        var id = new RequestId("client-a", 3);
        Ask<LogAppended>(shard, new AppendLog(Callers.Writer, Topic, Entry("first"), RequestId: id));

        var other = Ask<LogFailed>(shard, new AppendLog(Callers.Writer, Topic, Entry("second"), RequestId: id));

        Assert.Equal(ErrorCodes.RequestKeyReused, other.Error.Code);
        Assert.Equal(1, Count(shard));
        HandOff(shard);
        Assert.Contains(Audit(), r => r.Action == "logs.append" && r.Outcome == AuditOutcome.Failed && r.DetailHash.AsSpan().SequenceEqual(DetailHash($"count=1 refused={ErrorCodes.RequestKeyReused}")));
    }

    [Fact]
    public void CallerFingerprint_DecidesSameness_WhenTheRequestBringsOne()
    {
        var shard = Start();
        var body = Encoding.UTF8.GetBytes("{\"message\":\"x\"}");
        var first = Ask<LogAppended>(shard, new AppendLog(Callers.Writer, Topic, Entry("x"), RequestId: RequestId.ForKey("idem-1", body)));

        // The edge re-maps the same body (its timestamp default moved on): still the same request.
        _time.Advance(TimeSpan.FromSeconds(1));
        var retry = Ask<LogAppended>(shard, new AppendLog(Callers.Writer, Topic, Entry("x"), RequestId: RequestId.ForKey("idem-1", body)));
        var changed = Ask<LogFailed>(shard, new AppendLog(Callers.Writer, Topic, Entry("x"), RequestId: RequestId.ForKey("idem-1", [.. body, 0x20])));

        Assert.Equal(first.Id, retry.Id);
        Assert.True(retry.Replayed);
        Assert.Equal(ErrorCodes.RequestKeyReused, changed.Error.Code);
    }

    [Fact]
    public void AnotherPrincipal_ReusingAnId_NeitherGetsTheOwnersIdsNorBlocksThem()
    {
        var shard = Start();
        var mallory = TestAuth.Token(TestAuth.PrincipalOf(Callers.Writer) with { Id = "mallory" });
        var id = new RequestId("client-a", 1);
        var alice = Ask<LogAppended>(shard, new AppendLog(Callers.Writer, Topic, Entry("same"), RequestId: id));

        var theirs = Ask<LogAppended>(shard, new AppendLog(mallory, Topic, Entry("same"), RequestId: id));
        var aliceAgain = Ask<LogAppended>(shard, new AppendLog(Callers.Writer, Topic, Entry("same"), RequestId: id));

        Assert.False(theirs.Replayed);
        Assert.NotEqual(alice.Id, theirs.Id);
        Assert.Equal(alice.Id, aliceAgain.Id);
        Assert.Equal(2, Count(shard));
    }

    [Fact]
    public void Retry_AfterTheWindow_IsANewWrite_AndExpiredOutcomesArePruned()
    {
        var shard = Start();
        var request = new AppendLog(Callers.Writer, Topic, Entry("old"), RequestId: new RequestId("client-a", 1));
        var first = Ask<LogAppended>(shard, request);

        _time.Advance(_host.Options.IdempotencyWindow + TimeSpan.FromMinutes(1));
        var late = Ask<LogAppended>(shard, request with { Entry = Entry("old") });
        Ask<LogAppended>(shard, new AppendLog(Callers.Writer, Topic, Entry("other"), RequestId: new RequestId("client-a", 2)));

        Assert.False(late.Replayed);
        Assert.NotEqual(first.Id, late.Id);
        HandOff(shard);
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Logs, 0));
        Assert.Equal(2, store.Read(txn => txn.Count(Tables.Requests)));
        Assert.Equal(2, store.Read(txn => txn.Count(Tables.RequestExpiry)));
    }

    [Fact]
    public void WriteWithoutRequestId_IsNotDeduplicated()
    {
        var shard = Start();
        var request = new AppendLog(Callers.Writer, Topic, Entry("twice"));

        var a = Ask<LogAppended>(shard, request);
        var b = Ask<LogAppended>(shard, request);

        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(2, Count(shard));
    }

    [Fact]
    public void MalformedRequestId_IsRefused_BeforeAnythingIsWritten()
    {
        var shard = Start();

        var refused = Ask<LogFailed>(shard, new AppendLog(Callers.Writer, Topic, Entry("x"), RequestId: new RequestId("bad\u0000producer", 1)));

        Assert.Equal(ErrorCodes.InvalidArgument, refused.Error.Code);
        Assert.Equal(0, Count(shard));
    }

    [Fact]
    public void UnauthorizedCaller_WithAnotherPrincipalsRequestId_IsDeniedBeforeTheLedgerIsConsulted()
    {
        var shard = Start();
        var id = new RequestId("client-a", 1);
        Ask<LogAppended>(shard, new AppendLog(Callers.Writer, Topic, Entry("x"), RequestId: id));

        // A reader may not append: denied, whether or not the id is known.
        var denied = Ask<LogFailed>(shard, new AppendLog(Callers.Reader, Topic, Entry("x"), RequestId: id));

        Assert.Equal(ErrorCodes.Forbidden, denied.Error.Code);
    }

    [Fact]
    public void ReplayedPublish_IsNotDeliveredToALiveSubscriberAgain()
    {
        var shard = Start("events-0");
        Ask<TopicCreated>(shard, new CreateTopic(Callers.Admin, Topic, new TopicSettings()));
        var subscriber = CreateTestProbe();
        shard.Tell(new Subscribe(Callers.Reader, Topic, SubscriptionStart.Beginning, 100, subscriber.Ref, "s1", 1));
        subscriber.ExpectMsg<SubscriptionStarted>(Wait);
        var publish = new PublishEvent(Callers.Writer, Topic, new EventInput(_time.GetUtcNow(), Priority.Normal, [1]), RequestId: new RequestId("client-a", 1));

        var first = Ask<EventPublished>(shard, publish);
        var replay = Ask<EventPublished>(shard, publish);
        var next = Ask<EventPublished>(shard, new PublishEvent(Callers.Writer, Topic, new EventInput(_time.GetUtcNow(), Priority.Normal, [2])));

        Assert.True(replay.Replayed);
        var delivered = new List<RecordId>();
        while (delivered.Count < 2)
        {
            delivered.AddRange(subscriber.ExpectMsg<SubscriptionEvents>(Wait).Events.Select(e => e.Id));
        }

        Assert.Equal([first.Id, next.Id], delivered);
    }

    public new void Dispose()
    {
        base.Dispose();
        _root.Dispose();
    }
}
