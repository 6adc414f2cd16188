using ForgeOne.Security;

namespace ForgeOne.Cluster.Security;

/// <summary>
/// The policy in force on a node: a <see cref="PolicyEngine"/> over an immutable
/// <see cref="Policy"/>, swapped whole when the policy changes. Shared by the node's shards and
/// singletons. Thread-safe.
/// </summary>
public sealed class PolicyAccess
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

    /// <summary>May <paramref name="principal"/> do <paramref name="permission"/> on <paramref name="resource"/>?</summary>
    public AuthorizationDecision Authorize(Principal principal, string permission, ResourceDescriptor resource) =>
        _engine.Authorize(principal, permission, resource);

    /// <summary>May <paramref name="granter"/> give <paramref name="role"/> to a new principal of <paramref name="tenant"/>?</summary>
    public AuthorizationDecision CanGrant(Principal granter, string role, string? tenant) => _engine.CanGrant(granter, role, tenant);
}
