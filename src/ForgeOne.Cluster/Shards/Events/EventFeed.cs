using Akka.Actor;
using ForgeOne.Cluster.Events;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Shards.Events;

/// <summary>
/// The stream actor of one events shard (child of the shard actor): starts a
/// <see cref="EventSubscriptionSource"/> per admitted <see cref="Subscribe"/>, keeps the live
/// sources by topic, and after each group commit pushes the committed events to the sources of
/// their topic. Pushes are built from the committed commands and their replies (ids), so the
/// live path costs no store read; each source applies its reader's field redaction.
/// </summary>
internal sealed class EventFeed : ReceiveActor
{
    private readonly ShardContext _context;
    private readonly IActorRef _shard;
    private readonly Dictionary<string, HashSet<IActorRef>> _byTopic = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _topicOf = [];
    private long _started;

    public EventFeed(ShardContext context, IActorRef shard)
    {
        _context = context;
        _shard = shard;
        Receive<AdmittedStream>(admitted =>
        {
            if (admitted.Request is Subscribe subscribe)
            {
                OnSubscribe(subscribe, admitted.Principal);
            }
        });
        Receive<ShardCommitted>(OnCommitted);
        Receive<Terminated>(t =>
        {
            if (_topicOf.Remove(t.ActorRef, out var topic) && _byTopic.TryGetValue(topic, out var set) && set.Remove(t.ActorRef) && set.Count == 0)
            {
                _byTopic.Remove(topic);
            }
        });
    }

    public static Props Props(ShardContext context, IActorRef shard) => Akka.Actor.Props.Create(() => new EventFeed(context, shard));

    private void OnSubscribe(Subscribe subscribe, Principal principal)
    {
        // Registered before the source's first read: every commit from here on is pushed to it,
        // which is what makes the catch-up -> live switch gap-free (see CatchUpLiveMerge).
        var source = Context.ActorOf(EventSubscriptionSource.Props(_context, _shard, subscribe, principal), $"sub-{++_started}");
        Context.Watch(source);
        _topicOf[source] = subscribe.Topic;
        if (!_byTopic.TryGetValue(subscribe.Topic, out var set))
        {
            _byTopic[subscribe.Topic] = set = [];
        }

        set.Add(source);
    }

    private void OnCommitted(ShardCommitted committed)
    {
        if (_byTopic.Count == 0)
        {
            return;
        }

        for (var i = 0; i < committed.Commands.Count; i++)
        {
            var (topic, events) = (committed.Commands[i], committed.Replies[i]) switch
            {
                // A replay wrote nothing new: its events were pushed when they first committed.
                (PublishEvent p, EventPublished { Replayed: false } r) when _byTopic.ContainsKey(p.Topic) => (p.Topic, new[] { Record(p.Topic, r.Id, p.Event) }),
                (PublishEvents p, EventsPublished { Replayed: false } r) when _byTopic.ContainsKey(p.Topic) => (p.Topic, p.Events.Select((e, j) => Record(p.Topic, r.Ids[j], e)).ToArray()),
                _ => (null, null),
            };
            if (topic is null)
            {
                continue;
            }

            var live = new EventSubscriptionSource.LiveEvents(events!);
            foreach (var source in _byTopic[topic])
            {
                source.Tell(live);
            }
        }
    }

    private static EventRecord Record(string topic, RecordId id, EventInput e) =>
        new(id, topic, e.Timestamp, e.Priority, e.Payload, e.Metadata is null ? [] : new Dictionary<string, string>(e.Metadata, StringComparer.Ordinal), e.CheckpointMarker, []);
}

/// <summary>
/// One subscription on the shard side: catch-up reads, then live pushes, through a
/// <see cref="CatchUpLiveMerge{T}"/>, sent to the subscriber at most
/// <see cref="InFlightWindow.Capacity"/> unacknowledged at a time. It dies with its shard (hand-off,
/// node failure), which the subscriber sees through DeathWatch and answers by re-subscribing.
/// </summary>
internal sealed class EventSubscriptionSource : ReceiveActor
{
    private readonly ShardContext _context;
    private readonly IActorRef _shard;
    private readonly Subscribe _request;
    private readonly Principal _principal;
    private readonly InFlightWindow _window;
    private readonly CatchUpLiveMerge<EventRecord> _merge;
    private IReadOnlySet<FieldClass> _readable = FieldClasses.None;

    public EventSubscriptionSource(ShardContext context, IActorRef shard, Subscribe request, Principal principal)
    {
        _context = context;
        _shard = shard;
        _request = request;
        _principal = principal;
        _window = new InFlightWindow(request.Window);
        _merge = new CatchUpLiveMerge<EventRecord>(e => e.Id, request.Start.After, Math.Max(256, 4 * request.Window));
        Opening();
    }

    public static Props Props(ShardContext context, IActorRef shard, Subscribe request, Principal principal) =>
        Akka.Actor.Props.Create(() => new EventSubscriptionSource(context, shard, request, principal));

    /// <summary>Events committed to the topic (plaintext; redacted per reader when sent). Local only.</summary>
    internal sealed record LiveEvents(EventRecord[] Events);

    private sealed record Opened(ForgeOneError? Error, IReadOnlySet<FieldClass> Readable, EventRecord[] Events, bool ReachedEnd, RecordId? Tail);

    private sealed record CaughtUp(EventRecord[] Events, bool ReachedEnd);

    protected override void PreStart()
    {
        Context.Watch(_request.Subscriber);

        // The first read authorizes against the topic's stored classification and zone, learns
        // what the reader may see, and either reads the first page or (from now) the tail.
        var after = _merge.BeginRead();
        var (context, request, principal, limit) = (_context, _request, _principal, _window.Available);
        _shard.Tell(new ShardStreamRead(txn =>
        {
            var topic = EventShardHandler.LoadTopic(txn, context, request.Topic);
            if (topic is null)
            {
                return new Opened(new ForgeOneError(ErrorCodes.NotFound, $"Topic '{request.Topic}' does not exist."), FieldClasses.None, [], false, null);
            }

            var decision = EventShardHandler.Decide(context, principal, EventShardHandler.ReadPermission, topic);
            if (!decision.Allowed)
            {
                return new Opened(new ForgeOneError(ErrorCodes.Forbidden, decision.Reason), FieldClasses.None, [], false, null);
            }

            if (request.Start.FromNow)
            {
                return new Opened(null, decision.ReadableFields, [], true, EventShardHandler.Tail(txn, context, request.Topic));
            }

            var (events, end) = EventShardHandler.ReadAfter(txn, context, request.Topic, after, limit, decision.ReadableFields);
            return new Opened(null, decision.ReadableFields, events, end, null);
        }));
    }

    private void Opening()
    {
        Receive<Opened>(opened =>
        {
            if (opened.Error is not null)
            {
                _request.Subscriber.Tell(new EventFailed(opened.Error));
                Context.Stop(Self);
                return;
            }

            _readable = opened.Readable;
            if (_request.Start.FromNow)
            {
                _merge.OnTail(opened.Tail);
            }
            else
            {
                _merge.OnRead(opened.Events, opened.ReachedEnd);
            }

            _request.Subscriber.Tell(new SubscriptionStarted(_request.SubscriptionId, _request.Attempt, Self, _request.Start.FromNow ? opened.Tail : _request.Start.After));
            Become(Running);
            Pump();
        });
        Receive<LiveEvents>(live => _merge.OnLive(live.Events));
        Common();
    }

    private void Running()
    {
        Receive<LiveEvents>(live =>
        {
            _merge.OnLive(live.Events);
            Pump();
        });
        Receive<CaughtUp>(read =>
        {
            _merge.OnRead(read.Events, read.ReachedEnd);
            Pump();
        });
        Receive<SubscriptionAck>(ack =>
        {
            // Flow control is accepted only from the subscriber the stream was opened for.
            if (Sender.Equals(_request.Subscriber))
            {
                _window.Ack(ack.UpTo);
                Pump();
            }
        });
        Common();
    }

    private void Common()
    {
        Receive<CancelSubscription>(_ =>
        {
            if (Sender.Equals(_request.Subscriber))
            {
                Context.Stop(Self);
            }
        });
        Receive<Terminated>(t =>
        {
            if (t.ActorRef.Equals(_request.Subscriber))
            {
                Context.Stop(Self);
            }
        });
        Receive<Status.Failure>(failure =>
        {
            var error = failure.Cause is ForgeOneException fe ? fe.Error : new ForgeOneError(ErrorCodes.StorageIo, failure.Cause.Message);
            _request.Subscriber.Tell(new EventFailed(error));
            Context.Stop(Self);
        });
    }

    private void Pump()
    {
        if (_window.Available > 0 && _merge.ReadyCount > 0)
        {
            // The stream lives longer than the token that opened it: nothing more is sent once
            // the token expired or its credential was revoked. Stopping (rather than failing)
            // lets the subscriber re-subscribe with its renewed token after what it acknowledged.
            if (!_context.Security.Authenticate(_request.Token).IsAuthenticated)
            {
                Context.Stop(Self);
                return;
            }

            var batch = _merge.Take(_window.Available);
            var sent = new EventRecord[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                _window.Sent(batch[i].Id);
                sent[i] = EventShardHandler.Redact(batch[i], _readable);
            }

            _request.Subscriber.Tell(new SubscriptionEvents(_request.SubscriptionId, sent));
        }

        if (_merge.NeedsRead && _window.Available > 0)
        {
            var after = _merge.BeginRead();
            var (context, topic, limit, readable) = (_context, _request.Topic, _window.Available, _readable);
            _shard.Tell(new ShardStreamRead(txn =>
            {
                var (events, end) = EventShardHandler.ReadAfter(txn, context, topic, after, limit, readable);
                return new CaughtUp(events, end);
            }));
        }
    }
}
