using Akka.Actor;
using ForgeOne.Cluster.Events;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Client;

/// <summary>
/// A .NET actor client's subscription to one topic. Start it next to your consumer actor with
/// <see cref="Props"/>; it sends the consumer <see cref="Delivered"/> for every event, in id
/// (= commit) order, each exactly once, and expects <see cref="Ack"/> back (cumulative; the
/// source keeps at most <see cref="EventSubscriptionSettings.Window"/> events unacknowledged, so a
/// slow consumer slows the stream instead of growing a queue).
/// </summary>
/// <remarks>
/// <code>
///   [Resolving] --group offset--> [Subscribing] --SubscriptionStarted--> [Active]
///   (only with a group)            ^   |  timeout / retryable failure: retry   |
///                                  |   v                                      | source Terminated
///                                  +---+--------- after RetryDelay -----------+ (shard moved, node died)
/// </code>
/// A source dies with its shard; DeathWatch tells this actor, which re-subscribes after the last
/// acknowledged id (or the start position). Events the consumer already received but had not yet
/// acknowledged come again from the new source and are dropped here by id, so the consumer never
/// sees a duplicate; its later ack covers them. With a consumer group, acknowledged positions are
/// committed to the group (one commit in flight, coalesced), and the subscription starts from it.
/// </remarks>
public sealed class EventSubscription : ReceiveActor, IWithTimers
{
    private readonly IActorRef _events;
    private readonly IPrincipalTokenSource _tokens;
    private readonly string _topic;
    private readonly IActorRef _consumer;
    private readonly EventSubscriptionSettings _settings;
    private readonly string _id = Guid.NewGuid().ToString("N");
    private DeliveryTracker _tracker = new(null);
    private SubscriptionStart _start;
    private IActorRef? _source;
    private int _attempt;
    private bool _commitInFlight;
    private RecordId? _committed;
    private readonly bool _resolveGroup;

    /// <summary>Creates the subscription actor.</summary>
    public EventSubscription(IActorRef eventsRegion, IPrincipalTokenSource tokens, string topic, IActorRef consumer, SubscriptionStart? start, EventSubscriptionSettings settings)
    {
        _events = eventsRegion;
        _tokens = tokens;
        _topic = topic;
        _consumer = consumer;
        _settings = settings;
        _start = start ?? SubscriptionStart.Beginning;
        _tracker = new DeliveryTracker(_start.After);
        _resolveGroup = start is null && settings.Group is not null;
    }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>
    /// Props of a subscription to <paramref name="topic"/> through <paramref name="eventsRegion"/>
    /// (the events shard region or proxy) for <paramref name="consumer"/>, each request carrying
    /// the current token of <paramref name="tokens"/> (a renewed one on every re-subscription, so
    /// a subscription outlives any one token). Start position:
    /// <paramref name="start"/>, or the committed offset of <see cref="EventSubscriptionSettings.Group"/>
    /// when <paramref name="start"/> is null, or the beginning.
    /// </summary>
    public static Props Props(IActorRef eventsRegion, IPrincipalTokenSource tokens, string topic, IActorRef consumer, SubscriptionStart? start = null, EventSubscriptionSettings? settings = null) =>
        Akka.Actor.Props.Create(() => new EventSubscription(eventsRegion, tokens, topic, consumer, start, settings ?? new EventSubscriptionSettings()));

    /// <summary>An event for the consumer. Reply with <see cref="Ack"/> once it is processed.</summary>
    public sealed record Delivered(string SubscriptionId, EventRecord Event);

    /// <summary>The consumer has processed every event up to and including <paramref name="Id"/>.</summary>
    public sealed record Ack(RecordId Id);

    /// <summary>Told to the consumer each time a source starts (first time and after every re-subscription).</summary>
    public sealed record Started(string SubscriptionId, int Attempt, RecordId? After);

    /// <summary>Told to the consumer when the subscription cannot continue (topic missing, access refused); the actor stops.</summary>
    public sealed record Failed(string SubscriptionId, ForgeOneError Error);

    /// <summary>Stops the subscription (and its source).</summary>
    public sealed record Stop
    {
        /// <summary>The instance.</summary>
        public static readonly Stop Instance = new();

        private Stop()
        {
        }
    }

    private sealed record Retry(int Attempt);

    private sealed record OffsetResolved(object Reply);

    private sealed record CommitDone(object Reply);

    /// <inheritdoc />
    protected override void PreStart()
    {
        // Behaviours start timers, which exist only once the constructor has returned.
        if (_resolveGroup)
        {
            Become(Resolving);
        }
        else
        {
            Become(Subscribing);
        }
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _source?.Tell(new CancelSubscription(_id));
    }

    private void Resolving()
    {
        GetConsumerOffset Ask() => new(_tokens.Current, _settings.Group!, _topic, _settings.Zone);
        _events.Ask<object>(Ask(), _settings.SubscribeTimeout).PipeTo(Self, success: r => new OffsetResolved(r), failure: e => new OffsetResolved(new Status.Failure(e)));
        Receive<OffsetResolved>(resolved =>
        {
            switch (resolved.Reply)
            {
                case CurrentConsumerOffset offset:
                    _start = offset.Position is { } p ? SubscriptionStart.AfterId(p) : SubscriptionStart.Beginning;
                    _tracker = new DeliveryTracker(offset.Position);
                    _committed = offset.Position;
                    Become(Subscribing);
                    break;
                case EventFailed failed when !Retryable(failed.Error):
                    Fail(failed.Error);
                    break;
                default:
                    // Timeout or a shard that is moving: ask again shortly.
                    Timers.StartSingleTimer("resolve", new Retry(0), _settings.RetryDelay);
                    break;
            }
        });
        Receive<Retry>(_ => _events.Ask<object>(Ask(), _settings.SubscribeTimeout).PipeTo(Self, success: r => new OffsetResolved(r), failure: e => new OffsetResolved(new Status.Failure(e))));
        Receive<Stop>(_ => Context.Stop(Self));
    }

    private void Subscribing()
    {
        _source = null;
        _attempt++;
        var start = ResumePoint();
        _events.Tell(new Subscribe(_tokens.Current, _topic, start, _settings.Window, Self, _id, _attempt, _settings.Zone));
        Timers.StartSingleTimer("subscribe", new Retry(_attempt), _settings.SubscribeTimeout);

        Receive<SubscriptionStarted>(started =>
        {
            if (started.Attempt != _attempt)
            {
                started.Source.Tell(new CancelSubscription(_id));
                return;
            }

            Timers.Cancel("subscribe");
            _source = started.Source;
            Context.Watch(_source);
            if (_start.FromNow && _tracker.LastDelivered is null)
            {
                // Pin "now" to the position the first source chose, so a re-subscription does
                // not skip what was published while it was away.
                _start = started.StartAfter is { } after ? SubscriptionStart.AfterId(after) : SubscriptionStart.Beginning;
            }

            _consumer.Tell(new Started(_id, _attempt, started.StartAfter));
            Become(Active);
        });
        Receive<Retry>(retry =>
        {
            if (retry.Attempt == _attempt)
            {
                Become(Subscribing);
            }
        });
        Receive<EventFailed>(failed =>
        {
            if (Retryable(failed.Error))
            {
                Timers.StartSingleTimer("subscribe", new Retry(_attempt), _settings.RetryDelay);
            }
            else
            {
                Fail(failed.Error);
            }
        });
        Receive<SubscriptionEvents>(_ => { }); // from a stale source
        Receive<Terminated>(_ => { });
        Acks();
    }

    private void Active()
    {
        Receive<SubscriptionEvents>(batch =>
        {
            if (!Sender.Equals(_source))
            {
                return; // a stale source's events: the current one re-sends what matters
            }

            foreach (var e in batch.Events)
            {
                if (_tracker.Accept(e.Id))
                {
                    _consumer.Tell(new Delivered(_id, e));
                }
            }
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_source))
            {
                _source = null;
                Timers.StartSingleTimer("resubscribe", new Retry(_attempt), _settings.RetryDelay);
            }
        });
        Receive<Retry>(retry =>
        {
            if (retry.Attempt == _attempt && _source is null)
            {
                Become(Subscribing);
            }
        });
        Receive<EventFailed>(failed =>
        {
            if (!Retryable(failed.Error))
            {
                Fail(failed.Error);
            }
        });
        Receive<SubscriptionStarted>(started =>
        {
            if (!started.Source.Equals(_source))
            {
                started.Source.Tell(new CancelSubscription(_id));
            }
        });
        Acks();
    }

    private void Acks()
    {
        Receive<Ack>(ack =>
        {
            if (_tracker.Ack(ack.Id))
            {
                _source?.Tell(new SubscriptionAck(_id, ack.Id));
                CommitIfDue();
            }
        });
        Receive<CommitDone>(done =>
        {
            _commitInFlight = false;
            if (done.Reply is ConsumerOffsetCommitted committed && (_committed is not { } c || committed.Position > c))
            {
                _committed = committed.Position;
            }

            CommitIfDue();
        });
        Receive<Stop>(_ => Context.Stop(Self));
    }

    private void CommitIfDue()
    {
        if (_settings.Group is null || _commitInFlight || _tracker.LastAcked is not { } acked || (_committed is { } c && acked <= c))
        {
            return;
        }

        _commitInFlight = true;
        _events.Ask<object>(new CommitConsumerOffset(_tokens.Current, _settings.Group, _topic, acked, Zone: _settings.Zone), _settings.SubscribeTimeout)
            .PipeTo(Self, success: r => new CommitDone(r), failure: e => new CommitDone(new Status.Failure(e)));
    }

    private SubscriptionStart ResumePoint() =>
        _tracker.LastAcked is { } acked ? SubscriptionStart.AfterId(acked) : _start;

    private void Fail(ForgeOneError error)
    {
        _consumer.Tell(new Failed(_id, error));
        Context.Stop(Self);
    }

    // Errors of a shard that is moving or down are worth retrying; refusals are not.
    private static bool Retryable(ForgeOneError error) =>
        error.Code.StartsWith("cluster.", StringComparison.Ordinal) || error.Code is ErrorCodes.StorageIo or ErrorCodes.StorageStaleOwner;
}

/// <summary>Tuning of an <see cref="EventSubscription"/>.</summary>
/// <param name="Window">Most events unacknowledged at a time.</param>
/// <param name="Group">Consumer group: start from its committed offset (when no explicit start) and commit acknowledged positions to it.</param>
public sealed record EventSubscriptionSettings(int Window = 100, string? Group = null)
{
    /// <summary>How long to wait for a source to start before asking again.</summary>
    public TimeSpan SubscribeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The topic's residency zone (null: the default region); sent on every message so the router reaches the zone's shards.</summary>
    public string? Zone { get; init; }

    /// <summary>Pause before re-subscribing after the source died or a retryable failure.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(300);
}
