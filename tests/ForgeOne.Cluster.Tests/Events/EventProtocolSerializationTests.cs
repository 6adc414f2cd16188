using Akka.Actor;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Tests.Events;

/// <summary>Every events message crosses the wire with the node's serializer, actor refs included.</summary>
public sealed class EventProtocolSerializationTests : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("ser-events", ClusterConfig.Build(new ForgeOneNodeOptions { Port = 0, Tls = new TlsOptions { Enabled = false } }));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _system.Terminate();

    private static readonly EventRecord Sample = new(new RecordId(7), "t", DateTimeOffset.UnixEpoch, Priority.High, [1, 2], new Dictionary<string, string> { ["k"] = "v" }, "cp", []);

    public static TheoryData<string> Names() => new(Samples(ActorRefs.Nobody).Keys);

    private static Dictionary<string, object> Samples(IActorRef actor) => new()
    {
        ["create"] = new CreateTopic(Callers.Admin, "t", new TopicSettings(TimeSpan.FromDays(1), "eu", 2, true, new() { ["a"] = "b" })),
        ["created"] = new TopicCreated(new TopicDescription("t", DateTimeOffset.UnixEpoch, null, null, 0, false, [])),
        ["list"] = new ListTopics(Callers.Reader, 1, 10, "tok"),
        ["page"] = new TopicPage(1, [], null),
        ["publish"] = new PublishEvent(Callers.Writer, "t", new EventInput(DateTimeOffset.UnixEpoch, Priority.Low, [1], null, null)),
        ["batch"] = new PublishEvents(Callers.Writer, "t", [new EventInput(DateTimeOffset.UnixEpoch, Priority.Critical, [])]),
        ["published"] = new EventsPublished("t", [new RecordId(1)]),
        ["query"] = new QueryEvents(Callers.Reader, "t", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1), Priority.High, 5, "tok"),
        ["event-page"] = new EventPage("t", [Sample, Sample with { Payload = null, Metadata = null, Redacted = ["event.payload"] }], "tok"),
        ["commit"] = new CommitConsumerOffset(Callers.Reader, "g", "t", new RecordId(3), true),
        ["offset"] = new CurrentConsumerOffset("g", "t", null, 0, null),
        ["subscribe"] = new Subscribe(Callers.Reader, "t", SubscriptionStart.AfterId(new RecordId(9)), 10, actor, "s", 2),
        ["started"] = new SubscriptionStarted("s", 2, actor, new RecordId(9)),
        ["events"] = new SubscriptionEvents("s", [Sample]),
        ["ack"] = new SubscriptionAck("s", new RecordId(9)),
        ["failed"] = new EventFailed(new ForgeOneError(ErrorCodes.OffsetRegression, "older")),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void EventMessage_RoundTripsThroughTheWireSerializer(string name)
    {
        var probe = _system.ActorOf(Props.Empty, "probe-" + name);
        var message = Samples(probe)[name];
        var serializer = Assert.IsType<ForgeOneWireSerializer>(_system.Serialization.FindSerializerFor(message));
        var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
        Assert.Equal(message.GetType(), back.GetType());
        switch (back)
        {
            case Subscribe s:
                Assert.Equal(probe, s.Subscriber);
                Assert.Equal(new RecordId(9), s.Start.After);
                break;
            case EventPage p:
                Assert.Equal(Sample.Payload, p.Events[0].Payload);
                Assert.Null(p.Events[1].Payload);
                break;
        }
    }
}
