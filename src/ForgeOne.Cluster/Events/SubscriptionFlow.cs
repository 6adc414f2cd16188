using ForgeOne.Common;

namespace ForgeOne.Cluster.Events;

/// <summary>
/// The source side's bounded in-flight window: at most <see cref="Capacity"/> events sent and not
/// yet acknowledged. Acknowledgements are cumulative (an ack of id X releases every sent id
/// &lt;= X), so a lost ack is repaired by the next one.
/// </summary>
public sealed class InFlightWindow
{
    private readonly Queue<RecordId> _sent = new();

    /// <summary>A window of <paramref name="capacity"/> events.</summary>
    public InFlightWindow(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <summary>The most unacknowledged events.</summary>
    public int Capacity { get; }

    /// <summary>Events sent and not acknowledged.</summary>
    public int InFlight => _sent.Count;

    /// <summary>How many more may be sent now.</summary>
    public int Available => Capacity - _sent.Count;

    /// <summary>The last id sent, if any.</summary>
    public RecordId? LastSent { get; private set; }

    /// <summary>The highest id acknowledged, if any.</summary>
    public RecordId? LastAcked { get; private set; }

    /// <summary>Records <paramref name="id"/> as sent. Ids must increase and the window must have room.</summary>
    public void Sent(RecordId id)
    {
        if (Available == 0)
        {
            throw new InvalidOperationException($"The window of {Capacity} is full.");
        }

        if (LastSent is { } last && id <= last)
        {
            throw new InvalidOperationException($"Id {id} is not after the last sent id {last}.");
        }

        _sent.Enqueue(id);
        LastSent = id;
    }

    /// <summary>Releases every sent id &lt;= <paramref name="upTo"/>; returns how many were released. Stale or early acks release what they cover and nothing else.</summary>
    public int Ack(RecordId upTo)
    {
        var released = 0;
        while (_sent.Count > 0 && _sent.Peek() <= upTo)
        {
            _sent.Dequeue();
            released++;
        }

        if (LastAcked is not { } acked || upTo > acked)
        {
            // Never past what was sent: an ack for an id we never sent acknowledges nothing beyond.
            LastAcked = LastSent is { } sent && upTo > sent ? sent : upTo;
        }

        return released;
    }
}

/// <summary>
/// Merges a subscription's catch-up reads from the store with the live events the shard pushes
/// after each commit, so the subscriber gets every event of the topic exactly once, in id order.
/// </summary>
/// <remarks>
/// <code>
///            read returns end of topic and no live event was dropped since the read began
///  CatchingUp ------------------------------------------------------------------------> Live
///      ^                                                                                  |
///      +------------ live backlog exceeds MaxBuffer (slow subscriber): drop it -----------+
/// </code>
/// Why it is gap-free: the source is registered for live pushes before its first read, and the
/// shard pushes every commit after it commits. A read's snapshot holds every commit before it;
/// every later commit's push arrives after the read began. So if no push was dropped since the
/// read began, (read result) + (buffered pushes) is the whole topic past the position; overlaps
/// are removed by id. When pushes were dropped, another read picks them up from the store.
/// Memory is bounded: at most <see cref="MaxBuffer"/> events wait in each of the two queues.
/// </remarks>
/// <typeparam name="T">The event type.</typeparam>
public sealed class CatchUpLiveMerge<T>
{
    private readonly Func<T, RecordId> _idOf;
    private readonly Queue<T> _ready = new();
    private readonly List<T> _pendingLive = [];
    private long _dropEpoch;
    private long _readEpoch;

    /// <summary>Starts after <paramref name="after"/> (null: from the beginning), catching up.</summary>
    public CatchUpLiveMerge(Func<T, RecordId> idOf, RecordId? after, int maxBuffer)
    {
        ArgumentNullException.ThrowIfNull(idOf);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBuffer);
        _idOf = idOf;
        LastEnqueued = after;
        MaxBuffer = maxBuffer;
    }

    /// <summary>True once the subscription follows live pushes.</summary>
    public bool IsLive { get; private set; }

    /// <summary>True while a read is outstanding.</summary>
    public bool ReadInFlight { get; private set; }

    /// <summary>The most events held per queue.</summary>
    public int MaxBuffer { get; }

    /// <summary>The id of the last event accepted for sending (the position a read continues after).</summary>
    public RecordId? LastEnqueued { get; private set; }

    /// <summary>Events ready to send.</summary>
    public int ReadyCount => _ready.Count;

    /// <summary>True when a read should be issued now: catching up, none outstanding, nothing ready.</summary>
    public bool NeedsRead => !IsLive && !ReadInFlight && _ready.Count == 0;

    /// <summary>Starts a read; returns the id to read after (null: from the beginning).</summary>
    public RecordId? BeginRead()
    {
        if (ReadInFlight)
        {
            throw new InvalidOperationException("A read is already outstanding.");
        }

        ReadInFlight = true;
        _readEpoch = _dropEpoch;
        return LastEnqueued;
    }

    /// <summary>
    /// A read's result: events after the position in id order; <paramref name="reachedEnd"/> when
    /// the read saw the end of the topic (it returned fewer than it asked for).
    /// </summary>
    public void OnRead(IReadOnlyList<T> events, bool reachedEnd)
    {
        ArgumentNullException.ThrowIfNull(events);
        ReadInFlight = false;
        foreach (var e in events)
        {
            EnqueueIfNew(e);
        }

        SwitchToLiveIfComplete(reachedEnd);
    }

    /// <summary>A "from now" start: the read found the topic's last id (null when empty); nothing before it is sent.</summary>
    public void OnTail(RecordId? tail, bool reachedEnd = true)
    {
        ReadInFlight = false;
        if (tail is { } t && (LastEnqueued is not { } last || t > last))
        {
            LastEnqueued = t;
        }

        SwitchToLiveIfComplete(reachedEnd);
    }

    /// <summary>Events the shard pushed after a commit (in commit order).</summary>
    public void OnLive(IEnumerable<T> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            if (IsLive)
            {
                EnqueueIfNew(e);
                if (_ready.Count > MaxBuffer)
                {
                    // The subscriber is slower than the topic: stop holding its backlog in memory
                    // and read it from the store when it has caught up with what is queued.
                    var keep = _ready.Take(MaxBuffer).ToArray();
                    _ready.Clear();
                    foreach (var k in keep)
                    {
                        _ready.Enqueue(k);
                    }

                    LastEnqueued = _idOf(keep[^1]);
                    IsLive = false;
                    _pendingLive.Clear();
                    _dropEpoch++;
                }
            }
            else if (LastEnqueued is not { } last || _idOf(e) > last)
            {
                _pendingLive.Add(e);
                if (_pendingLive.Count > MaxBuffer)
                {
                    _pendingLive.Clear();
                    _dropEpoch++;
                }
            }
        }
    }

    /// <summary>Takes up to <paramref name="max"/> events to send, in id order.</summary>
    public IReadOnlyList<T> Take(int max)
    {
        var taken = new List<T>(Math.Min(Math.Max(max, 0), _ready.Count));
        while (taken.Count < max && _ready.Count > 0)
        {
            taken.Add(_ready.Dequeue());
        }

        return taken;
    }

    private void EnqueueIfNew(T e)
    {
        var id = _idOf(e);
        if (LastEnqueued is { } last && id <= last)
        {
            return; // already read or pushed: the overlap of a read and the live stream
        }

        _ready.Enqueue(e);
        LastEnqueued = id;
    }

    private void SwitchToLiveIfComplete(bool reachedEnd)
    {
        if (!reachedEnd || _readEpoch != _dropEpoch)
        {
            return;
        }

        IsLive = true;
        foreach (var e in _pendingLive)
        {
            EnqueueIfNew(e);
        }

        _pendingLive.Clear();
    }
}

/// <summary>
/// The client side of a subscription: delivers each id once, in increasing order, across
/// re-subscriptions (a new source re-sends from the last acknowledged id; what was already
/// delivered is dropped here), and remembers the acknowledged position to resume from.
/// </summary>
public sealed class DeliveryTracker
{
    /// <summary>Starts after <paramref name="after"/> (null: nothing delivered yet).</summary>
    public DeliveryTracker(RecordId? after)
    {
        LastDelivered = after;
        LastAcked = after;
    }

    /// <summary>The last id handed to the consumer.</summary>
    public RecordId? LastDelivered { get; private set; }

    /// <summary>The last id the consumer acknowledged; a re-subscription resumes after it.</summary>
    public RecordId? LastAcked { get; private set; }

    /// <summary>Events delivered and not acknowledged.</summary>
    public bool HasUnacknowledged => LastDelivered is { } d && (LastAcked is not { } a || d > a);

    /// <summary>True when <paramref name="id"/> is new and must be delivered; false for a duplicate or an out-of-order id.</summary>
    public bool Accept(RecordId id)
    {
        if (LastDelivered is { } last && id <= last)
        {
            return false;
        }

        LastDelivered = id;
        return true;
    }

    /// <summary>Records the consumer's cumulative acknowledgement; false when it acknowledges nothing new or something never delivered.</summary>
    public bool Ack(RecordId upTo)
    {
        if (LastDelivered is not { } delivered || upTo > delivered || (LastAcked is { } acked && upTo <= acked))
        {
            return false;
        }

        LastAcked = upTo;
        return true;
    }
}
