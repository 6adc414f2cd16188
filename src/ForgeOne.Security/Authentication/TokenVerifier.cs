using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace ForgeOne.Security;

/// <summary>
/// Checks the <see cref="PrincipalToken"/> a command carries before any policy runs: signature
/// (<see cref="AuthenticationKeyring"/>), expiry, and revocation of its credential. A verified
/// token is cached by its exact bytes (bounded), so a stream of commands with the same token
/// costs one HMAC; expiry and revocation are checked again on every hit, so the cache never
/// extends a token's life. One verifier per node, shared by its shards and singletons.
/// Thread-safe.
/// </summary>
/// <remarks>
/// How long a revoked credential's tokens keep working: on a node that has received the
/// revocation, not at all; on a node cut off from the cluster's replication, until the token
/// expires (<see cref="TokenIssuer.MaxLifetime"/> at most, <see cref="TokenIssuer.DefaultLifetime"/>
/// by default) plus <see cref="ClockSkew"/>.
/// </remarks>
public sealed class TokenVerifier
{
    /// <summary>Tolerance for clocks of issuing and verifying nodes that disagree.</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>Verified tokens kept by default.</summary>
    public const int DefaultCacheCapacity = 4096;

    private readonly AuthenticationKeyring _keys;
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly ConcurrentDictionary<TokenBytes, TokenClaims> _cache = new();

    /// <summary>A verifier of tokens signed by <paramref name="keys"/>.</summary>
    public TokenVerifier(AuthenticationKeyring keys, TimeProvider time, RevokedCredentials? revoked = null, int cacheCapacity = DefaultCacheCapacity)
    {
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        Revoked = revoked ?? new RevokedCredentials();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cacheCapacity);
        _capacity = cacheCapacity;
    }

    /// <summary>Revoked credentials this verifier refuses.</summary>
    public RevokedCredentials Revoked { get; }

    /// <summary>Verified tokens currently cached.</summary>
    public int CachedCount => _cache.Count;

    /// <summary>
    /// When false, <see cref="Verify"/> accepts any well-formed token without checking its
    /// signature, expiry or revocation. Benchmarks only (measuring what the check costs); never
    /// set on a node.
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The verified claims of <paramref name="token"/>, or why it is refused.</summary>
    public AuthenticationResult Verify(PrincipalToken? token)
    {
        if (token?.Value is not { Length: > 0 } bytes)
        {
            return AuthenticationResult.Refused("no principal token: every request must carry proof of its principal");
        }

        if (!Enabled)
        {
            return PrincipalTokenCodec.TryDecode(bytes, out var unchecked_, out var why)
                ? AuthenticationResult.Verified(unchecked_!)
                : AuthenticationResult.Refused(why!);
        }

        var key = new TokenBytes(bytes);
        if (!_cache.TryGetValue(key, out var claims))
        {
            if (!_keys.TryOpen(bytes, out claims, out var error))
            {
                return AuthenticationResult.Refused("principal token " + error);
            }

            if (_cache.Count >= _capacity)
            {
                // Bounded without bookkeeping: dropping everything costs one HMAC per live token
                // on its next use, and keeps memory flat whatever callers send.
                _cache.Clear();
            }

            // Copied: the caller's array belongs to a message that may be reused or mutated.
            _cache.TryAdd(new TokenBytes((byte[])bytes.Clone()), claims!);
        }

        var now = _time.GetUtcNow();
        if (now >= claims!.ExpiresAt + ClockSkew)
        {
            return AuthenticationResult.Refused($"principal token of {claims.Principal.Id} expired at {claims.ExpiresAt:O}; obtain a new one");
        }

        if (Revoked.IsRevoked(claims.CredentialId))
        {
            return AuthenticationResult.Refused($"credential {claims.CredentialId} of {claims.Principal.Id} was revoked");
        }

        return AuthenticationResult.Verified(claims);
    }

    // Key of the cache: the whole token, compared byte for byte. The hash is the MAC's first
    // bytes, which are uniform for genuine tokens; a forged token never enters the cache.
    private readonly struct TokenBytes(byte[] bytes) : IEquatable<TokenBytes>
    {
        private readonly byte[] _bytes = bytes;

        public bool Equals(TokenBytes other) => _bytes.AsSpan().SequenceEqual(other._bytes);

        public override bool Equals(object? obj) => obj is TokenBytes other && Equals(other);

        public override int GetHashCode() =>
            _bytes.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(_bytes.AsSpan(_bytes.Length - 4)) : _bytes.Length;
    }
}
