namespace ForgeOne.Cluster.Shards;

/// <summary>
/// The clock a shard's handlers see. Outside a group commit it is the node's clock; while the
/// shard actor's thread applies a group it reads the group's own time, taken once before the
/// transaction began. So everything a group writes (ids, timestamps, retention checks, the
/// outcomes of request ids) is a function of the batch and the store alone, and a batch applied
/// again (after a map growth, or replayed elsewhere) decides the same way.
/// </summary>
/// <remarks>
/// Frozen only for the thread that froze it: read tasks running on the thread pool at the same
/// time keep seeing the live clock.
/// </remarks>
public sealed class BatchClock : TimeProvider
{
    private readonly TimeProvider _inner;
    private int _frozenThread = -1;
    private DateTimeOffset _frozen;

    /// <summary>A clock reading <paramref name="inner"/> except during <see cref="Freeze"/>.</summary>
    public BatchClock(TimeProvider inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
    }

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() =>
        Volatile.Read(ref _frozenThread) == Environment.CurrentManagedThreadId ? _frozen : _inner.GetUtcNow();

    /// <inheritdoc />
    public override long GetTimestamp() => _inner.GetTimestamp();

    /// <inheritdoc />
    public override TimeZoneInfo LocalTimeZone => _inner.LocalTimeZone;

    /// <inheritdoc />
    public override long TimestampFrequency => _inner.TimestampFrequency;

    /// <summary>Reads the inner clock once and holds that time for this thread until the scope is disposed.</summary>
    public Frozen Freeze()
    {
        _frozen = _inner.GetUtcNow();
        Volatile.Write(ref _frozenThread, Environment.CurrentManagedThreadId);
        return new Frozen(this, _frozen);
    }

    /// <summary>A frozen period; <see cref="Time"/> is the batch's time.</summary>
    public readonly struct Frozen(BatchClock clock, DateTimeOffset time) : IDisposable
    {
        /// <summary>The time every reader on the freezing thread sees.</summary>
        public DateTimeOffset Time { get; } = time;

        /// <inheritdoc />
        public void Dispose() => Volatile.Write(ref clock._frozenThread, -1);
    }
}
