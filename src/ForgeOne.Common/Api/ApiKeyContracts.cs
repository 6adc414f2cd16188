namespace ForgeOne.Common.Api;

// Shapes of /v1/api-keys. Same conventions as ApiContracts.cs.

/// <summary>
/// A new API key (<c>POST /v1/api-keys</c>). <paramref name="Tenant"/> null: a cluster-level
/// principal; <paramref name="Regions"/> null: every region the creator holds (<c>*</c> for an
/// admin); <paramref name="Clearance"/> null: 0; <paramref name="ExpiresAt"/> null: until revoked.
/// </summary>
public sealed record ApiKeyInput(string Name, string[] Roles, string? Tenant = null, string[]? Regions = null, int? Clearance = null, DateTimeOffset? ExpiresAt = null);

/// <summary>An API key as listed: never its secret.</summary>
public sealed record ApiKeyView(
    string Id,
    string Name,
    string[] Roles,
    string? Tenant,
    string[] Regions,
    int Clearance,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy,
    string? RevokeReason,
    string Status);

/// <summary>
/// A key was created. <paramref name="Key"/> is the whole secret key (<c>fo_live_&lt;id&gt;_&lt;secret&gt;</c>):
/// shown in this answer only, stored nowhere (the store keeps a salted hash).
/// </summary>
public sealed record ApiKeyCreatedView(string Key, ApiKeyView ApiKey);

/// <summary>Every key the caller administers.</summary>
public sealed record ApiKeyListView(ApiKeyView[] Keys);

/// <summary>
/// A key was revoked (<paramref name="Changed"/>: by this request; false when it already was).
/// <paramref name="Replicated"/>: every reachable node confirmed it refuses the key's tokens; false:
/// gossip completes it, within a token lifetime at the latest.
/// </summary>
public sealed record ApiKeyRevokedView(ApiKeyView ApiKey, bool Changed, bool Replicated);
