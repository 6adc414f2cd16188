namespace ForgeOne.Edge.Auth;

/// <summary>
/// API keys checked by this node's issuer against the cluster's API-key store
/// (<see cref="Cluster.Security.ApiKeyAuthenticator"/>: salted hash compared here, short cache that
/// a revocation ends), answered with a principal token that lives no longer than the key.
/// </summary>
public sealed class StoreKeyVerifier(EdgeCluster cluster) : IApiKeyVerifier
{
    /// <inheritdoc />
    public async ValueTask<EdgePrincipal> VerifyAsync(string key, CancellationToken cancellationToken)
    {
        var issuer = cluster.Require().ApiKeys
            ?? throw new Common.ForgeOneException(Common.ErrorCodes.Unavailable, "This node holds no cluster authentication key and cannot check API keys.");
        var authenticated = await issuer.AuthenticateAsync(key, cancellationToken).ConfigureAwait(false);
        return new EdgePrincipal(authenticated.Principal, EdgePrincipal.ApiKeyMethod, authenticated.CredentialId) { Token = issuer.Issue(authenticated).Token };
    }
}
