using System.Security.Cryptography;
using System.Text.Json;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>Whose data a role may touch.</summary>
public enum TenantScope
{
    /// <summary>
    /// Only resources owned by the principal's own tenant: never a tenant-less (cluster-wide)
    /// resource, and nothing at all for a principal without a tenant.
    /// </summary>
    Own = 1,

    /// <summary>Any tenant (cluster-level roles).</summary>
    Any = 2,
}

/// <summary>One role: its permissions and the attribute conditions that apply when it is used.</summary>
/// <param name="Name">Role name.</param>
/// <param name="Permissions">Patterns (<c>logs:read</c>, <c>events:*</c>, <c>*</c>), sorted, distinct.</param>
/// <param name="Tenant">Tenant condition.</param>
/// <param name="TopicPrefixes">Allowed topic prefixes (empty = any topic); <c>{tenant}</c> is replaced by the principal's tenant.</param>
/// <param name="Residency">When true, a resource's residency zone must be one of the principal's regions.</param>
/// <param name="ReadableFields">Field classes this role may read.</param>
/// <param name="Grants">Roles a holder may grant to others (with <c>policy:admin</c> or <c>apikey:admin</c>), besides the roles it holds.</param>
public sealed record RolePolicy(
    string Name,
    IReadOnlyList<string> Permissions,
    TenantScope Tenant,
    IReadOnlyList<string> TopicPrefixes,
    bool Residency,
    IReadOnlySet<FieldClass> ReadableFields,
    IReadOnlyList<string> Grants);

/// <summary>
/// An immutable, validated policy document (JSON, docs/FORMATS.md "Policy"): a version and roles
/// with permissions and conditions. <see cref="Hash"/> is the SHA-256 of the canonical form, so
/// two documents that differ only in whitespace, key order or list order have the same hash,
/// and any change of meaning changes it. Classification (resource &lt;= principal clearance) is
/// always enforced and cannot be switched off by a policy.
/// </summary>
public sealed class Policy
{
    /// <summary>The <c>format</c> value this version reads.</summary>
    public const string FormatV1 = "forgeone.policy/v1";

    private static readonly string[] RoleProperties = ["permissions", "tenant", "topicPrefixes", "residency", "readableFields", "grants"];

    private Policy(long version, IReadOnlyDictionary<string, RolePolicy> roles)
    {
        Version = version;
        Roles = roles;
        CanonicalJson = Canonicalize(version, roles);
        Hash = Convert.ToHexStringLower(SHA256.HashData(CanonicalJson));
    }

    /// <summary>Policy revision (>= 1); a change makes a new version.</summary>
    public long Version { get; }

    /// <summary>Roles by name.</summary>
    public IReadOnlyDictionary<string, RolePolicy> Roles { get; }

    /// <summary>Canonical UTF-8 JSON (the hash input).</summary>
    public byte[] CanonicalJson { get; }

    /// <summary>SHA-256 of <see cref="CanonicalJson"/>, lower-case hex.</summary>
    public string Hash { get; }

    /// <summary>Builds a policy from roles (validated like a parsed document).</summary>
    public static Policy Create(long version, IEnumerable<RolePolicy> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var map = new SortedDictionary<string, RolePolicy>(StringComparer.Ordinal);
        foreach (var role in roles)
        {
            if (!map.TryAdd(role.Name, Normalize(role)))
            {
                throw Invalid($"role '{role.Name}' is defined twice");
            }
        }

        if (version < 1)
        {
            throw Invalid("version must be >= 1");
        }

        foreach (var role in map.Values)
        {
            foreach (var g in role.Grants)
            {
                if (!map.ContainsKey(g))
                {
                    throw Invalid($"role '{role.Name}' grants unknown role '{g}'");
                }
            }
        }

        return new Policy(version, map);
    }

    /// <summary>Parses and validates a JSON policy; errors are <c>auth.invalid_policy</c> naming the bad element.</summary>
    public static Policy Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw Invalid($"not valid JSON (line {e.LineNumber + 1})");
        }

        using (doc)
        {
            var root = doc.RootElement;
            RequireObject(root, "policy");
            Only(root, "policy", ["format", "version", "roles"]);
            var format = root.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (format != FormatV1)
            {
                throw Invalid($"\"format\" must be \"{FormatV1}\"");
            }

            if (!root.TryGetProperty("version", out var v) || !v.TryGetInt64(out var version))
            {
                throw Invalid("\"version\" must be an integer");
            }

            if (!root.TryGetProperty("roles", out var rolesElement))
            {
                throw Invalid("\"roles\" is missing");
            }

            RequireObject(rolesElement, "roles");
            var roles = new List<RolePolicy>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var role in rolesElement.EnumerateObject())
            {
                if (!seen.Add(role.Name))
                {
                    throw Invalid($"role '{role.Name}' is defined twice");
                }

                roles.Add(ParseRole(role.Name, role.Value));
            }

            return Create(version, roles);
        }
    }

    /// <summary>The role named <paramref name="name"/>, or null.</summary>
    public RolePolicy? Role(string name) => Roles.TryGetValue(name, out var r) ? r : null;

    /// <inheritdoc />
    public override string ToString() => $"policy v{Version} ({Roles.Count} roles, sha256 {Hash})";

    private static RolePolicy ParseRole(string name, JsonElement e)
    {
        var where = $"role '{name}'";
        RequireObject(e, where);
        Only(e, where, RoleProperties);
        var permissions = Strings(e, "permissions", where);
        var tenantText = e.TryGetProperty("tenant", out var t) ? t.ValueKind == JsonValueKind.String ? t.GetString() : null : "own";
        var tenant = tenantText switch
        {
            "own" => TenantScope.Own,
            "any" => TenantScope.Any,
            _ => throw Invalid($"{where}: \"tenant\" must be \"own\" or \"any\""),
        };
        var residency = true;
        if (e.TryGetProperty("residency", out var r))
        {
            residency = r.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Invalid($"{where}: \"residency\" must be true or false"),
            };
        }

        var fields = new HashSet<FieldClass>();
        foreach (var f in Strings(e, "readableFields", where))
        {
            if (f == "*")
            {
                fields.UnionWith(FieldClasses.All);
            }
            else if (FieldClasses.TryParse(f, out var c))
            {
                fields.Add(c);
            }
            else
            {
                throw Invalid($"{where}: unknown field class '{f}'");
            }
        }

        return new RolePolicy(name, permissions, tenant, Strings(e, "topicPrefixes", where), residency, fields, Strings(e, "grants", where));
    }

    private static RolePolicy Normalize(RolePolicy role)
    {
        if (string.IsNullOrWhiteSpace(role.Name) || role.Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw Invalid($"role name '{role.Name}' must be ASCII letters, digits, '-', '_' or '.'");
        }

        foreach (var p in role.Permissions)
        {
            if (!Permissions.IsPattern(p))
            {
                throw Invalid($"role '{role.Name}': '{p}' is not a permission (area:action, area:* or *; areas: {string.Join(", ", Permissions.Areas.Order(StringComparer.Ordinal))})");
            }
        }

        if (role.TopicPrefixes.Any(string.IsNullOrEmpty))
        {
            throw Invalid($"role '{role.Name}': empty topic prefix (omit the list to allow every topic)");
        }

        if (!Enum.IsDefined(role.Tenant))
        {
            throw Invalid($"role '{role.Name}': unknown tenant scope");
        }

        return role with
        {
            Permissions = Sorted(role.Permissions),
            TopicPrefixes = Sorted(role.TopicPrefixes),
            Grants = Sorted(role.Grants),
            ReadableFields = new HashSet<FieldClass>(role.ReadableFields),
        };
    }

    private static string[] Sorted(IEnumerable<string> values) => values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    // Canonical form: no whitespace, fixed key order, roles by name, lists sorted and distinct,
    // field classes as sorted names, every property present.
    private static byte[] Canonicalize(long version, IReadOnlyDictionary<string, RolePolicy> roles)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatV1);
            w.WriteNumber("version", version);
            w.WriteStartObject("roles");
            foreach (var role in roles.Values.OrderBy(r => r.Name, StringComparer.Ordinal))
            {
                w.WriteStartObject(role.Name);
                WriteArray(w, "permissions", role.Permissions);
                w.WriteString("tenant", role.Tenant == TenantScope.Own ? "own" : "any");
                WriteArray(w, "topicPrefixes", role.TopicPrefixes);
                w.WriteBoolean("residency", role.Residency);
                WriteArray(w, "readableFields", role.ReadableFields.Select(f => f.Name()).Order(StringComparer.Ordinal));
                WriteArray(w, "grants", role.Grants);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static void WriteArray(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    private static string[] Strings(JsonElement e, string property, string where)
    {
        if (!e.TryGetProperty(property, out var a))
        {
            return [];
        }

        if (a.ValueKind != JsonValueKind.Array || a.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            throw Invalid($"{where}: \"{property}\" must be an array of strings");
        }

        return a.EnumerateArray().Select(x => x.GetString()!).ToArray();
    }

    private static void RequireObject(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{where} must be a JSON object");
        }
    }

    private static void Only(JsonElement e, string where, string[] allowed)
    {
        foreach (var p in e.EnumerateObject())
        {
            if (!allowed.Contains(p.Name))
            {
                // Unknown keys are errors: a misspelt condition must not silently widen access.
                throw Invalid($"{where}: unknown property \"{p.Name}\" (allowed: {string.Join(", ", allowed)})");
            }
        }
    }

    private static ForgeOneException Invalid(string message) => new(ErrorCodes.AuthInvalidPolicy, "invalid policy: " + message);
}
