namespace ForgeOne.Security;

/// <summary>
/// Mints short-lived <see cref="PrincipalToken"/>s for principals whose credential was already
/// checked (an API key by the system store, a JWT by the edge, a node's own identity). The
/// lifetime bounds how long a token outlives a revocation that did not reach some node (see
/// <see cref="TokenVerifier"/>). Thread-safe.
/// </summary>
public sealed class TokenIssuer
{
    /// <summary>Lifetime of a token unless the issuer is told otherwise.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The longest lifetime this issuer grants.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    private readonly AuthenticationKeyring _keys;
    private readonly TimeProvider _time;

    /// <summary>An issuer signing with <paramref name="keys"/>' active version; tokens live <paramref name="lifetime"/> unless asked otherwise.</summary>
    public TokenIssuer(AuthenticationKeyring keys, TimeProvider time, TimeSpan? lifetime = null)
    {
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        Lifetime = lifetime ?? DefaultLifetime;
        if (Lifetime <= TimeSpan.Zero || Lifetime > MaxLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), Lifetime, $"A token lives more than zero and at most {MaxLifetime}.");
        }
    }

    /// <summary>Lifetime of the tokens this issuer mints unless asked otherwise.</summary>
    public TimeSpan Lifetime { get; }

    /// <summary>The keys it signs with.</summary>
    public AuthenticationKeyring Keys => _keys;

    /// <summary>A token for <paramref name="principal"/>, issued for <paramref name="credentialId"/>, valid for <paramref name="lifetime"/> (default <see cref="Lifetime"/>, at most an hour).</summary>
    public (PrincipalToken Token, TokenClaims Claims) Issue(Principal principal, string credentialId, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var span = lifetime ?? Lifetime;
        if (span <= TimeSpan.Zero || span > MaxLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), span, $"A token lives more than zero and at most {MaxLifetime}.");
        }

        var now = _time.GetUtcNow();
        var claims = new TokenClaims(principal, credentialId, now, now + span, _keys.ActiveVersion);
        var token = _keys.Sign(claims);
        return (token, claims with { KeyVersion = PrincipalTokenCodec.PeekKeyVersion(token.Value)!.Value });
    }
}
