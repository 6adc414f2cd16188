using ForgeOne.Cluster.Protocol;

namespace ForgeOne.Edge.Auth;

/// <summary>
/// Who an HTTP request runs as, once its credential was checked: the principal every command
/// of the request carries (the shard authorizes and audits against it), how it authenticated,
/// and the id of the credential (API key id or JWT subject) for rate limiting and logs.
/// </summary>
public sealed record EdgePrincipal(Caller Caller, string Method, string CredentialId)
{
    /// <summary>Authenticated with an API key.</summary>
    public const string ApiKeyMethod = "api-key";

    /// <summary>Authenticated with a JWT bearer token.</summary>
    public const string JwtMethod = "jwt";
}
