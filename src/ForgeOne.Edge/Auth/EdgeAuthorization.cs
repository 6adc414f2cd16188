using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Edge.Auth;

/// <summary>
/// Authorization of what the edge serves without a shard deciding: cluster membership and
/// placement (read from this node's view), and requests to the singletons (seals, key rotation).
/// Everything that reaches a shard is authorized there, against the same principal; this only
/// guards what no shard sees, with the same policy engine and permission names.
/// </summary>
public sealed class EdgeAuthorization(PolicyAccess policy)
{
    /// <summary>Throws <c>auth.forbidden</c> unless <paramref name="principal"/> holds <paramref name="permission"/> cluster-wide.</summary>
    public void Require(Principal principal, string permission, string kind)
    {
        var decision = policy.Authorize(principal, permission, new ResourceDescriptor(kind));
        if (!decision.Allowed)
        {
            throw new ForgeOneException(ErrorCodes.Forbidden, $"{permission} is required: {decision.Reason}");
        }
    }
}
