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
/// lives on another node; that node crashes; the subscription notices its source died,
/// re-subscribes from its last acknowledged id on the shard's new home, and receives every event
/// published before and after the failure exactly once, in order.
/// </summary>
/// <remarks>
/// The crash: from its moment every commit of the victim fails (nothing more reaches its files),
/// then its actor system stops without leaving; its environments close only so the survivors
/// can open the same files in this process. Waits are on membership events and on the
/// consumer's deliveries; publishes during the fail-over are retried until answered.
/// </remarks>
public sealed class EventSubscriptionFailoverSpec : IAsyncLifetime
{
    private const string Topic = "failover.orders";
    // No leaving, and no rebalancing: the test crashes the node that hosts the topic's shard when
    // the subscription starts, and a rebalance (every 2 s in the fast test settings) could move
    // the shard away first, leaving nothing to fail over.
    private const string NoLeave = "akka.coordinated-shutdown.run-by-actor-system-terminate = off\nakka.cluster.run-coordinated-shutdown-when-down = off\nakka.cluster.sharding.rebalance-interval = 1h";
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);
    private readonly ITestOutputHelper _output;
    private readonly TempRoot _root = new();
    private readonly List<InProcessNode> _nodes = [];
    private readonly bool[] _crashed = new bool[3];

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
    public async Task Subscription_SurvivesTheCrashOfTheNodeHostingItsShard_WithoutLossOrDuplicates()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => InProcessNode.FreePort()).ToArray();
        var first = await Start(0, ports);
        var nodes = new[] { first }.Concat(await Task.WhenAll(Start(1, ports), Start(2, ports))).ToArray();
        _nodes.AddRange(nodes);
        await ClusterEvents.MembersAsync(nodes[0].System, m => m.Count(x => x.Status == MemberStatus.Up) == 3, "three members up", Wait);

        var created = await nodes[0].Cluster.Region(ShardKind.Events).Ask<object>(new CreateTopic(Callers.Admin, Topic, new TopicSettings()), Ask);
        Assert.IsType<TopicCreated>(created);

        // The victim is whichever node hosts the topic's shard; the client runs on another one.
        var shard = ShardRouter.ShardFor(Topic, nodes[0].Options.ShardCounts.Events);
        var host = (await nodes[0].Cluster.Region(ShardKind.Events).Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Events, shard), Ask)).Node;
        var victim = Array.FindIndex(nodes, n => n.Address == host);
        var client = nodes.First(n => n != nodes[victim]);
        _output.WriteLine($"events shard {shard} on {host}; client on {client.Address}");
        var region = client.Cluster.Region(ShardKind.Events);

        var acked = new List<RecordId>();
        acked.AddRange(await PublishAcked(region, "before", 20));

        var received = new Deliveries();
        var consumer = client.System.ActorOf(Props.Create(() => new AckingConsumer(received)));
        client.System.ActorOf(EventSubscription.Props(region, new FixedTokenSource(Callers.Reader), Topic, consumer, SubscriptionStart.Beginning, new EventSubscriptionSettings(Window: 8)));
        await received.UntilAsync(ids => ids.Count == 20, "the backlog delivered", Wait);

        Volatile.Write(ref _crashed[victim], true);
        await nodes[victim].System.Terminate();
        _nodes.Remove(nodes[victim]);
        await ClusterEvents.MembersAsync(client.System, m => m.All(x => x.Address.ToString() != host), "the victim downed and removed", Wait);

        // Published after the failure: the shard restarts on a survivor at the first message
        // (its region holds the message until then).
        acked.AddRange(await PublishAcked(region, "after", 20));

        // Every acknowledged event arrives, each once, in order.
        var everyAcked = acked.ToHashSet();
        await received.UntilAsync(ids => everyAcked.IsSubsetOf(ids), "every acknowledged event received", Wait);
        var ids = received.Ids;
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Equal(ids.Order(), ids);
        Assert.True(received.Starts >= 2, $"the subscription re-subscribed ({received.Starts} starts)");

        // Exactly what the topic holds, in order: a publish retried after its reply was lost may
        // have committed twice, and its first copy arrives too.
        var all = Assert.IsType<EventPage>(await region.Ask<object>(new QueryEvents(Callers.Reader, Topic, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), Limit: 1000), Ask)).Events.Select(e => e.Id).Order().ToList();
        await received.UntilAsync(r => r.Count >= all.Count, "every committed event received", Wait);
        Assert.Equal(all, received.Ids);
        _output.WriteLine($"{received.Ids.Count} events received in order across {received.Starts} subscriptions");
    }

    private Task<InProcessNode> Start(int index, int[] ports) => InProcessNode.StartAsync(
        InProcessNode.Options_(_root, ports[index], ports[0]),
        NoLeave,
        tuneHost: host => host with
        {
            OpenStore = options => new HookedStore(host.OpenStore(options))
            {
                BeforeCommit = () =>
                {
                    if (Volatile.Read(ref _crashed[index]))
                    {
                        throw new IOException($"node {index} crashed: nothing it writes reaches its files any more");
                    }
                },
            },
        });

    private static async Task<List<RecordId>> PublishAcked(IActorRef region, string prefix, int count)
    {
        var ids = new List<RecordId>();
        for (var i = 0; i < count; i++)
        {
            var input = new EventInput(DateTimeOffset.UtcNow, Priority.Normal, Encoding.UTF8.GetBytes($"{prefix}-{i}"));
            ids.Add(Assert.IsType<EventPublished>(await RetriedRequests.UntilAnsweredAsync(t => region.Ask<object>(new PublishEvent(Callers.Writer, Topic, input), t), $"publish {prefix}-{i}")).Id);
        }

        return ids;
    }

    /// <summary>What the consumer received, and waits for a condition on it that end at the delivery that meets it.</summary>
    private sealed class Deliveries
    {
        private readonly List<RecordId> _ids = [];
        private readonly List<(Func<IReadOnlyList<RecordId>, bool> Condition, TaskCompletionSource Met)> _waits = [];
        private int _starts;

        public IReadOnlyList<RecordId> Ids
        {
            get
            {
                lock (_ids)
                {
                    return [.. _ids];
                }
            }
        }

        public int Starts => Volatile.Read(ref _starts);

        public void Started() => Interlocked.Increment(ref _starts);

        public void Add(RecordId id)
        {
            lock (_ids)
            {
                _ids.Add(id);
                Check();
            }
        }

        public async Task UntilAsync(Func<IReadOnlyList<RecordId>, bool> condition, string what, TimeSpan timeout)
        {
            var met = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_ids)
            {
                _waits.Add((condition, met));
                Check();
            }

            try
            {
                await met.Task.WaitAsync(timeout);
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for: {what} ({Ids.Count} events received)", e);
            }
        }

        // Under the lock.
        private void Check()
        {
            foreach (var wait in _waits.Where(w => w.Condition(_ids)).ToList())
            {
                wait.Met.TrySetResult();
                _waits.Remove(wait);
            }
        }
    }

    /// <summary>Records and acknowledges every delivered event.</summary>
    private sealed class AckingConsumer : ReceiveActor
    {
        public AckingConsumer(Deliveries received)
        {
            Receive<EventSubscription.Started>(_ => received.Started());
            Receive<EventSubscription.Delivered>(d =>
            {
                received.Add(d.Event.Id);
                Sender.Tell(new EventSubscription.Ack(d.Event.Id));
            });
        }
    }
}
