using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Who an operation runs as: a stable id, roles from the policy, and the attributes conditions
/// check. This is the one principal type of the system. It is never taken from a request as
/// the sender states it: a shard or singleton gets it only from a verified
/// <see cref="PrincipalToken"/> (see <see cref="TokenVerifier"/>).
/// </summary>
/// <param name="Id">Stable principal id (API key id, user, service, node), audited.</param>
/// <param name="Roles">Role names from the policy.</param>
/// <param name="Tenant">The tenant it acts for; null for cluster-level principals (admins, operators, nodes).</param>
/// <param name="Regions">Residency regions it may touch (e.g. <c>eu</c>); <c>*</c> for all.</param>
/// <param name="Clearance">Highest data classification it may touch (0 = public).</param>
public sealed record Principal(string Id, IReadOnlySet<string> Roles, string? Tenant, IReadOnlySet<string> Regions, int Clearance)
{
    /// <summary>A principal from plain lists.</summary>
    public static Principal Of(string id, IEnumerable<string> roles, string? tenant, IEnumerable<string> regions, int clearance) =>
        new(id, roles.ToHashSet(StringComparer.Ordinal), tenant, regions.ToHashSet(StringComparer.Ordinal), clearance);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Id}[{string.Join(',', Roles.Order(StringComparer.Ordinal))}]{(Tenant is null ? string.Empty : "@" + Tenant)}";
}

/// <summary>What an operation touches.</summary>
/// <param name="Kind">Resource kind: <c>logs</c>, <c>events</c>, <c>blobs</c>, <c>system</c>, <c>keys</c>, <c>backup</c>, <c>audit</c>, <c>policy</c>, <c>apikey</c>.</param>
/// <param name="Tenant">The tenant that owns the resource (fixed when it was created); null for a cluster-wide, tenant-less resource.</param>
/// <param name="Topic">Topic (logs, events), if any.</param>
/// <param name="ResidencyZone">Residency zone of the data (e.g. <c>eu</c>), if any.</param>
/// <param name="Classification">Data classification (0 = public).</param>
public sealed record ResourceDescriptor(string Kind, string? Tenant = null, string? Topic = null, string? ResidencyZone = null, int Classification = 0);

/// <summary>The answer of the policy engine. Every decision, allowed or not, carries a reason to audit.</summary>
/// <param name="Allowed">True when allowed.</param>
/// <param name="Reason">Why (roles that allowed it, or the condition that failed).</param>
/// <param name="ReadableFields">Field classes the principal may read in this resource (empty when denied).</param>
public sealed record AuthorizationDecision(bool Allowed, string Reason, IReadOnlySet<FieldClass> ReadableFields)
{
    /// <summary>Hash of the policy that decided (hex), for the audit record.</summary>
    public string PolicyHash { get; init; } = string.Empty;

    /// <summary>Throws <c>auth.forbidden</c> with the reason when denied.</summary>
    public void ThrowIfDenied()
    {
        if (!Allowed)
        {
            throw new ForgeOneException(ErrorCodes.Forbidden, Reason);
        }
    }
}

/// <summary>Permission strings: <c>area:action</c>, with <c>area:*</c> and <c>*</c> as wildcards in policies.</summary>
public static class Permissions
{
#pragma warning disable CS1591 // the names say it
    public const string LogsRead = "logs:read";
    public const string LogsWrite = "logs:write";
    public const string EventsRead = "events:read";
    public const string EventsWrite = "events:write";
    public const string EventsAdmin = "events:admin";
    public const string LogsAdmin = "logs:admin";
    public const string BlobsRead = "blobs:read";
    public const string BlobsWrite = "blobs:write";
    public const string BlobsDelete = "blobs:delete";
    public const string SystemRead = "system:read";
    public const string SystemWrite = "system:write";
    public const string KeysAdmin = "keys:admin";
    public const string BackupAdmin = "backup:admin";
    public const string AuditRead = "audit:read";
    public const string AuditExport = "audit:export";
    public const string AuditWrite = "audit:write";
    public const string PolicyAdmin = "policy:admin";
    public const string ApiKeyAdmin = "apikey:admin";
    public const string ApiKeyBootstrap = "apikey:bootstrap";
    public const string ApiKeyVerify = "apikey:verify";
    public const string ResidencyAdmin = "residency:admin";
#pragma warning restore CS1591

    /// <summary>Areas a permission may name.</summary>
    public static IReadOnlySet<string> Areas { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "logs", "events", "blobs", "system", "keys", "backup", "audit", "policy", "apikey", "residency",
    };

    /// <summary>True for a concrete permission (<c>area:action</c>, known area, action in [a-z_]).</summary>
    public static bool IsConcrete(string permission) =>
        Split(permission, out var area, out var action) && Areas.Contains(area) && action != "*";

    /// <summary>True for a valid policy pattern: a concrete permission, <c>area:*</c> or <c>*</c>.</summary>
    public static bool IsPattern(string pattern) =>
        pattern == "*" || (Split(pattern, out var area, out _) && Areas.Contains(area));

    /// <summary>True when <paramref name="pattern"/> covers <paramref name="permission"/>.</summary>
    public static bool Matches(string pattern, string permission)
    {
        if (pattern == "*")
        {
            return true;
        }

        return pattern.EndsWith(":*", StringComparison.Ordinal)
            ? permission.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            : string.Equals(pattern, permission, StringComparison.Ordinal);
    }

    private static bool Split(string value, out string area, out string action)
    {
        area = action = string.Empty;
        var colon = value?.IndexOf(':') ?? -1;
        if (colon <= 0 || colon == value!.Length - 1)
        {
            return false;
        }

        area = value[..colon];
        action = value[(colon + 1)..];
        return action == "*" || action.All(c => c is (>= 'a' and <= 'z') or '_');
    }
}
