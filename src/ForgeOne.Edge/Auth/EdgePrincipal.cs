using ForgeOne.Security;

namespace ForgeOne.Edge.Auth;

/// <summary>
/// Who an HTTP request runs as, once its credential was checked: the principal, how it
/// authenticated, the id of the credential (API key id or JWT subject) for rate limiting, logs
/// and revocation, and the principal token every command of the request carries (the shard
/// verifies it, then authorizes and audits against the principal it proves).
/// </summary>
public sealed record EdgePrincipal(Principal Principal, string Method, string CredentialId)
{
    /// <summary>The token the edge issued for this request's principal (set once authenticated).</summary>
    public PrincipalToken Token { get; init; } = null!;

    /// <summary>Authenticated with an API key.</summary>
    public const string ApiKeyMethod = "api-key";

    /// <summary>Authenticated with a JWT bearer token.</summary>
    public const string JwtMethod = "jwt";
}
