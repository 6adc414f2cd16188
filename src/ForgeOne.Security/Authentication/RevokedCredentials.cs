using System.Collections.Frozen;

namespace ForgeOne.Security;

/// <summary>
/// The credentials whose tokens are refused although their signature and expiry are fine (a
/// revoked API key, say): one immutable set, swapped whole on every change so a verifier reads
/// it without a lock. Fed on every node from the cluster's replicated revocation list. An entry
/// older than the longest token lifetime may be dropped: every token issued for it has expired
/// by then, and the credential store refuses to issue new ones. Thread-safe.
/// </summary>
public sealed class RevokedCredentials
{
    private readonly Lock _lock = new();
    private volatile FrozenDictionary<string, DateTimeOffset> _revoked = FrozenDictionary<string, DateTimeOffset>.Empty;

    /// <summary>Number of revoked credentials held.</summary>
    public int Count => _revoked.Count;

    /// <summary>True when <paramref name="credentialId"/> is revoked.</summary>
    public bool IsRevoked(string credentialId) => _revoked.ContainsKey(credentialId);

    /// <summary>Every entry: credential id and when it was revoked.</summary>
    public IReadOnlyDictionary<string, DateTimeOffset> Entries => _revoked;

    /// <summary>Adds revocations (an id already present keeps its earlier time).</summary>
    public void Add(IEnumerable<(string CredentialId, DateTimeOffset RevokedAt)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        lock (_lock)
        {
            var next = _revoked.ToDictionary(StringComparer.Ordinal);
            foreach (var (id, at) in entries)
            {
                if (!next.TryGetValue(id, out var known) || at < known)
                {
                    next[id] = at;
                }
            }

            _revoked = next.ToFrozenDictionary(StringComparer.Ordinal);
        }
    }

    /// <summary>Drops entries revoked before <paramref name="before"/>.</summary>
    public void Prune(DateTimeOffset before)
    {
        lock (_lock)
        {
            _revoked = _revoked.Where(kv => kv.Value >= before).ToFrozenDictionary(StringComparer.Ordinal);
        }
    }
}
