namespace ForgeOne.Edge.RateLimiting;

/// <summary>The outcome of one request against its principal's bucket.</summary>
/// <param name="Allowed">True when the request may run.</param>
/// <param name="Remaining">Whole requests left in the bucket after this one.</param>
/// <param name="ResetSeconds">Seconds until the bucket is full again.</param>
/// <param name="RetryAfterSeconds">When refused: seconds until one request is allowed again (at least 1).</param>
public readonly record struct RateDecision(bool Allowed, int Remaining, int ResetSeconds, int RetryAfterSeconds);

/// <summary>
/// One token bucket per principal: <c>rate</c> tokens a second, at most <c>burst</c> banked, one
/// token per request. Pure and clock-injected. The table of buckets is bounded: when it is full,
/// buckets that have refilled completely (their principals are idle, so forgetting them changes
/// no decision) are dropped; if none has, the oldest half goes, which at worst gives those
/// principals a fresh burst.
/// </summary>
public sealed class PrincipalRateLimiter
{
    private readonly double _rate;
    private readonly double _burst;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>A limiter of <paramref name="requestsPerSecond"/> with bursts of <paramref name="burst"/>, tracking at most <paramref name="capacity"/> principals.</summary>
    public PrincipalRateLimiter(int requestsPerSecond, int burst, TimeProvider time, int capacity = 100_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestsPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burst);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _rate = requestsPerSecond;
        _burst = burst;
        _capacity = capacity;
        _time = time;
        WindowSeconds = (int)Math.Ceiling(burst / (double)requestsPerSecond);
    }

    /// <summary>Bucket size (the quota of the <c>RateLimit-Policy</c> header).</summary>
    public int Burst => (int)_burst;

    /// <summary>Seconds an empty bucket takes to fill (the policy's window).</summary>
    public int WindowSeconds { get; }

    /// <summary>Principals tracked now.</summary>
    public int Tracked
    {
        get
        {
            lock (_lock)
            {
                return _buckets.Count;
            }
        }
    }

    /// <summary>Takes one token from <paramref name="principal"/>'s bucket if it has one.</summary>
    public RateDecision TryAcquire(string principal)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_buckets.TryGetValue(principal, out var bucket))
            {
                if (_buckets.Count >= _capacity)
                {
                    Evict(now);
                }

                bucket = new Bucket { Tokens = _burst, Stamp = now };
                _buckets[principal] = bucket;
            }

            Refill(bucket, now);
            var allowed = bucket.Tokens >= 1;
            if (allowed)
            {
                bucket.Tokens -= 1;
            }

            var reset = (int)Math.Ceiling((_burst - bucket.Tokens) / _rate);
            var retry = allowed ? 0 : Math.Max(1, (int)Math.Ceiling((1 - bucket.Tokens) / _rate));
            return new RateDecision(allowed, (int)Math.Floor(bucket.Tokens), reset, retry);
        }
    }

    private void Refill(Bucket bucket, long now)
    {
        var elapsed = _time.GetElapsedTime(bucket.Stamp, now).TotalSeconds;
        if (elapsed > 0)
        {
            bucket.Tokens = Math.Min(_burst, bucket.Tokens + (elapsed * _rate));
            bucket.Stamp = now;
        }
    }

    private void Evict(long now)
    {
        foreach (var (key, bucket) in _buckets.ToList())
        {
            Refill(bucket, now);
            if (bucket.Tokens >= _burst)
            {
                _buckets.Remove(key);
            }
        }

        if (_buckets.Count >= _capacity)
        {
            foreach (var key in _buckets.OrderBy(b => b.Value.Stamp).Take(_buckets.Count / 2).Select(b => b.Key).ToList())
            {
                _buckets.Remove(key);
            }
        }
    }

    private sealed class Bucket
    {
        public double Tokens { get; set; }

        public long Stamp { get; set; }
    }
}
