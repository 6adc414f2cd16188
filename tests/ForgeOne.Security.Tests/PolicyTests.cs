using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class PolicyTests
{
    private readonly PolicyEngine _engine = new(DefaultPolicy.Policy);

    private static Principal P(string id, string[] roles, string? tenant = "acme", string[]? regions = null, int clearance = 1) =>
        new(id, new HashSet<string>(roles), tenant, new HashSet<string>(regions ?? ["eu"]), clearance);

    private static ResourceDescriptor Logs(string? tenant = "acme", string? topic = "acme.orders", string? zone = "eu", int classification = 1) =>
        new("logs", tenant, topic, zone, classification);

    [Fact]
    public void DefaultPolicy_HasTheFiveRolesAndTheNodeRole()
    {
        Assert.Equal(["admin", "auditor", "node", "operator", "reader", "writer"], DefaultPolicy.Policy.Roles.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, DefaultPolicy.Policy.Version);
        Assert.Equal(64, DefaultPolicy.Policy.Hash.Length);
    }

    [Fact]
    public void Authorize_AllowsWriterOnOwnTenantWithAReason()
    {
        var decision = _engine.Authorize(P("svc-1", ["writer"]), Permissions.LogsWrite, Logs());

        Assert.True(decision.Allowed, decision.Reason);
        Assert.Contains("writer", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(DefaultPolicy.Policy.Hash, decision.PolicyHash);
    }

    [Fact]
    public void Authorize_DeniesByDefault()
    {
        var none = _engine.Authorize(P("nobody", []), Permissions.LogsRead, Logs());
        var unknownRole = _engine.Authorize(P("x", ["superuser"]), Permissions.LogsRead, Logs());
        var notGranted = _engine.Authorize(P("w", ["writer"]), Permissions.LogsRead, Logs());
        var wildcardRequest = _engine.Authorize(P("a", ["admin"], tenant: null, regions: ["*"]), "logs:*", Logs());

        Assert.False(none.Allowed);
        Assert.StartsWith("denied:", none.Reason, StringComparison.Ordinal);
        Assert.False(unknownRole.Allowed);
        Assert.False(notGranted.Allowed);
        Assert.Contains("grants logs:read", notGranted.Reason, StringComparison.Ordinal);
        Assert.False(wildcardRequest.Allowed);
        Assert.Empty(none.ReadableFields);
        Assert.Throws<ForgeOneException>(none.ThrowIfDenied);
    }

    [Fact]
    public void Authorize_DeniesCrossTenantAccess()
    {
        var decision = _engine.Authorize(P("r", ["reader"], tenant: "acme"), Permissions.LogsRead, Logs(tenant: "globex", topic: "globex.orders"));

        Assert.False(decision.Allowed);
        Assert.Contains("tenant mismatch", decision.Reason, StringComparison.Ordinal);
        var tenantless = _engine.Authorize(P("r", ["reader"], tenant: null), Permissions.LogsRead, Logs());
        Assert.False(tenantless.Allowed);
        Assert.True(_engine.Authorize(P("op", ["operator"], tenant: null), Permissions.LogsRead, Logs(tenant: "globex")).Allowed);
    }

    [Fact]
    public void Authorize_LetsOnlyTenantAnyRolesReachTenantlessResources()
    {
        var reader = _engine.Authorize(P("r", ["reader"], tenant: "acme"), Permissions.LogsRead, Logs(tenant: null));
        var noTenantReader = _engine.Authorize(P("r", ["reader"], tenant: null), Permissions.LogsRead, Logs(tenant: null));

        Assert.False(reader.Allowed);
        Assert.Contains("belongs to no tenant", reader.Reason, StringComparison.Ordinal);
        Assert.False(noTenantReader.Allowed);
        Assert.Contains("has no tenant", noTenantReader.Reason, StringComparison.Ordinal);
        Assert.True(_engine.Authorize(P("op", ["operator"], tenant: null), Permissions.LogsRead, Logs(tenant: null)).Allowed);
        Assert.True(_engine.Authorize(P("aud", ["auditor"], tenant: "acme"), Permissions.LogsRead, Logs(tenant: null)).Allowed);
    }

    [Fact]
    public void Authorize_EnforcesTopicPrefixes()
    {
        var policy = Policy.Parse("""
            { "format": "forgeone.policy/v1", "version": 2, "roles": {
              "orders-reader": { "permissions": ["logs:read"], "topicPrefixes": ["{tenant}.orders."], "readableFields": ["log.message"] } } }
            """);
        var engine = new PolicyEngine(policy);
        var p = P("r", ["orders-reader"]);

        Assert.True(engine.Authorize(p, Permissions.LogsRead, Logs(topic: "acme.orders.eu")).Allowed);
        var other = engine.Authorize(p, Permissions.LogsRead, Logs(topic: "acme.payments.eu"));
        Assert.False(other.Allowed);
        Assert.Contains("outside the allowed prefixes", other.Reason, StringComparison.Ordinal);
        Assert.False(engine.Authorize(p, Permissions.LogsRead, Logs(topic: "globex.orders.eu", tenant: "acme")).Allowed);
        Assert.False(engine.Authorize(p, Permissions.LogsRead, Logs(topic: null)).Allowed);
    }

    [Fact]
    public void Authorize_DeniesResidencyMismatch()
    {
        var decision = _engine.Authorize(P("r", ["reader"], regions: ["us"]), Permissions.LogsRead, Logs(zone: "eu"));

        Assert.False(decision.Allowed);
        Assert.Contains("residency mismatch", decision.Reason, StringComparison.Ordinal);
        Assert.True(_engine.Authorize(P("a", ["admin"], tenant: null, regions: ["*"]), Permissions.LogsRead, Logs(zone: "eu")).Allowed);
    }

    [Fact]
    public void Authorize_DeniesClassificationAboveClearance()
    {
        var decision = _engine.Authorize(P("r", ["reader"], clearance: 2), Permissions.LogsRead, Logs(classification: 3));

        Assert.False(decision.Allowed);
        Assert.Contains("exceeds clearance", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Authorize_PermissionAreaMustMatchResourceKind()
    {
        Assert.False(_engine.Authorize(P("r", ["reader"]), Permissions.LogsRead, new ResourceDescriptor("events", "acme", "acme.x", "eu", 0)).Allowed);
    }

    [Fact]
    public void FieldRedaction_AuditorSeesRecordsButNotSensitiveFields()
    {
        var auditor = _engine.Authorize(P("aud", ["auditor"], tenant: null), Permissions.LogsRead, Logs());
        var reader = _engine.Authorize(P("r", ["reader"]), Permissions.LogsRead, Logs());
        using var fields = new FieldCipher(Fixtures.NewKeyring());
        var ctx = new RecordContext("logs-0001", "logs", "id-1"u8);
        var message = fields.EncryptString(FieldClass.LogMessage, "password reset for bob", ctx);

        Assert.True(auditor.Allowed);
        Assert.Empty(auditor.ReadableFields);
        Assert.Equal("[redacted:log.message]", fields.RevealString(message, ctx, auditor.ReadableFields));
        Assert.Equal("password reset for bob", fields.RevealString(message, ctx, reader.ReadableFields));
    }

    [Fact]
    public void ReadableFields_AreTheUnionOverAllowingRolesOnly()
    {
        var policy = Policy.Parse("""
            { "format": "forgeone.policy/v1", "version": 3, "roles": {
              "msg": { "permissions": ["logs:read"], "readableFields": ["log.message"] },
              "meta": { "permissions": ["logs:read"], "readableFields": ["log.metadata"], "topicPrefixes": ["ops."] } } }
            """);
        var engine = new PolicyEngine(policy);
        var p = P("r", ["msg", "meta"]);

        Assert.Equal(new HashSet<FieldClass> { FieldClass.LogMessage, FieldClass.LogMetadata }, engine.Authorize(p, Permissions.LogsRead, Logs(topic: "ops.x")).ReadableFields);
        Assert.Equal(new HashSet<FieldClass> { FieldClass.LogMessage }, engine.Authorize(p, Permissions.LogsRead, Logs(topic: "acme.x")).ReadableFields);
    }

    [Fact]
    public void CanGrant_RefusesSelfGrant()
    {
        var admin = P("root", ["admin"], tenant: null, regions: ["*"]);

        var decision = _engine.CanGrant(admin, admin, "auditor");

        Assert.False(decision.Allowed);
        Assert.Contains("itself", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CanGrant_RefusesRolesTheGranterDoesNotHoldOrAdminister()
    {
        var policy = Policy.Parse("""
            { "format": "forgeone.policy/v1", "version": 4, "roles": {
              "tenant-admin": { "permissions": ["apikey:admin", "logs:*"], "tenant": "own", "grants": ["reader"] },
              "reader": { "permissions": ["logs:read"], "readableFields": ["*"] },
              "admin": { "permissions": ["*"], "tenant": "any" } } }
            """);
        var engine = new PolicyEngine(policy);
        var tenantAdmin = P("ta", ["tenant-admin"]);
        var colleague = P("bob", [], tenant: "acme");

        Assert.True(engine.CanGrant(tenantAdmin, colleague, "reader").Allowed);
        Assert.True(engine.CanGrant(tenantAdmin, colleague, "tenant-admin").Allowed);
        var escalation = engine.CanGrant(tenantAdmin, colleague, "admin");
        Assert.False(escalation.Allowed);
        Assert.Contains("neither holds role admin", escalation.Reason, StringComparison.Ordinal);
        Assert.False(engine.CanGrant(tenantAdmin, colleague, "no-such-role").Allowed);
    }

    [Fact]
    public void CanGrant_RefusesActingForAnotherTenant()
    {
        var policy = Policy.Parse("""
            { "format": "forgeone.policy/v1", "version": 5, "roles": {
              "tenant-admin": { "permissions": ["apikey:admin"], "tenant": "own", "grants": ["reader"] },
              "reader": { "permissions": ["logs:read"] } } }
            """);
        var engine = new PolicyEngine(policy);

        var decision = engine.CanGrant(P("ta", ["tenant-admin"], tenant: "acme"), P("eve", [], tenant: "globex"), "reader");

        Assert.False(decision.Allowed);
        Assert.Contains("cannot act for tenant globex", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void CanGrant_ForANewPrincipal_AppliesTheSameRules()
    {
        var policy = Policy.Parse("""
            { "format": "forgeone.policy/v1", "version": 6, "roles": {
              "tenant-admin": { "permissions": ["apikey:admin"], "tenant": "own", "grants": ["reader"] },
              "reader": { "permissions": ["logs:read"] }, "admin": { "permissions": ["*"], "tenant": "any" } } }
            """);
        var engine = new PolicyEngine(policy);
        var tenantAdmin = P("ta", ["tenant-admin"], tenant: "acme");

        Assert.True(engine.CanGrant(tenantAdmin, "reader").Allowed);
        Assert.False(engine.CanGrant(tenantAdmin, "admin").Allowed);
        Assert.False(engine.CanGrant(tenantAdmin, "reader", targetTenant: "globex").Allowed);
    }

    [Fact]
    public void CanGrant_RequiresAnAdminPermission()
    {
        var writer = P("w", ["writer", "reader"]);

        var decision = _engine.CanGrant(writer, P("x", [], tenant: "acme"), "reader");

        Assert.False(decision.Allowed);
        Assert.Contains("may not grant roles", decision.Reason, StringComparison.Ordinal);
        Assert.True(_engine.CanGrant(P("root", ["admin"], tenant: null, regions: ["*"]), P("x", [], tenant: "acme"), "reader").Allowed);
    }

    [Fact]
    public void Hash_IgnoresFormattingAndOrderButNotMeaning()
    {
        var a = Policy.Parse("""{"format":"forgeone.policy/v1","version":7,"roles":{"r":{"permissions":["logs:read","events:read"],"readableFields":["log.message","event.payload"]},"w":{"permissions":["logs:write"]}}}""");
        var b = Policy.Parse("""
            {
              "roles": {
                "w": { "permissions": ["logs:write"], "tenant": "own", "residency": true },
                "r": { "readableFields": ["event.payload", "log.message"], "permissions": ["events:read", "logs:read", "logs:read"] }
              },
              "version": 7,
              "format": "forgeone.policy/v1"
            }
            """);
        var c = Policy.Parse("""{"format":"forgeone.policy/v1","version":7,"roles":{"r":{"permissions":["logs:read","events:read"],"readableFields":["log.message"]},"w":{"permissions":["logs:write"]}}}""");

        Assert.Equal(a.Hash, b.Hash);
        Assert.NotEqual(a.Hash, c.Hash);
        Assert.Equal(a.Hash, Policy.Parse(System.Text.Encoding.UTF8.GetString(a.CanonicalJson)).Hash);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(a.CanonicalJson)), a.Hash);
    }

    [Theory]
    [InlineData("""{"format":"forgeone.policy/v1","version":1,"roles":{"r":{"permissions":["logs:reed:x"]}}}""", "not a permission")]
    [InlineData("""{"format":"forgeone.policy/v1","version":1,"roles":{"r":{"permissions":["files:read"]}}}""", "not a permission")]
    [InlineData("""{"format":"forgeone.policy/v1","version":1,"roles":{"r":{"permissions":[],"readableFields":["log.secret"]}}}""", "unknown field class")]
    [InlineData("""{"format":"forgeone.policy/v1","version":1,"roles":{"r":{"permissions":[],"tennant":"any"}}}""", "unknown property")]
    [InlineData("""{"format":"forgeone.policy/v1","version":1,"roles":{"r":{"permissions":[],"grants":["ghost"]}}}""", "unknown role")]
    [InlineData("""{"format":"forgeone.policy/v2","version":1,"roles":{}}""", "format")]
    [InlineData("""{"format":"forgeone.policy/v1","version":0,"roles":{}}""", "version")]
    [InlineData("""{"format":"forgeone.policy/v1","version":1,"roles":{"r":{}, "r":{}}}""", "defined twice")]
    [InlineData("""not json""", "not valid JSON")]
    public void Parse_RejectsInvalidPolicies(string json, string expected)
    {
        var e = Fixtures.Throws(ErrorCodes.AuthInvalidPolicy, () => Policy.Parse(json));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*", "logs:read", true)]
    [InlineData("events:*", "events:write", true)]
    [InlineData("events:*", "eventsx:write", false)]
    [InlineData("logs:read", "logs:read", true)]
    [InlineData("logs:read", "logs:write", false)]
    public void Permissions_MatchWildcards(string pattern, string permission, bool expected) =>
        Assert.Equal(expected, Permissions.Matches(pattern, permission));
}
