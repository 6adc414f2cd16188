using System.Collections.Concurrent;
using System.Text;
using Akka.Actor;
using Akka.Cluster;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using Xunit.Abstractions;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Tests.Events;

/// <summary>
/// Three ActorSystems on loopback: a client subscription on one node follows a topic whose shard
/// lives on another node; that node dies abruptly; the subscription notices its source died,
/// re-subscribes from its last acknowledged id on the shard's new home, and receives every event
/// published before and after the failure exactly once, in order.
/// </summary>
public sealed class EventSubscriptionFailoverSpec : IAsyncLifetime
{
    private const string Topic = "failover.orders";
    // Abrupt death, and no rebalancing: the test kills the node that hosts the topic's shard when
    // the subscription starts, and a rebalance (every 2 s in the fast test settings) could move
    // the shard away first, leaving nothing to fail over.
    private const string Abrupt = "akka.coordinated-shutdown.run-by-actor-system-terminate = off\nakka.cluster.run-coordinated-shutdown-when-down = off\nakka.cluster.sharding.rebalance-interval = 1h";
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(10);
    private readonly ITestOutputHelper _output;
    private readonly TempRoot _root = new();
    private readonly List<InProcessNode> _nodes = [];

    public EventSubscriptionFailoverSpec(ITestOutputHelper output)
    {
        _output = output;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _root.Dispose();
    }

    [Fact]
    public async Task Subscription_SurvivesTheDeathOfTheNodeHostingItsShard_WithoutLossOrDuplicates()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => InProcessNode.FreePort()).ToArray();
        var nodes = await Task.WhenAll(ports.Select((p, i) => i == 0
            ? InProcessNode.StartAsync(InProcessNode.Options_(_root, p, ports[0]), Abrupt)
            : Task.Delay(500).ContinueWith(_ => InProcessNode.StartAsync(InProcessNode.Options_(_root, p, ports[0]), Abrupt)).Unwrap()));
        _nodes.AddRange(nodes);
        await Eventually(() => Assert.Equal(3, Akka.Cluster.Cluster.Get(nodes[0].System).State.Members.Count(m => m.Status == MemberStatus.Up)), "three members up");

        var created = await nodes[0].Cluster.Region(ShardKind.Events).Ask<object>(new CreateTopic(Callers.Admin, Topic, new TopicSettings()), Ask);
        Assert.IsType<TopicCreated>(created);

        // The victim is whichever node hosts the topic's shard; the client runs on another one.
        var shard = ShardRouter.ShardFor(Topic, nodes[0].Options.ShardCounts.Events);
        var host = (await nodes[0].Cluster.Region(ShardKind.Events).Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Events, shard), Ask)).Node;
        var victim = nodes.Single(n => n.Address == host);
        var client = nodes.First(n => n != victim);
        _output.WriteLine($"events shard {shard} on {host}; client on {client.Address}");
        var region = client.Cluster.Region(ShardKind.Events);

        var acked = new List<RecordId>();
        acked.AddRange(await PublishAcked(region, "before", 20));

        var received = new ConcurrentQueue<RecordId>();
        var starts = new ConcurrentQueue<RecordId?>();
        var consumer = client.System.ActorOf(Props.Create(() => new AckingConsumer(received, starts)));
        client.System.ActorOf(EventSubscription.Props(region, new FixedTokenSource(Callers.Reader), Topic, consumer, SubscriptionStart.Beginning, new EventSubscriptionSettings(Window: 8)));
        await Eventually(() => Assert.Equal(20, received.Count), "the backlog delivered");

        await victim.System.Terminate();
        _nodes.Remove(victim);
        await Eventually(() => Assert.DoesNotContain(Akka.Cluster.Cluster.Get(client.System).State.Members, m => m.Address.ToString() == host), "the victim downed and removed");

        // Published after the failure: the shard restarts on a survivor at the first message.
        acked.AddRange(await PublishAcked(region, "after", 20));

        // Every acknowledged event must arrive: acked is a subset of what was received.
        await Eventually(() => Assert.Subset(acked.ToHashSet(), received.ToHashSet()), "every acknowledged event received");
        var ids = received.ToArray();
        Assert.Equal(ids.Distinct().Count(), ids.Length);
        Assert.Equal(ids.Order(), ids);
        Assert.True(starts.Count >= 2, $"the subscription re-subscribed ({starts.Count} starts)");

        // Exactly what the topic holds, in order: a publish whose reply was lost in the failover
        // may still have committed (and was retried), so its event arrives too, possibly later.
        await Eventually(async () =>
        {
            var all = await region.Ask<object>(new QueryEvents(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), Limit: 1000), Ask);
            Assert.Equal(Assert.IsType<EventPage>(all).Events.Select(e => e.Id).Order(), received.ToArray());
            return 0;
        }, "every committed event received exactly once, in order");
        ids = received.ToArray();
        _output.WriteLine($"{ids.Length} events received in order across {starts.Count} subscriptions");
    }

    private static async Task<List<RecordId>> PublishAcked(IActorRef region, string prefix, int count)
    {
        var ids = new List<RecordId>();
        for (var i = 0; i < count; i++)
        {
            var input = new EventInput(DateTimeOffset.UtcNow, Priority.Normal, Encoding.UTF8.GetBytes($"{prefix}-{i}"));
            ids.Add(await Eventually(async () => Assert.IsType<EventPublished>(await region.Ask<object>(new PublishEvent(Callers.Writer, Topic, input), Ask)).Id, $"publish {prefix}-{i}"));
        }

        return ids;
    }

    private static Task Eventually(Action assertion, string what) => Eventually(() =>
    {
        assertion();
        return Task.FromResult(0);
    }, what);

    private static async Task<T> Eventually<T>(Func<Task<T>> assertion, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await assertion();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            catch (Exception e)
            {
                throw new TimeoutException($"Timed out waiting for: {what}", e);
            }
        }
    }

    /// <summary>Records and acknowledges every delivered event.</summary>
    private sealed class AckingConsumer : ReceiveActor
    {
        public AckingConsumer(ConcurrentQueue<RecordId> received, ConcurrentQueue<RecordId?> starts)
        {
            Receive<EventSubscription.Started>(s => starts.Enqueue(s.After));
            Receive<EventSubscription.Delivered>(d =>
            {
                received.Enqueue(d.Event.Id);
                Sender.Tell(new EventSubscription.Ack(d.Event.Id));
            });
        }
    }
}
