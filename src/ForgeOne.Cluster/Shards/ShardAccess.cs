using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// The one authorization step of every shard handler: the permission an operation needs comes
/// from <see cref="MessagePermissions"/>, the decision from the shard's policy, for the verified
/// principal and a resource the handler describes from what the shard knows (never from what the
/// request claims about ownership).
/// </summary>
public static class ShardAccess
{
    /// <summary>
    /// Admits <paramref name="operation"/> when <paramref name="validation"/> found nothing and the
    /// policy lets <paramref name="principal"/> do what the operation needs on <paramref name="resource"/>.
    /// </summary>
    public static Admission Admit(ShardContext context, Principal principal, IShardOperation operation, ResourceDescriptor resource, string action, string auditResource, string detail = "", ForgeOneError? validation = null)
    {
        if (validation is not null)
        {
            return Admission.Reject(action, auditResource, validation);
        }

        var decision = Decide(context, principal, operation, resource);
        return decision.Allowed ? Admission.Allow(action, auditResource, detail) : Admission.Deny(action, auditResource, decision.Reason);
    }

    /// <summary>The policy's decision for what <paramref name="operation"/> needs on <paramref name="resource"/>.</summary>
    public static AuthorizationDecision Decide(ShardContext context, Principal principal, IShardOperation operation, ResourceDescriptor resource) =>
        MessagePermissions.Of(operation) switch
        {
            MessageAccess.Permission p => context.Security.Authorize(principal, p.Name, resource),
            MessageAccess.AnyPrincipal => new AuthorizationDecision(true, $"{operation.GetType().Name} is open to every authenticated principal", FieldClasses.None),
            var other => new AuthorizationDecision(false, $"denied: {operation.GetType().Name} is not accepted by shards ({other.GetType().Name})", FieldClasses.None),
        };

    /// <summary>
    /// The decision for <paramref name="permission"/> on a resource only known once stored state
    /// is read (Apply / Read); throws <c>auth.forbidden</c> when denied, which the shard actor
    /// audits as a denial and nothing is written.
    /// </summary>
    public static AuthorizationDecision Require(ShardContext context, Principal principal, string permission, ResourceDescriptor resource)
    {
        var decision = context.Security.Authorize(principal, permission, resource);
        return decision.Allowed ? decision : throw new ForgeOneException(ErrorCodes.Forbidden, decision.Reason);
    }
}
