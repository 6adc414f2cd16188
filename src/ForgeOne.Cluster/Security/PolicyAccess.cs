using ForgeOne.Cluster.Protocol;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Security;

/// <summary><see cref="IAccessPolicy"/> over the security library's <see cref="PolicyEngine"/>.</summary>
public sealed class PolicyAccess : IAccessPolicy
{
    private volatile PolicyEngine _engine;

    /// <summary>Decides with <paramref name="policy"/> (the default policy when null).</summary>
    public PolicyAccess(Policy? policy = null)
    {
        _engine = new PolicyEngine(policy ?? DefaultPolicy.Policy);
    }

    /// <summary>The policy in force.</summary>
    public Policy Policy => _engine.Policy;

    /// <summary>Swaps in a new policy (immutable value; in-flight decisions finish on the old one).</summary>
    public void Replace(Policy policy) => _engine = new PolicyEngine(policy);

    /// <inheritdoc />
    public AccessDecision Authorize(Caller caller, string permission, ShardResource resource)
    {
        var principal = new Principal(
            caller.Id,
            new HashSet<string>(caller.Roles ?? [], StringComparer.Ordinal),
            new PrincipalAttributes(caller.Tenant, new HashSet<string>(caller.Regions ?? [], StringComparer.Ordinal), caller.Clearance));
        var decision = _engine.Authorize(principal, permission, new ResourceDescriptor(resource.Kind, resource.Tenant, resource.Topic, resource.Region, resource.Classification));
        return new AccessDecision(decision.Allowed, decision.Reason) { ReadableFields = decision.ReadableFields };
    }
}
