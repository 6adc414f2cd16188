namespace ForgeOne.Security;

/// <summary>
/// RBAC + ABAC decisions over an immutable <see cref="Policy"/>. Deny by default: a request is
/// allowed only when some role of the principal grants the permission and all of that role's
/// conditions hold. Conditions, in order: resource kind matches the permission area (data
/// kinds), tenant, topic prefix, residency, classification &lt;= clearance. Pure and thread-safe;
/// a policy change makes a new engine.
/// </summary>
public sealed class PolicyEngine
{
    private static readonly HashSet<string> DataKinds = new(StringComparer.Ordinal) { "logs", "events", "blobs" };

    /// <summary>Decides with <paramref name="policy"/>.</summary>
    public PolicyEngine(Policy policy)
    {
        Policy = policy ?? throw new ArgumentNullException(nameof(policy));
    }

    /// <summary>The policy in force.</summary>
    public Policy Policy { get; }

    /// <summary>May <paramref name="principal"/> do <paramref name="permission"/> on <paramref name="resource"/>?</summary>
    public AuthorizationDecision Authorize(Principal principal, string permission, ResourceDescriptor resource)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(resource);
        if (permission is null || !Permissions.IsConcrete(permission))
        {
            return Deny($"'{permission}' is not a concrete permission");
        }

        var area = permission[..permission.IndexOf(':')];
        if (DataKinds.Contains(area) && resource.Kind != area)
        {
            return Deny($"permission {permission} does not apply to a {resource.Kind} resource");
        }

        var roles = principal.Roles.Where(Policy.Roles.ContainsKey).Order(StringComparer.Ordinal).ToList();
        if (roles.Count == 0)
        {
            return Deny($"principal {principal.Id} holds no role defined in policy v{Policy.Version}");
        }

        var allowedBy = new List<string>();
        var fields = new HashSet<FieldClass>();
        string? firstFailure = null;
        foreach (var name in roles)
        {
            var role = Policy.Roles[name];
            if (!role.Permissions.Any(p => Permissions.Matches(p, permission)))
            {
                continue;
            }

            var failure = CheckConditions(role, principal, resource);
            if (failure is null)
            {
                allowedBy.Add(name);
                fields.UnionWith(role.ReadableFields);
            }
            else
            {
                firstFailure ??= $"role {name} grants {permission} but {failure}";
            }
        }

        if (allowedBy.Count > 0)
        {
            return new AuthorizationDecision(true, $"{permission} on {Describe(resource)} allowed by role {string.Join(", ", allowedBy)} (policy v{Policy.Version})", fields)
            {
                PolicyHash = Policy.Hash,
            };
        }

        return Deny(firstFailure ?? $"no role of principal {principal.Id} ({string.Join(", ", roles)}) grants {permission}");
    }

    /// <summary>
    /// May <paramref name="granter"/> give <paramref name="role"/> to <paramref name="grantee"/> (role
    /// assignment or API key creation)? Refused when: the role is unknown; granter and grantee are the
    /// same principal (no self-grant); the granter lacks <c>policy:admin</c> and <c>apikey:admin</c> for
    /// the grantee's tenant; the granter neither holds the role nor holds a role that lists it in
    /// <c>grants</c>; or the granter is tenant-bound and the grantee belongs to another tenant.
    /// </summary>
    public AuthorizationDecision CanGrant(Principal granter, Principal grantee, string role)
    {
        ArgumentNullException.ThrowIfNull(granter);
        ArgumentNullException.ThrowIfNull(grantee);
        if (role is null || !Policy.Roles.ContainsKey(role))
        {
            return Deny($"role '{role}' is not defined in policy v{Policy.Version}");
        }

        if (granter.Id == grantee.Id)
        {
            return Deny($"principal {granter.Id} cannot grant a role to itself");
        }

        var granterTenant = granter.Tenant;
        if (granterTenant is not null && granterTenant != grantee.Tenant)
        {
            return Deny($"principal {granter.Id} of tenant {granterTenant} cannot act for tenant {grantee.Tenant ?? "(none)"}");
        }

        var target = new ResourceDescriptor("policy", grantee.Tenant);
        var admin = Authorize(granter, Permissions.PolicyAdmin, target);
        if (!admin.Allowed)
        {
            admin = Authorize(granter, Permissions.ApiKeyAdmin, target with { Kind = "apikey" });
        }

        if (!admin.Allowed)
        {
            return Deny($"principal {granter.Id} may not grant roles: {admin.Reason}");
        }

        var held = granter.Roles.Where(Policy.Roles.ContainsKey).ToList();
        if (!held.Contains(role) && !held.Any(r => Policy.Roles[r].Grants.Contains(role)))
        {
            return Deny($"principal {granter.Id} neither holds role {role} nor administers it (no escalation beyond one's own roles)");
        }

        return new AuthorizationDecision(true, $"{granter.Id} may grant role {role} to {grantee.Id} (policy v{Policy.Version})", FieldClasses.None)
        {
            PolicyHash = Policy.Hash,
        };
    }

    /// <summary>
    /// May <paramref name="granter"/> grant <paramref name="role"/> to a new principal of
    /// <paramref name="targetTenant"/> (default: the granter's own tenant), e.g. when minting an API key?
    /// Same rules as the three-argument form, minus the self-grant check (there is no grantee yet).
    /// </summary>
    public AuthorizationDecision CanGrant(Principal granter, string role, string? targetTenant = null)
    {
        ArgumentNullException.ThrowIfNull(granter);
        var placeholder = new Principal("(new principal)", new HashSet<string>(), targetTenant ?? granter.Tenant, new HashSet<string>(), 0);
        return CanGrant(granter, placeholder, role);
    }

    private static string? CheckConditions(RolePolicy role, Principal principal, ResourceDescriptor resource)
    {
        var tenant = principal.Tenant;
        if (role.Tenant == TenantScope.Own && (tenant is null || !string.Equals(resource.Tenant, tenant, StringComparison.Ordinal)))
        {
            // The resource's owner decides, never the request: a tenant-scoped role reaches only
            // resources its own tenant owns, and a cluster-wide (tenant-less) resource only
            // through a role with tenant "any".
            return tenant is null
                ? $"the role is tenant-scoped and principal {principal.Id} has no tenant (resource tenant {resource.Tenant ?? "(none)"})"
                : resource.Tenant is null
                    ? $"the role is tenant-scoped and the {resource.Kind} resource belongs to no tenant (cluster-wide resources need a role with tenant \"any\")"
                    : $"tenant mismatch: principal tenant {tenant}, resource tenant {resource.Tenant}";
        }

        if (role.TopicPrefixes.Count > 0 && (resource.Topic is not null || resource.Kind is "logs" or "events"))
        {
            if (resource.Topic is null)
            {
                return "the role is limited to topic prefixes and the request names no topic";
            }

            var prefixes = role.TopicPrefixes
                .Where(p => tenant is not null || !p.Contains("{tenant}", StringComparison.Ordinal))
                .Select(p => p.Replace("{tenant}", tenant, StringComparison.Ordinal));
            if (!prefixes.Any(p => resource.Topic.StartsWith(p, StringComparison.Ordinal)))
            {
                return $"topic '{resource.Topic}' is outside the allowed prefixes ({string.Join(", ", role.TopicPrefixes)})";
            }
        }

        if (role.Residency && resource.ResidencyZone is not null
            && !principal.Regions.Contains(resource.ResidencyZone) && !principal.Regions.Contains("*"))
        {
            return $"residency mismatch: data in zone {resource.ResidencyZone}, principal regions [{string.Join(", ", principal.Regions.Order(StringComparer.Ordinal))}]";
        }

        if (resource.Classification > principal.Clearance)
        {
            return $"classification {resource.Classification} exceeds clearance {principal.Clearance}";
        }

        return null;
    }

    private static string Describe(ResourceDescriptor r) =>
        r.Kind + (r.Tenant is null ? string.Empty : $" tenant {r.Tenant}") + (r.Topic is null ? string.Empty : $" topic {r.Topic}") + (r.ResidencyZone is null ? string.Empty : $" zone {r.ResidencyZone}");

    private AuthorizationDecision Deny(string reason) => new(false, "denied: " + reason, FieldClasses.None) { PolicyHash = Policy.Hash };
}
