using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Security;

/// <summary>
/// The node-local issuer's credential check: a presented API key becomes the principal its
/// stored record describes, or <c>auth.unauthenticated</c>. The key's salt and hash come from the
/// system shard (<see cref="GetApiKeyCredential"/>, nodes only) and the comparison happens here,
/// so the secret never leaves the node it was presented to. A verified key is remembered for
/// <see cref="CacheFor"/> (keyed by the key's SHA-256), so the system shard does not see every
/// request; every hit re-checks the node's revoked list and the key's expiry, so a revocation
/// this node has heard of ends the cache entry at once. Thread-safe.
/// </summary>
public sealed class ApiKeyAuthenticator
{
    /// <summary>How long a verified key is trusted without asking the store again.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    /// <summary>Verified keys kept at most.</summary>
    public const int CacheCapacity = 4096;

    private readonly Func<IShardMessage, CancellationToken, Task<object>> _ask;
    private readonly NodeSecurity _security;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, Verified> _cache = new(StringComparer.Ordinal);

    /// <summary>Checks keys against the store reached through <paramref name="ask"/> (the system shard), as <paramref name="security"/>'s node.</summary>
    public ApiKeyAuthenticator(Func<IShardMessage, CancellationToken, Task<object>> ask, NodeSecurity security, TimeProvider time)
    {
        _ask = ask ?? throw new ArgumentNullException(nameof(ask));
        _security = security ?? throw new ArgumentNullException(nameof(security));
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    /// <summary>The credential id tokens issued for key <paramref name="keyId"/> carry (what a revocation names).</summary>
    public static string CredentialOf(string keyId) => "apikey:" + keyId;

    /// <summary>
    /// The principal of <paramref name="key"/>; throws <c>ForgeOneException(auth.unauthenticated)</c>
    /// for a malformed, unknown, wrong, revoked or expired key (the reason never echoes the key).
    /// </summary>
    public async Task<AuthenticatedKey> AuthenticateAsync(string key, CancellationToken cancellationToken)
    {
        if (!ApiKeySecret.TryParseId(key, out var id))
        {
            throw Refused("The credential is not a well-formed ForgeOne API key (fo_live_<id>_<secret>).");
        }

        var now = _time.GetUtcNow();
        var cacheKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        if (_cache.TryGetValue(cacheKey, out var known) && now < known.Until)
        {
            return Check(known.Key, now);
        }

        var reply = await _ask(new GetApiKeyCredential(_security.Identity.Current, id), cancellationToken).ConfigureAwait(false);
        var credential = reply switch
        {
            ApiKeyCredential c => c,
            IFailureReply { Error.Code: ErrorCodes.NotFound } => throw Refused($"API key {id} is not known."),
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply {reply?.GetType().Name ?? "null"} from the system shard."),
        };
        if (!ApiKeySecret.Matches(credential.Salt, credential.Hash, key))
        {
            throw Refused($"The secret of API key {id} is wrong.");
        }

        var info = credential.Key;
        if (info.RevokedAt is { } revokedAt)
        {
            // The store knows before gossip does: teach this node's verifier too.
            _security.Revoked.Add([(CredentialOf(id), revokedAt)]);
        }

        var authenticated = new AuthenticatedKey(
            Principal.Of(CredentialOf(id), info.Roles, info.Tenant, info.Regions, info.Clearance), CredentialOf(id), info.Name, info.ExpiresAt);
        var checkedKey = Check(authenticated, now);
        if (_cache.Count >= CacheCapacity)
        {
            // Bounded without bookkeeping: a miss costs one system-shard read.
            _cache.Clear();
        }

        _cache[cacheKey] = new Verified(authenticated, now + CacheFor);
        return checkedKey;
    }

    /// <summary>
    /// A token for a key <see cref="AuthenticateAsync"/> accepted: the node's usual lifetime, never
    /// past the key's own expiry.
    /// </summary>
    public (PrincipalToken Token, TokenClaims Claims) Issue(AuthenticatedKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var lifetime = _security.Issuer.Lifetime;
        if (key.ExpiresAt is { } expires && expires - _time.GetUtcNow() < lifetime)
        {
            lifetime = expires - _time.GetUtcNow();
            if (lifetime <= TimeSpan.Zero)
            {
                throw Refused($"API key {key.CredentialId} expired at {expires:O}.");
            }
        }

        return _security.IssueFor(key.Principal, key.CredentialId, lifetime);
    }

    private AuthenticatedKey Check(AuthenticatedKey key, DateTimeOffset now)
    {
        if (_security.Revoked.IsRevoked(key.CredentialId))
        {
            throw Refused($"API key {key.CredentialId} was revoked.");
        }

        return key.ExpiresAt is { } expires && now >= expires ? throw Refused($"API key {key.CredentialId} expired at {expires:O}.") : key;
    }

    private static ForgeOneException Refused(string reason) => new(ErrorCodes.Unauthenticated, reason);

    private sealed record Verified(AuthenticatedKey Key, DateTimeOffset Until);
}

/// <summary>An API key that was checked against the store.</summary>
/// <param name="Principal">Who it authenticates (id <c>apikey:&lt;id&gt;</c>).</param>
/// <param name="CredentialId">The credential id its tokens carry.</param>
/// <param name="Name">The key's name.</param>
/// <param name="ExpiresAt">When the key expires, if ever.</param>
public sealed record AuthenticatedKey(Principal Principal, string CredentialId, string Name, DateTimeOffset? ExpiresAt);
