using System.Security.Cryptography;
using System.Text;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Edge.Auth;

/// <summary>
/// The API-key check while the cluster knows one key only: the bootstrap admin key, whose
/// SHA-256 the system shard holds. A key is accepted when the system shard confirms its hash;
/// confirmations are cached for <see cref="CacheFor"/> so the system shard does not see every
/// request. Everything else is refused.
/// </summary>
public sealed class BootstrapKeyVerifier : IApiKeyVerifier
{
    /// <summary>How long a confirmed key is trusted without asking again.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    /// <summary>The principal the bootstrap key authenticates as.</summary>
    public static readonly Principal BootstrapAdmin = Principal.Of("bootstrap-admin", ["admin"], null, ["*"], int.MaxValue);

    private readonly EdgeCluster _cluster;
    private readonly TimeProvider _time;
    private readonly BoundedCache<string, EdgePrincipal> _confirmed;

    /// <summary>Verifies through <paramref name="cluster"/>'s system shard.</summary>
    public BootstrapKeyVerifier(EdgeCluster cluster, TimeProvider time)
    {
        _cluster = cluster;
        _time = time;
        _confirmed = new BoundedCache<string, EdgePrincipal>(1024, CacheFor, time);
    }

    /// <inheritdoc />
    public async ValueTask<EdgePrincipal> VerifyAsync(string key, CancellationToken cancellationToken)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var cacheKey = Convert.ToHexString(hash);
        if (_confirmed.TryGet(cacheKey, out var known))
        {
            return known;
        }

        var verified = await _cluster.AskAsync<SystemProtocol.BootstrapKeyVerified>(new SystemProtocol.VerifyBootstrapKey(_cluster.Require().Tokens.Current, hash), cancellationToken).ConfigureAwait(false);
        if (!verified.Valid)
        {
            throw new ForgeOneException(ErrorCodes.Unauthenticated, "The API key is not valid.");
        }

        var principal = new EdgePrincipal(BootstrapAdmin, EdgePrincipal.ApiKeyMethod, "bootstrap");
        _confirmed.Set(cacheKey, principal);
        return principal;
    }
}
