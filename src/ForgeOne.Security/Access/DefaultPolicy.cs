namespace ForgeOne.Security;

/// <summary>
/// The policy a new cluster starts with (version 1). Roles:
/// <list type="bullet">
/// <item><c>admin</c>: everything, any tenant, reads every field, may grant every role.</item>
/// <item><c>operator</c>: runs the cluster (system, keys, backups, audit read) and may see records of any tenant, but no sensitive field.</item>
/// <item><c>writer</c>: writes logs, events and blobs of its own tenant.</item>
/// <item><c>reader</c>: reads logs, events and blobs of its own tenant, every field.</item>
/// <item><c>auditor</c>: reads and exports the audit trail, reads records of any tenant with sensitive fields redacted.</item>
/// <item><c>node</c>: the cluster's own nodes (singletons, sweeps, start-up checks): cluster housekeeping, key rotation,
/// shard backups, reading audit heads and recording singleton decisions; no data permission and no field. No role grants it: only a
/// node holding the cluster authentication key can mint a token with it.</item>
/// </list>
/// All roles enforce residency; classification &lt;= clearance is always enforced.
/// </summary>
public static class DefaultPolicy
{
    /// <summary>The JSON document (what an operator edits and versions).</summary>
    public const string Json = """
        {
          "format": "forgeone.policy/v1",
          "version": 1,
          "roles": {
            "admin": {
              "permissions": ["*"],
              "tenant": "any",
              "residency": true,
              "readableFields": ["*"],
              "grants": ["admin", "operator", "writer", "reader", "auditor"]
            },
            "operator": {
              "permissions": ["system:*", "keys:admin", "backup:admin", "audit:read", "logs:read", "events:read", "blobs:read"],
              "tenant": "any",
              "residency": true,
              "readableFields": []
            },
            "writer": {
              "permissions": ["logs:write", "events:write", "blobs:write", "blobs:delete"],
              "tenant": "own",
              "residency": true,
              "readableFields": []
            },
            "reader": {
              "permissions": ["logs:read", "events:read", "blobs:read"],
              "tenant": "own",
              "residency": true,
              "readableFields": ["*"]
            },
            "auditor": {
              "permissions": ["audit:read", "audit:export", "system:read", "logs:read", "events:read", "blobs:read"],
              "tenant": "any",
              "residency": true,
              "readableFields": []
            },
            "node": {
              "permissions": ["system:*", "keys:admin", "backup:admin", "audit:read", "audit:write", "residency:admin", "apikey:bootstrap", "apikey:verify"],
              "tenant": "any",
              "residency": true,
              "readableFields": []
            }
          }
        }
        """;

    /// <summary>The parsed default policy.</summary>
    public static Policy Policy { get; } = Policy.Parse(Json);
}
