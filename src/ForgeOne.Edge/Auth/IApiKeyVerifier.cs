namespace ForgeOne.Edge.Auth;

/// <summary>
/// Turns a presented API key into the principal it stands for, or refuses it with
/// <c>auth.unauthenticated</c>. The one seam between the edge and the cluster's API-key store.
/// </summary>
public interface IApiKeyVerifier
{
    /// <summary>The principal of <paramref name="key"/>; throws <c>ForgeOneException(auth.unauthenticated)</c> for an unknown, revoked or expired key.</summary>
    ValueTask<EdgePrincipal> VerifyAsync(string key, CancellationToken cancellationToken);
}
