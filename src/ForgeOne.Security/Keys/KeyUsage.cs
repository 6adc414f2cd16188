using System.Collections.Concurrent;

namespace ForgeOne.Security;

/// <summary>
/// Live encryption counts per data-key version: the one mutable side object next to the
/// immutable <see cref="Keyring"/>. <see cref="RecordCipher"/> and <see cref="FieldCipher"/>
/// bump it with one <see cref="Interlocked"/> increment per encryption (no lock, no allocation).
/// <para>
/// Persistence is the caller's: fold the counts in with <see cref="Keyring.WithUsage"/> and
/// store the keyring periodically (the shard does it at most every N writes or on rotation
/// and hand-off). A crash loses at most the increments since the last store; the default
/// rotation threshold (2^30) leaves a 4x margin under the 2^32 GCM random-nonce bound, and the
/// hard stop in the ciphers is counted from the persisted value upward.
/// </para>
/// </summary>
public sealed class KeyUsage
{
    private readonly ConcurrentDictionary<int, Counter> _counters = new();

    /// <summary>Starts from the counts persisted in <paramref name="keyring"/>.</summary>
    public KeyUsage(Keyring keyring)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        foreach (var v in keyring.Versions)
        {
            _counters[v.Version] = new Counter { Value = v.Encryptions };
        }
    }

    /// <summary>Encryptions counted for <paramref name="version"/> (persisted + live).</summary>
    public long Get(int version) => _counters.TryGetValue(version, out var c) ? Volatile.Read(ref c.Value) : 0;

    /// <summary>The counter cell of a version; ciphers cache it so the hot path is one Interlocked op.</summary>
    internal Counter For(int version) => _counters.GetOrAdd(version, static _ => new Counter());

    /// <summary>A counter cell (a class so a reference can be cached).</summary>
    internal sealed class Counter
    {
        public long Value;
    }
}
