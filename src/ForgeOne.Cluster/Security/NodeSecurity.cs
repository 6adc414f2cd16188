using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Security;

/// <summary>Where a sender gets the principal token for its next request.</summary>
public interface IPrincipalTokenSource
{
    /// <summary>The token to send now (a renewing source keeps it valid).</summary>
    PrincipalToken Current { get; }
}

/// <summary>One token, as given (a request handled on behalf of one caller, tests).</summary>
/// <param name="Current">The token.</param>
public sealed record FixedTokenSource(PrincipalToken Current) : IPrincipalTokenSource;

/// <summary>
/// What one node needs to prove, check and authorize principals: the cluster authentication key,
/// an issuer, the verifier every shard and singleton of the node shares (one token cache, one
/// view of revoked credentials), the policy in force, and the node's own identity.
/// </summary>
public sealed class NodeSecurity
{
    /// <summary>Role of the cluster's own nodes in the policy.</summary>
    public const string NodeRole = "node";

    /// <summary>Prefix of every node principal id and credential id.</summary>
    public const string NodePrefix = "node:";

    /// <summary>The security state of a node named <paramref name="nodeName"/> (its address).</summary>
    /// <param name="keys">The cluster authentication key.</param>
    /// <param name="time">The clock.</param>
    /// <param name="nodeName">The node's address (its principal is <c>node:{nodeName}</c>).</param>
    /// <param name="policy">The policy in force (default policy when null).</param>
    /// <param name="verifyTokens">False only in benchmarks that measure what the proof check costs (<see cref="TokenVerifier.Enabled"/>).</param>
    /// <param name="tokenLifetime">Lifetime of the tokens this node issues (default <see cref="TokenIssuer.DefaultLifetime"/>).</param>
    public NodeSecurity(AuthenticationKeyring keys, TimeProvider time, string nodeName, PolicyAccess? policy = null, bool verifyTokens = true, TimeSpan? tokenLifetime = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeName);
        Keys = keys ?? throw new ArgumentNullException(nameof(keys));
        Policy = policy ?? new PolicyAccess();
        Issuer = new TokenIssuer(keys, time, tokenLifetime);
        Verifier = new TokenVerifier(keys, time) { Enabled = verifyTokens };
        Identity = new NodeIdentity(Issuer, Principal.Of(NodePrefix + nodeName, [NodeRole], null, ["*"], 0), time);
    }

    /// <summary>The cluster authentication key.</summary>
    public AuthenticationKeyring Keys { get; }

    /// <summary>Mints tokens (for principals whose credential was checked).</summary>
    public TokenIssuer Issuer { get; }

    /// <summary>Checks tokens.</summary>
    public TokenVerifier Verifier { get; }

    /// <summary>This node's own principal, for singletons, sweeps and start-up requests.</summary>
    public NodeIdentity Identity { get; }

    /// <summary>The policy in force.</summary>
    public PolicyAccess Policy { get; }

    /// <summary>Credentials revoked cluster-wide, as this node has heard of them.</summary>
    public RevokedCredentials Revoked => Verifier.Revoked;

    /// <summary>
    /// A token for a principal whose credential <paramref name="credentialId"/> was checked
    /// outside the cluster's own store (the edge, after a JWT). Refused for a principal that
    /// would pass for a node (the node role, a <c>node:</c> id or credential): only a node's own
    /// identity carries those.
    /// </summary>
    public (PrincipalToken Token, TokenClaims Claims) IssueFor(Principal principal, string credentialId, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentException.ThrowIfNullOrEmpty(credentialId);
        if (principal.Roles.Contains(NodeRole) || principal.Id.StartsWith(NodePrefix, StringComparison.Ordinal) || credentialId.StartsWith(NodePrefix, StringComparison.Ordinal))
        {
            throw new ForgeOneException(ErrorCodes.Forbidden, $"The '{NodeRole}' role and '{NodePrefix}' principals belong to the cluster's own nodes; no credential can claim them.");
        }

        return Issuer.Issue(principal, credentialId, lifetime);
    }
}

/// <summary>
/// A node's own principal (<c>node:{address}</c>, role <see cref="NodeSecurity.NodeRole"/>),
/// proven like any other: a short-lived token minted with the cluster authentication key and
/// renewed when less than a third of its life is left. Internal senders use it; there is no
/// unsigned "system" principal. Thread-safe.
/// </summary>
public sealed class NodeIdentity : IPrincipalTokenSource
{
    private readonly TokenIssuer _issuer;
    private readonly TimeProvider _time;
    private volatile Issued _current;

    /// <summary>An identity for <paramref name="principal"/>.</summary>
    public NodeIdentity(TokenIssuer issuer, Principal principal, TimeProvider time)
    {
        _issuer = issuer;
        _time = time;
        Principal = principal;
        _current = Mint();
    }

    /// <summary>The node's principal.</summary>
    public Principal Principal { get; }

    /// <inheritdoc />
    public PrincipalToken Current
    {
        get
        {
            var current = _current;
            var left = current.Claims.ExpiresAt - _time.GetUtcNow();
            if (left < (current.Claims.ExpiresAt - current.Claims.IssuedAt) / 3)
            {
                // Racing renewals mint two valid tokens; either is fine.
                _current = current = Mint();
            }

            return current.Token;
        }
    }

    private Issued Mint()
    {
        var (token, claims) = _issuer.Issue(Principal, Principal.Id);
        return new Issued(token, claims);
    }

    private sealed record Issued(PrincipalToken Token, TokenClaims Claims);
}
