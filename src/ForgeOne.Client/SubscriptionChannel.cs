using System.Threading.Channels;
using Akka.Actor;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Client;

/// <summary>
/// An <see cref="EventSubscription"/> read through a channel instead of a consumer actor: what
/// the HTTP edge's SSE responses and the actor client's <see cref="IAsyncEnumerable{T}"/> both
/// use. The reader acknowledges each event (<see cref="Ack"/>) once it has handled it; the
/// subscription keeps at most its window unacknowledged, which bounds the channel.
/// </summary>
public sealed class SubscriptionChannel : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly IActorRef _bridge;
    private readonly IActorRef _subscription;
    private readonly TaskCompletionSource<RecordId?> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SubscriptionChannel(ActorSystem system, IActorRef eventsRegion, IPrincipalTokenSource tokens, string topic, SubscriptionStart? start, EventSubscriptionSettings settings)
    {
        _system = system;
        var channel = Channel.CreateBounded<EventRecord>(new BoundedChannelOptions(settings.Window + 1) { SingleReader = true, SingleWriter = true });
        Events = channel.Reader;
        _bridge = system.ActorOf(Props.Create(() => new Bridge(channel.Writer, _started)));
        _subscription = system.ActorOf(EventSubscription.Props(eventsRegion, tokens, topic, _bridge, start, settings));
    }

    /// <summary>Completes when the first source runs, with the position it starts after (null: the topic's beginning); faults with the refusal (topic missing, access denied).</summary>
    public Task<RecordId?> Started => _started.Task;

    /// <summary>The events, in id order, each once; completes with the subscription's failure if it fails later.</summary>
    public ChannelReader<EventRecord> Events { get; }

    /// <summary>Subscribes to <paramref name="topic"/> through <paramref name="eventsRegion"/>.</summary>
    public static SubscriptionChannel Start(ActorSystem system, IActorRef eventsRegion, IPrincipalTokenSource tokens, string topic, SubscriptionStart? start, EventSubscriptionSettings settings) =>
        new(system, eventsRegion, tokens, topic, start, settings);

    /// <summary>Every event up to and including <paramref name="id"/> is handled: the source may send more.</summary>
    public void Ack(RecordId id) => _subscription.Tell(new EventSubscription.Ack(id));

    /// <summary>Stops the subscription and its source.</summary>
    public ValueTask DisposeAsync()
    {
        _subscription.Tell(EventSubscription.Stop.Instance);
        _system.Stop(_bridge);
        _started.TrySetCanceled();
        return ValueTask.CompletedTask;
    }

    private sealed class Bridge : ReceiveActor
    {
        public Bridge(ChannelWriter<EventRecord> events, TaskCompletionSource<RecordId?> started)
        {
            Receive<EventSubscription.Started>(s => started.TrySetResult(s.After));
            Receive<EventSubscription.Delivered>(d =>
            {
                if (!events.TryWrite(d.Event))
                {
                    // Cannot happen while the window is below the channel's capacity; if it did,
                    // end the stream rather than buffer without bound.
                    events.TryComplete(new ForgeOneException(ErrorCodes.Internal, "The subscription delivered more events than its window."));
                }
            });
            Receive<EventSubscription.Failed>(f =>
            {
                started.TrySetException(new ForgeOneException(f.Error));
                events.TryComplete(new ForgeOneException(f.Error));
            });
        }
    }
}
