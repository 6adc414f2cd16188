using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using Microsoft.Extensions.Time.Testing;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Tests.Events;

/// <summary>One events shard actor (no cluster): topics, publish, query, offsets, subscriptions, authorization.</summary>
public sealed class EventShardSpec : TestKit, IDisposable
{
    private const string Topic = "orders";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly PrincipalToken Auditor = TestAuth.Token("carol", ["auditor"], null, ["*"], 0);
    private readonly TempRoot _root = new();
    private readonly ShardHost _host;
    private readonly IActorRef _shard;

    public EventShardSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "event-shard-spec")
    {
        _host = TestHosts.Create(_root.DataRoot, _root.KeysDirectory);
        _shard = StartShard(0);
    }

    private IActorRef StartShard(int n) => Sys.ActorOf(ShardActor.Props(_host, $"events-{n}", "test-node"));

    private T Ask<T>(object message, IActorRef? shard = null)
    {
        (shard ?? _shard).Tell(message, TestActor);
        var reply = ExpectMsg<object>(Wait);
        return reply is T t ? t : throw new Xunit.Sdk.XunitException($"Expected {typeof(T).Name}, got {reply}");
    }

    private TopicDescription Create(string topic = Topic, TopicSettings? settings = null, IActorRef? shard = null) =>
        Ask<TopicCreated>(new CreateTopic(Callers.Admin, topic, settings ?? new TopicSettings(TimeSpan.FromDays(30), null, 0, false, new() { ["owner"] = "billing" })), shard).Topic;

    private static EventInput Event(string payload, DateTimeOffset? at = null, Priority priority = Priority.Normal) =>
        new(at ?? DateTimeOffset.UtcNow, priority, Encoding.UTF8.GetBytes(payload), new Dictionary<string, string> { ["k"] = payload });

    private RecordId[] Publish(int count, string prefix = "e", DateTimeOffset? start = null)
    {
        var from = start ?? DateTimeOffset.UtcNow.AddMinutes(-1);
        var events = Enumerable.Range(0, count).Select(i => Event($"{prefix}{i}", from.AddMilliseconds(i))).ToArray();
        return Ask<EventsPublished>(new PublishEvents(Callers.Writer, Topic, events)).Ids;
    }

    private List<AuditRecord> AuditTrail()
    {
        Watch(_shard);
        _shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(_shard, Wait);
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Events, 0));
        return store.Read(txn => txn.Scan(Tables.Audit, [], []).Select(kv => AuditRecordCodec.Decode(kv.Value)).ToList());
    }

    /// <summary>The audit trail with each record's resource in plaintext (its sealed subject decrypted with the shard's key).</summary>
    private List<string> AuditResources(IEnumerable<AuditRecord> records)
    {
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Events, 0));
        using var security = _host.Security.Open(store, ShardKind.Events, 0);
        return [.. records.Select(security.RevealAuditResource)];
    }

    [Fact]
    public void CreateTopic_ThenDescribe_ReturnsItsSettings_AndADuplicateIsAConflict()
    {
        var created = Create();
        Assert.Equal(Topic, created.Name);

        var described = Ask<TopicDescribed>(new DescribeTopic(Callers.Reader, Topic)).Topic;
        Assert.Equal(TimeSpan.FromDays(30), described.Retention);
        Assert.Null(described.ResidencyZone);
        Assert.Equal("billing", described.Metadata["owner"]);
        Assert.Equal(created.CreatedAt, described.CreatedAt);

        var duplicate = Ask<EventFailed>(new CreateTopic(Callers.Admin, Topic, new TopicSettings()));
        Assert.Equal(ErrorCodes.Conflict, duplicate.Error.Code);
        Assert.Equal(ErrorCodes.NotFound, Ask<EventFailed>(new DescribeTopic(Callers.Reader, "missing")).Error.Code);
    }

    [Fact]
    public void CreateTopic_IsAnAdminDecision_AndStoredWithoutPlaintextNames()
    {
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new CreateTopic(Callers.Writer, "secret-topic-name", new TopicSettings())).Error.Code);
        Assert.Equal(ErrorCodes.InvalidArgument, Ask<EventFailed>(new CreateTopic(Callers.Admin, "t", new TopicSettings(TimeSpan.FromSeconds(-1)))).Error.Code);
        Create("secret-topic-name");
        _shard.Tell(new PublishEvent(Callers.Writer, "secret-topic-name", Event("secret-payload")));
        ExpectMsg<EventPublished>(Wait);

        Watch(_shard);
        _shard.Tell(ShardProtocol.HandOff.Instance);
        ExpectTerminated(_shard, Wait);
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Events, 0));
        foreach (var table in new[] { Tables.Topics, Tables.Events, Tables.EventIndex })
        {
            var rows = store.Read(txn => txn.Scan(table, [], []).ToList());
            Assert.NotEmpty(rows);
            foreach (var (key, value) in rows)
            {
                Assert.Equal(-1, key.AsSpan().IndexOf("secret-topic-name"u8));
                Assert.Equal(-1, value.AsSpan().IndexOf("secret-topic-name"u8));
                Assert.Equal(-1, value.AsSpan().IndexOf("secret-payload"u8));
            }
        }
    }

    [Fact]
    public void CreateTopic_OfAZone_OnlyByThatZonesShards_AndOnlyForCallersOfThatRegion()
    {
        var eu = new TopicSettings(ResidencyZone: "eu");
        Assert.Equal(ErrorCodes.ResidencyMismatch, Ask<EventFailed>(new CreateTopic(Callers.Admin, "eu.orders", eu)).Error.Code);

        var euShard = Sys.ActorOf(ShardActor.Props(_host.ForZone("eu"), "events-0", "test-node"));
        Assert.Equal("eu", Ask<TopicCreated>(new CreateTopic(Callers.Admin, "eu.orders", eu, Zone: "eu"), euShard).Topic.ResidencyZone);
        Assert.IsType<EventPublished>(Ask<object>(new PublishEvent(Callers.Writer, "eu.orders", Event("x"), Zone: "eu"), euShard));

        var usWriter = TestAuth.Token("dave", ["writer"], "acme", ["us"], 0);
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new PublishEvent(usWriter, "eu.orders", Event("x"), Zone: "eu"), euShard).Error.Code);
    }

    [Fact]
    public async Task ListTopics_PagesThroughEveryShard_AndRefusesATamperedToken()
    {
        var second = StartShard(1);
        var names = Enumerable.Range(0, 7).Select(i => $"topic-{i}").ToArray();
        foreach (var name in names)
        {
            Create(name, new TopicSettings(), ShardRouter.ShardFor(name, 2) == 0 ? _shard : second);
        }

        var shards = new[] { _shard, second };
        var router = Sys.ActorOf(Props.Create(() => new ByNumber(shards)));
        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await EventTopics.ListAsync(router, 2, Callers.Reader, 3, token, Wait);
            Assert.True(page.Topics.Count <= 3);
            seen.AddRange(page.Topics.Select(t => t.Name));
            token = page.Continuation;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(names.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.InRange(pages, 3, 5);

        var first = Ask<TopicPage>(new ListTopics(Callers.Reader, 0, 1));
        Assert.NotNull(first.Continuation);
        var tampered = first.Continuation![..^2] + (first.Continuation[^2] == 'A' ? "B" : "A") + first.Continuation[^1];
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Ask<EventFailed>(new ListTopics(Callers.Reader, 0, 1, tampered)).Error.Code);
    }

    [Fact]
    public void Publish_ToATopicThatWasNeverCreated_IsRefusedWithNotFound()
    {
        var refused = Ask<EventFailed>(new PublishEvent(Callers.Writer, "nowhere", Event("x")));
        Assert.Equal(ErrorCodes.NotFound, refused.Error.Code);
        Assert.Contains("CreateTopic", refused.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Publish_ThenQuery_ReturnsEventsOrderedByTimestampWithFieldsDecrypted()
    {
        Create();
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-10);
        var late = Ask<EventPublished>(new PublishEvent(Callers.Writer, Topic, Event("second", t0.AddSeconds(2)))).Id;
        var early = Ask<EventPublished>(new PublishEvent(Callers.Writer, Topic, Event("first", t0.AddSeconds(1)))).Id;

        var page = Ask<EventPage>(new QueryEvents(Callers.Reader, Topic, t0, t0.AddMinutes(1)));
        Assert.Equal([early, late], page.Events.Select(e => e.Id));
        Assert.Equal("first", Encoding.UTF8.GetString(page.Events[0].Payload!));
        Assert.Equal("first", page.Events[0].Metadata!["k"]);
        Assert.Empty(page.Events[0].Redacted);
        Assert.Null(page.Continuation);

        Assert.Equal("second", Encoding.UTF8.GetString(Ask<EventFound>(new GetEvent(Callers.Reader, late)).Event.Payload!));
    }

    [Fact]
    public void Batch_WithOneInvalidEvent_WritesNothing()
    {
        Create();
        var good = Event("ok");
        var invalid = new EventInput(DateTimeOffset.UtcNow, Priority.Normal, new byte[2 * 1024 * 1024]);
        var refused = Ask<EventFailed>(new PublishEvents(Callers.Writer, Topic, [good, invalid, good]));
        Assert.Equal(ErrorCodes.PayloadTooLarge, refused.Error.Code);
        Assert.StartsWith("event 1:", refused.Error.Message, StringComparison.Ordinal);

        // Past retention is checked against the stored topic inside the transaction: also all-or-nothing.
        var expired = Event("old", DateTimeOffset.UtcNow.AddDays(-31));
        Assert.Equal(ErrorCodes.RetentionExpired, Ask<EventFailed>(new PublishEvents(Callers.Writer, Topic, [good, expired])).Error.Code);
        Assert.Equal(ErrorCodes.RetentionExpired, Ask<EventFailed>(new PublishEvent(Callers.Writer, Topic, expired)).Error.Code);

        var page = Ask<EventPage>(new QueryEvents(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddDays(-40), DateTimeOffset.UtcNow.AddDays(1)));
        Assert.Empty(page.Events);
        var audit = AuditTrail();
        using var store = ShardStore.Open(_host.StoreOptions(ShardKind.Events, 0));
        Assert.Equal(0, store.Read(txn => txn.Count(Tables.Events)));
        Assert.Equal(2, audit.Count(r => r.Action == "events.publish_batch" && r.Outcome == AuditOutcome.Failed));
        Assert.DoesNotContain(audit, r => r.Action.StartsWith("events.publish", StringComparison.Ordinal) && r.Outcome == AuditOutcome.Success);
    }

    [Fact]
    public void Batch_IsOneAuditRecord_AndQueryFiltersByMinimumPriority()
    {
        Create();
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-5);
        Priority[] priorities = [Priority.Low, Priority.High, Priority.Normal, Priority.Critical, Priority.High];
        var ids = Ask<EventsPublished>(new PublishEvents(Callers.Writer, Topic, [.. priorities.Select((p, i) => Event($"p{i}", t0.AddSeconds(i), p))])).Ids;

        var high = Ask<EventPage>(new QueryEvents(Callers.Reader, Topic, t0, t0.AddMinutes(1), Priority.High));
        Assert.Equal([ids[1], ids[3], ids[4]], high.Events.Select(e => e.Id));
        Assert.All(high.Events, e => Assert.True(e.Priority >= Priority.High));

        var audit = AuditTrail();
        Assert.Single(audit, r => r.Action == "events.publish_batch" && r.Outcome == AuditOutcome.Success);
    }

    [Fact]
    public void Query_PagesWithContinuationTokens_AndRefusesTamperedOrForeignTokens()
    {
        Create();
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-30);
        var ids = Publish(25, start: t0);
        var query = new QueryEvents(Callers.Reader, Topic, t0, t0.AddMinutes(1), Limit: 10);

        var seen = new List<RecordId>();
        var page = Ask<EventPage>(query);
        var tokens = new List<string>();
        while (true)
        {
            seen.AddRange(page.Events.Select(e => e.Id));
            if (page.Continuation is null)
            {
                break;
            }

            tokens.Add(page.Continuation);
            page = Ask<EventPage>(query with { Continuation = page.Continuation });
        }

        Assert.Equal(ids, seen);
        Assert.Equal(2, tokens.Count);

        var token = tokens[0];
        var tampered = token[..5] + (token[5] == 'A' ? 'B' : 'A') + token[6..];
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Ask<EventFailed>(query with { Continuation = tampered }).Error.Code);
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Ask<EventFailed>(query with { Continuation = token, To = t0.AddMinutes(2) }).Error.Code);
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Ask<EventFailed>(query with { Continuation = "not-a-token" }).Error.Code);
    }

    [Fact]
    public void ConsumerOffsets_CommitAndRead_RefuseRegressionUnlessForcedByAWriter()
    {
        Create();
        var ids = Publish(3);
        var none = Ask<CurrentConsumerOffset>(new GetConsumerOffset(Callers.Reader, "billing", Topic));
        Assert.Null(none.Position);

        Assert.Equal(1, Ask<ConsumerOffsetCommitted>(new CommitConsumerOffset(Callers.Reader, "billing", Topic, ids[0])).Version);
        Assert.Equal(2, Ask<ConsumerOffsetCommitted>(new CommitConsumerOffset(Callers.Reader, "billing", Topic, ids[2])).Version);
        Assert.Equal(ErrorCodes.OffsetRegression, Ask<EventFailed>(new CommitConsumerOffset(Callers.Reader, "billing", Topic, ids[1])).Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new CommitConsumerOffset(Callers.Reader, "billing", Topic, ids[1], Force: true)).Error.Code);
        Assert.Equal(3, Ask<ConsumerOffsetCommitted>(new CommitConsumerOffset(Callers.Writer, "billing", Topic, ids[1], Force: true)).Version);

        var current = Ask<CurrentConsumerOffset>(new GetConsumerOffset(Callers.Reader, "billing", Topic));
        Assert.Equal(ids[1], current.Position);
        Assert.Equal(3, current.Version);
        Assert.Null(Ask<CurrentConsumerOffset>(new GetConsumerOffset(Callers.Reader, "other-group", Topic)).Position);

        // Topics and offsets share the topics table; listing must not mistake an offset for a topic.
        Assert.Equal([Topic], Ask<TopicPage>(new ListTopics(Callers.Reader, 0)).Topics.Select(t => t.Name));
    }

    [Fact]
    public void Reader_WithoutThePayloadClass_GetsRedactedFields()
    {
        Create();
        var id = Ask<EventPublished>(new PublishEvent(Callers.Writer, Topic, Event("card=4111"))).Id;

        var redacted = Ask<EventFound>(new GetEvent(Auditor, id)).Event;
        Assert.Null(redacted.Payload);
        Assert.Null(redacted.Metadata);
        Assert.Equal(["event.payload", "event.metadata"], redacted.Redacted);

        var full = Ask<EventFound>(new GetEvent(Callers.Reader, id)).Event;
        Assert.Equal("card=4111", Encoding.UTF8.GetString(full.Payload!));
    }

    [Fact]
    public void UnauthorizedPublish_IsRefusedAndAuditedAsDenied_IncludingAboveClearance()
    {
        Create();
        Create("classified", new TopicSettings(Classification: 3));
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new PublishEvent(Callers.Reader, Topic, Event("x"))).Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new PublishEvent(Callers.Writer, "classified", Event("x"))).Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new DescribeTopic(Callers.Reader, "classified")).Error.Code);

        var audit = AuditTrail();
        Assert.Contains(audit, r => r.Principal == "bob" && r.Action == "events.publish" && r.Outcome == AuditOutcome.Denied);
        var denied = audit.Where(r => r.Principal == "alice" && r.Action == "events.publish" && r.Outcome == AuditOutcome.Denied).ToList();
        Assert.Contains("events/0/topic:classified", AuditResources(denied));
        Assert.All(denied, r => Assert.Equal("events/0/topic:", r.Resource));
        Assert.True(AuditVerifier.Verify(audit, "events-0000").IsValid);
    }

    [Fact]
    public void ReadRefusedInsideTheRead_IsAuditedAsDenied_AndAnAnsweredReadAsSuccess()
    {
        // The reader's clearance (0) is below the topic's classification (3): that is known
        // only once Read loaded the stored topic, after admission allowed the query.
        Create("classified", new TopicSettings(Classification: 3));
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new DescribeTopic(Callers.Reader, "classified")).Error.Code);
        Assert.Equal("classified", Ask<TopicDescribed>(new DescribeTopic(Callers.Admin, "classified")).Topic.Name);
        Assert.Equal(ErrorCodes.NotFound, Ask<EventFailed>(new DescribeTopic(Callers.Admin, "missing")).Error.Code);

        var describes = AuditTrail().Where(r => r.Action == "events.topic_describe").ToList();
        Assert.Equal(
            [("bob", AuditOutcome.Denied), ("root", AuditOutcome.Success), ("root", AuditOutcome.Failed)],
            describes.Select(r => (r.Principal, r.Outcome)).OrderBy(r => r.Principal, StringComparer.Ordinal).ThenBy(r => r.Outcome));
    }

    [Fact]
    public void Subscription_CatchesUpThenGoesLive_InOrder_StoppingAtTheWindowUntilAcked()
    {
        Create();
        var backlog = Publish(10, "old");
        var subscriber = CreateTestProbe();
        _shard.Tell(new Subscribe(Callers.Reader, Topic, SubscriptionStart.Beginning, 4, subscriber.Ref, "s1", 1));
        var started = subscriber.ExpectMsg<SubscriptionStarted>(Wait);

        var received = new List<RecordId>();
        void Receive(int count)
        {
            var target = received.Count + count;
            while (received.Count < target)
            {
                received.AddRange(subscriber.ExpectMsg<SubscriptionEvents>(Wait).Events.Select(e => e.Id));
            }

            Assert.Equal(target, received.Count);
        }

        // Window of 4: exactly four arrive, then nothing until acknowledged.
        Receive(4);
        subscriber.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        started.Source.Tell(new SubscriptionAck("s1", received[3]), subscriber.Ref);
        Receive(4);
        subscriber.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // Live events published while the window is still full wait for the ack too.
        var live = Publish(5, "new", DateTimeOffset.UtcNow);
        subscriber.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        started.Source.Tell(new SubscriptionAck("s1", received[7]), subscriber.Ref);
        Receive(4);
        started.Source.Tell(new SubscriptionAck("s1", received[11]), subscriber.Ref);
        Receive(3);

        Assert.Equal([.. backlog, .. live], received);
    }

    [Fact]
    public void SubscriptionClient_DeliversEachEventOnceInOrder_CommitsItsGroup_AndResumesFromIt()
    {
        Create();
        var first = Publish(5, "a");
        var consumer = CreateTestProbe();
        var settings = new EventSubscriptionSettings(Window: 3, Group: "audit-export");
        var subscription = Sys.ActorOf(EventSubscription.Props(_shard, new FixedTokenSource(Callers.Reader), Topic, consumer.Ref, settings: settings));
        consumer.ExpectMsg<EventSubscription.Started>(Wait);

        var got = new List<RecordId>();
        for (var i = 0; i < 5; i++)
        {
            var delivered = consumer.ExpectMsg<EventSubscription.Delivered>(Wait);
            got.Add(delivered.Event.Id);
            subscription.Tell(new EventSubscription.Ack(delivered.Event.Id), consumer.Ref);
        }

        Assert.Equal(first, got);
        var more = Publish(2, "b", DateTimeOffset.UtcNow);
        foreach (var id in more)
        {
            var delivered = consumer.ExpectMsg<EventSubscription.Delivered>(Wait);
            Assert.Equal(id, delivered.Event.Id);
            subscription.Tell(new EventSubscription.Ack(delivered.Event.Id), consumer.Ref);
        }

        AwaitAssert(() => Assert.Equal(more[^1], Ask<CurrentConsumerOffset>(new GetConsumerOffset(Callers.Reader, "audit-export", Topic)).Position), Wait);
        Watch(subscription);
        subscription.Tell(EventSubscription.Stop.Instance);
        ExpectTerminated(subscription, Wait);

        // A new subscription of the same group starts after the committed offset.
        var later = Publish(2, "c", DateTimeOffset.UtcNow);
        var again = Sys.ActorOf(EventSubscription.Props(_shard, new FixedTokenSource(Callers.Reader), Topic, consumer.Ref, settings: settings));
        Assert.Equal(more[^1], consumer.ExpectMsg<EventSubscription.Started>(Wait).After);
        Assert.Equal(later, consumer.ReceiveN(2, Wait).Cast<EventSubscription.Delivered>().Select(d => d.Event.Id));
        Sys.Stop(again);
    }

    [Fact]
    public void Subscription_ForAReaderWithoutThePayloadClass_IsRedacted_AndAboveClearanceIsRefused()
    {
        Create();
        Create("classified", new TopicSettings(Classification: 3));
        Publish(1);
        var consumer = CreateTestProbe();
        Sys.ActorOf(EventSubscription.Props(_shard, new FixedTokenSource(Auditor), Topic, consumer.Ref));
        consumer.ExpectMsg<EventSubscription.Started>(Wait);
        var live = consumer.ExpectMsg<EventSubscription.Delivered>(Wait).Event;
        Assert.Null(live.Payload);
        Assert.Contains("event.payload", live.Redacted);

        // Live pushes are redacted too.
        Publish(1, "live", DateTimeOffset.UtcNow);
        Assert.Null(consumer.ExpectMsg<EventSubscription.Delivered>(Wait).Event.Payload);

        var refused = CreateTestProbe();
        Sys.ActorOf(EventSubscription.Props(_shard, new FixedTokenSource(Callers.Reader), "classified", refused.Ref));
        Assert.Equal(ErrorCodes.Forbidden, refused.ExpectMsg<EventSubscription.Failed>(Wait).Error.Code);
    }

    [Fact]
    public void RetentionSweep_DeletesExpiredEventsInBoundedBatches_ButNothingUnderALegalHold()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var host = _host with { Time = clock };
        var shard = Sys.ActorOf(ShardActor.Props(host, "events-1", "test-node"));
        var hour = new TopicSettings(TimeSpan.FromHours(1));
        Create("short", hour, shard);
        Create("held", hour with { LegalHold = true }, shard);
        Create("forever", new TopicSettings(), shard);
        RecordId[] Put(string topic, int n) =>
            Ask<EventsPublished>(new PublishEvents(Callers.Writer, topic, [.. Enumerable.Range(0, n).Select(i => Event($"{topic}{i}", clock.GetUtcNow()))]), shard).Ids;
        var expiring = Put("short", 3);
        Put("held", 3);
        Put("forever", 3);

        clock.Advance(TimeSpan.FromHours(2));
        var fresh = Put("short", 1);

        var first = Ask<EventRetentionSwept>(new SweepEventRetention(Callers.Admin, 1, MaxEntries: 2), shard);
        Assert.Equal((2, 1, true), (first.Deleted, first.HeldTopics, first.More));
        var second = Ask<EventRetentionSwept>(new SweepEventRetention(Callers.Admin, 1, MaxEntries: 2), shard);
        Assert.Equal((1, false), (second.Deleted, second.More));

        var window = (clock.GetUtcNow().AddDays(-1), clock.GetUtcNow().AddMinutes(1));
        int Count(string topic) => Ask<EventPage>(new QueryEvents(Callers.Reader, topic, window.Item1, window.Item2), shard).Events.Length;
        Assert.Equal(fresh, Ask<EventPage>(new QueryEvents(Callers.Reader, "short", window.Item1, window.Item2), shard).Events.Select(e => e.Id));
        Assert.Equal((3, 3), (Count("held"), Count("forever")));
        Assert.All(expiring, id => Assert.Equal(ErrorCodes.NotFound, Ask<EventFailed>(new GetEvent(Callers.Reader, id), shard).Error.Code));

        // The sequence index went with the events: a subscription from the beginning sees only the fresh one.
        var subscriber = CreateTestProbe();
        shard.Tell(new Subscribe(Callers.Reader, "short", SubscriptionStart.Beginning, 10, subscriber.Ref, "s", 1));
        subscriber.ExpectMsg<SubscriptionStarted>(Wait);
        Assert.Equal(fresh, subscriber.ExpectMsg<SubscriptionEvents>(Wait).Events.Select(e => e.Id));

        // Lifting the hold lets the next sweep delete; only an admin may change it.
        Assert.Equal(ErrorCodes.Forbidden, Ask<EventFailed>(new SetTopicLegalHold(Callers.Writer, "held", false), shard).Error.Code);
        Assert.False(Ask<TopicDescribed>(new SetTopicLegalHold(Callers.Admin, "held", false), shard).Topic.LegalHold);
        Assert.Equal(3, Ask<EventRetentionSwept>(new SweepEventRetention(Callers.Admin, 1), shard).Deleted);
        Assert.Equal(0, Count("held"));
    }

    public new void Dispose()
    {
        base.Dispose();
        _root.Dispose();
    }

    /// <summary>Routes shard messages by shard number or topic, like a region does.</summary>
    private sealed class ByNumber : ReceiveActor
    {
        public ByNumber(IActorRef[] shards)
        {
            Receive<IShardMessage>(m => shards[m.ShardNumber ?? ShardRouter.ShardFor(m.RoutingKey!, shards.Length)].Forward(m));
        }
    }
}
