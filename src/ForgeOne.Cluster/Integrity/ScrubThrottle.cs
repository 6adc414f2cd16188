namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// The scrub budget of one node, shared by all its shards: a scrubber that read some bytes
/// reserves them and waits the returned time before its next slice, so together the shards read
/// at most the configured rate. Virtual-time scheduling: each reservation moves a shared "next
/// free" instant forward by bytes / rate. Thread-safe.
/// </summary>
public sealed class ScrubThrottle
{
    private readonly double _bytesPerSecond;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private DateTimeOffset _free;
    private long _charged;

    /// <summary>A budget of <paramref name="bytesPerSecond"/>.</summary>
    public ScrubThrottle(double bytesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        _bytesPerSecond = bytesPerSecond;
        _time = time;
        _free = time.GetUtcNow();
    }

    /// <summary>Bytes per second.</summary>
    public double BytesPerSecond => _bytesPerSecond;

    /// <summary>Bytes charged so far (what the node's scrubbers read).</summary>
    public long BytesCharged => Interlocked.Read(ref _charged);

    /// <summary>Charges <paramref name="bytes"/> just read; returns how long to wait before reading more.</summary>
    public TimeSpan Reserve(long bytes)
    {
        Interlocked.Add(ref _charged, bytes);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (_free < now)
            {
                _free = now;
            }

            _free += TimeSpan.FromSeconds(bytes / _bytesPerSecond);
            return _free - now;
        }
    }
}
