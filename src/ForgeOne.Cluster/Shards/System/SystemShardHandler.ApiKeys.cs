using System.Security.Cryptography;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Shards.System;

/// <summary>
/// The API-key store: <c>api_keys</c>, key id (UTF-8) -> Encrypt(<see cref="ApiKeyRecord"/>).
/// Only salted hashes are stored; creating a key is a grant (the creator may give only roles it
/// may grant, regions it holds and clearance up to its own), revoking one keeps the record.
/// Every change is one audit record in the same transaction, naming the key id, never its hash.
/// </summary>
public sealed partial class SystemShardHandler
{
    /// <summary>Longest key name.</summary>
    public const int MaxApiKeyName = 100;

    /// <summary>Most roles or regions on one key.</summary>
    public const int MaxApiKeyList = 16;

    private static readonly string[] BootstrapRoles = ["admin"];

    private static Admission? AdmitApiKeys(Protocol.IShardOperation operation, Principal principal, ShardContext context)
    {
        var resource = context.ResourcePrefix + "/api_keys";
        switch (operation)
        {
            case RegisterBootstrapKey k:
                return ShardAccess.Admit(context, principal, k, new ResourceDescriptor("apikey"), "apikey.bootstrap", $"{resource}/{ApiKeySecret.BootstrapId}",
                    validation: k.Salt is { Length: ApiKeySecret.SaltLength } && k.Hash is { Length: ApiKeySecret.HashLength } && k.LegacySha256 is { Length: 32 }
                        ? null : Invalid($"A bootstrap registration carries a {ApiKeySecret.SaltLength}-byte salt, a {ApiKeySecret.HashLength}-byte hash and a 32-byte SHA-256."));

            case CreateApiKey c:
                {
                    var action = "apikey.create";
                    var keyResource = $"{resource}/{Printable(c.Id, 64)}";
                    // Null only from a malformed message, which validation refuses.
                    string[] roles = c.Roles ?? [], regions = c.Regions ?? [];
                    var detail = $"name={Printable(c.Name, MaxApiKeyName)} roles={Printable(string.Join(',', roles), 512)} tenant={Printable(c.Tenant ?? "(none)", 256)} regions={Printable(string.Join(',', regions), 512)} clearance={c.Clearance} expires={c.ExpiresAt?.ToString("O") ?? "never"}";
                    var admission = ShardAccess.Admit(context, principal, c, new ResourceDescriptor("apikey", c.Tenant), action, keyResource, detail, ValidateCreate(c, context.Time.GetUtcNow()));
                    if (!admission.Admitted)
                    {
                        return admission;
                    }

                    // A key is a grant: nobody mints a principal more powerful than themselves.
                    foreach (var role in roles)
                    {
                        var grant = context.Security.CanGrant(principal, role, c.Tenant);
                        if (!grant.Allowed)
                        {
                            return Admission.Deny(action, keyResource, grant.Reason);
                        }
                    }

                    if (!principal.Regions.Contains("*") && regions.Any(r => !principal.Regions.Contains(r)))
                    {
                        return Admission.Deny(action, keyResource, $"principal {principal.Id} cannot grant regions it does not hold ({string.Join(',', regions.Where(r => !principal.Regions.Contains(r)))})");
                    }

                    return c.Clearance > principal.Clearance
                        ? Admission.Deny(action, keyResource, $"principal {principal.Id} with clearance {principal.Clearance} cannot grant clearance {c.Clearance}")
                        : admission;
                }

            case ListApiKeys l:
                return ShardAccess.Admit(context, principal, l, new ResourceDescriptor("apikey", principal.Tenant), "apikey.list", resource);

            case RevokeApiKey r:
                return ShardAccess.Admit(context, principal, r, new ResourceDescriptor("apikey", principal.Tenant), "apikey.revoke", $"{resource}/{Printable(r.Id, 64)}", r.Reason is null ? "" : Printable(r.Reason, 512),
                    ValidateKeyId(r.Id) ?? (r.Reason is { Length: > 512 } ? Invalid("A reason is at most 512 characters.") : null));

            case GetApiKeyCredential g:
                return NodesOnly(ShardAccess.Admit(context, principal, g, new ResourceDescriptor("apikey"), "apikey.verify", $"{resource}/{Printable(g.Id, 64)}", validation: ValidateKeyId(g.Id)), principal);

            case GetRevokedApiKeys g:
                return NodesOnly(ShardAccess.Admit(context, principal, g, new ResourceDescriptor("apikey"), "apikey.revoked_list", resource), principal);

            default:
                return null;
        }
    }

    // Salts and hashes leave the shard only for the cluster's own nodes (whose role no credential can claim).
    private static Admission NodesOnly(Admission admission, Principal principal) =>
        !admission.Admitted || principal.Roles.Contains(NodeSecurity.NodeRole) ? admission
        : Admission.Deny(admission.Action, admission.Resource, $"{principal.Id} is not a cluster node: key hashes are read by node-local issuers only");

    private static object? ApplyApiKeys(IWriteTransaction txn, Protocol.IShardCommand command, Principal principal, ShardContext context)
    {
        switch (command)
        {
            case RegisterBootstrapKey k:
                {
                    var key = ApiKeyRecord.KeyOf(ApiKeySecret.BootstrapId);
                    if (txn.Get(Tables.ApiKeys, key) is not null)
                    {
                        // The cluster has its bootstrap key (a node that holds it checks that first).
                        return new BootstrapKeyRegistered(false);
                    }

                    var migrated = false;
                    if (Get(txn, BootstrapKeyKey, context) is { } legacy)
                    {
                        if (!CryptographicOperations.FixedTimeEquals(legacy, k.LegacySha256))
                        {
                            return new BootstrapKeyRegistered(false);
                        }

                        txn.Delete(Tables.Metadata, BootstrapKeyKey);
                        migrated = true;
                    }

                    var now = context.Time.GetUtcNow();
                    Put(txn, new ApiKeyRecord(ApiKeySecret.BootstrapId, "bootstrap admin key", BootstrapRoles, null, ["*"], int.MaxValue, now, principal.Id, null, null, null, null, k.Salt, k.Hash), context);
                    return new BootstrapKeyRegistered(true, migrated);
                }

            case CreateApiKey c:
                {
                    var key = ApiKeyRecord.KeyOf(c.Id);
                    if (txn.Get(Tables.ApiKeys, key) is not null)
                    {
                        throw new ForgeOneException(ErrorCodes.Conflict, $"An API key with id {c.Id} already exists.");
                    }

                    var record = new ApiKeyRecord(c.Id, c.Name, [.. c.Roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], c.Tenant,
                        [.. c.Regions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], c.Clearance, context.Time.GetUtcNow(), principal.Id, c.ExpiresAt, null, null, null, c.Salt, c.Hash);
                    Put(txn, record, context);
                    return new ApiKeyCreated(Info(record));
                }

            case RevokeApiKey r:
                {
                    var key = ApiKeyRecord.KeyOf(r.Id);
                    var record = txn.Get(Tables.ApiKeys, key) is { } value ? Decode(key, value, context)
                        : throw new ForgeOneException(ErrorCodes.NotFound, $"No API key with id {r.Id}.");
                    ShardAccess.Require(context, principal, Permissions.ApiKeyAdmin, new ResourceDescriptor("apikey", record.Tenant));
                    if (record.RevokedAt is not null)
                    {
                        return new ApiKeyRevoked(Info(record), false);
                    }

                    var revoked = record with { RevokedAt = context.Time.GetUtcNow(), RevokedBy = principal.Id, RevokeReason = r.Reason };
                    Put(txn, revoked, context);
                    return new ApiKeyRevoked(Info(revoked), true);
                }

            default:
                return null;
        }
    }

    private static object? ReadApiKeys(IReadTransaction txn, Protocol.IShardQuery query, Principal principal, ShardContext context)
    {
        switch (query)
        {
            case ListApiKeys:
                return new ApiKeyList([.. All(txn, context)
                    .Where(r => context.Security.Authorize(principal, Permissions.ApiKeyAdmin, new ResourceDescriptor("apikey", r.Tenant)).Allowed)
                    .Select(Info)]);

            case GetApiKeyCredential g:
                {
                    var key = ApiKeyRecord.KeyOf(g.Id);
                    return txn.Get(Tables.ApiKeys, key) is { } value && Decode(key, value, context) is var record
                        ? new ApiKeyCredential(Info(record), record.Salt, record.Hash)
                        : new SystemFailed(new ForgeOneError(ErrorCodes.NotFound, $"No API key with id {g.Id}."));
                }

            case GetRevokedApiKeys g:
                return new RevokedApiKeys([.. All(txn, context).Where(r => r.RevokedAt >= g.Since).Select(Info)]);

            default:
                return null;
        }
    }

    private static IEnumerable<ApiKeyRecord> All(IReadTransaction txn, ShardContext context) =>
        txn.Scan(Tables.ApiKeys, [0x00], [0xFF]).Select(kv => Decode(kv.Key, kv.Value, context));

    private static ApiKeyRecord Decode(byte[] key, byte[] value, ShardContext context) =>
        ApiKeyRecord.Decode(context.Security.Decrypt(Tables.ApiKeys, key, value));

    private static void Put(IWriteTransaction txn, ApiKeyRecord record, ShardContext context)
    {
        var key = ApiKeyRecord.KeyOf(record.Id);
        txn.Put(Tables.ApiKeys, key, context.Security.Encrypt(Tables.ApiKeys, key, record.Encode()));
    }

    private static ApiKeyInfo Info(ApiKeyRecord r) =>
        new(r.Id, r.Name, [.. r.Roles], r.Tenant, [.. r.Regions], r.Clearance, r.CreatedAt, r.CreatedBy, r.ExpiresAt, r.RevokedAt, r.RevokedBy, r.RevokeReason);

    private static ForgeOneError? ValidateKeyId(string? id) =>
        id is null || !ApiKeySecret.IsId(id) ? new ForgeOneError(ErrorCodes.InvalidId, $"An API key id is {ApiKeySecret.IdLength} lower-case hex characters (or '{ApiKeySecret.BootstrapId}').") : null;

    private static ForgeOneError? ValidateCreate(CreateApiKey c, DateTimeOffset now)
    {
        static bool Name(string? s, int max) => s is { Length: > 0 } && s.Length <= max && !s.Any(char.IsControl) && s.Trim().Length == s.Length;
        return c.Id is null || c.Id == ApiKeySecret.BootstrapId || ValidateKeyId(c.Id) is not null ? new ForgeOneError(ErrorCodes.InvalidId, $"A new API key id is {ApiKeySecret.IdLength} lower-case hex characters.")
            : !Name(c.Name, MaxApiKeyName) ? new ForgeOneError(ErrorCodes.InvalidName, $"A key name is 1..{MaxApiKeyName} characters, no control characters, no surrounding spaces.")
            : c.Roles is not { Length: > 0 and <= MaxApiKeyList } || c.Roles.Any(r => !Name(r, 64)) ? Invalid($"A key has 1..{MaxApiKeyList} roles.")
            : c.Roles.Contains(NodeSecurity.NodeRole) ? new ForgeOneError(ErrorCodes.Forbidden, $"The '{NodeSecurity.NodeRole}' role belongs to the cluster's own nodes; no key can hold it.")
            : c.Tenant is not null && !Name(c.Tenant, MaxResidencyName) ? new ForgeOneError(ErrorCodes.InvalidName, $"A tenant is 1..{MaxResidencyName} characters without control characters.")
            : c.Regions is not { Length: > 0 and <= MaxApiKeyList } || c.Regions.Any(r => !Name(r, 64)) ? Invalid($"A key has 1..{MaxApiKeyList} regions ('*' for all).")
            : c.Clearance < 0 ? Invalid("Clearance cannot be negative.")
            : c.ExpiresAt is { } expires && expires <= now ? Invalid($"The expiry {expires:O} is not in the future.")
            : c.Salt is not { Length: ApiKeySecret.SaltLength } || c.Hash is not { Length: ApiKeySecret.HashLength } ? Invalid($"A key carries a {ApiKeySecret.SaltLength}-byte salt and a {ApiKeySecret.HashLength}-byte hash.")
            : null;
    }
}
