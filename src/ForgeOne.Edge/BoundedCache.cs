using System.Collections.Concurrent;

namespace ForgeOne.Edge;

/// <summary>
/// A small thread-safe cache with a lifetime per entry and a hard size bound: when full, the
/// whole cache is dropped (entries are cheap to recompute; a bound matters more than hit rate,
/// since keys come from clients).
/// </summary>
public sealed class BoundedCache<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, DateTimeOffset Expires)> _entries = new();
    private readonly int _capacity;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;

    /// <summary>At most <paramref name="capacity"/> entries, each valid for <paramref name="lifetime"/>.</summary>
    public BoundedCache(int capacity, TimeSpan lifetime, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _lifetime = lifetime;
        _time = time;
    }

    /// <summary>The entry of <paramref name="key"/> when present and not expired.</summary>
    public bool TryGet(TKey key, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Expires > _time.GetUtcNow())
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Stores <paramref name="value"/> for the cache's lifetime.</summary>
    public void Set(TKey key, TValue value)
    {
        if (_entries.Count >= _capacity)
        {
            _entries.Clear();
        }

        _entries[key] = (value, _time.GetUtcNow() + _lifetime);
    }

    /// <summary>Forgets <paramref name="key"/>.</summary>
    public void Remove(TKey key) => _entries.TryRemove(key, out _);

    /// <summary>Forgets everything.</summary>
    public void Clear() => _entries.Clear();
}
