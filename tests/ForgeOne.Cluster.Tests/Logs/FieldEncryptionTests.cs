using System.Text;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Testing;

namespace ForgeOne.Cluster.Tests.Logs;

public sealed class FieldEncryptionTests : IDisposable
{
    private static readonly byte[] Key = [1, 2, 3, 4];
    private readonly TempRoot _root = new();
    private readonly InMemoryShardStore _store = new(ShardKind.Logs, 0, 4);
    private readonly IShardSecurity _security;

    public FieldEncryptionTests()
    {
        _security = new ShardSecurityFactory(new FileKekProvider(_root.KeysDirectory, _root.DataRoot), TestAuth.Node(), TimeProvider.System).Open(_store, ShardKind.Logs, 0);
    }

    [Fact]
    public void Reader_holding_the_field_class_gets_the_plaintext_back()
    {
        var sealedField = _security.EncryptField(FieldClass.LogMessage, Tables.Logs, Key, "card 4111"u8);

        var plain = _security.RevealField(FieldClass.LogMessage, Tables.Logs, Key, sealedField, new HashSet<FieldClass> { FieldClass.LogMessage });

        Assert.Equal("card 4111", Encoding.UTF8.GetString(plain!));
        Assert.DoesNotContain("4111", Encoding.Latin1.GetString(sealedField), StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_without_the_field_class_gets_null_for_redaction()
    {
        var sealedField = _security.EncryptField(FieldClass.LogMessage, Tables.Logs, Key, "secret"u8);

        Assert.Null(_security.RevealField(FieldClass.LogMessage, Tables.Logs, Key, sealedField, new HashSet<FieldClass> { FieldClass.LogMetadata }));
    }

    [Fact]
    public void Field_moved_to_another_key_fails_as_tampered()
    {
        var sealedField = _security.EncryptField(FieldClass.LogMessage, Tables.Logs, Key, "secret"u8);

        var error = Assert.Throws<ForgeOneException>(() => _security.RevealField(FieldClass.LogMessage, Tables.Logs, [9, 9], sealedField, FieldClasses.All));

        Assert.Equal(ErrorCodes.CryptoTampered, error.Code);
    }

    [Fact]
    public void Field_of_another_class_in_the_slot_is_refused_even_when_readable()
    {
        var sealedField = _security.EncryptField(FieldClass.LogMetadata, Tables.Logs, Key, "secret"u8);

        var error = Assert.Throws<ForgeOneException>(() => _security.RevealField(FieldClass.LogMessage, Tables.Logs, Key, sealedField, FieldClasses.All));

        Assert.Equal(ErrorCodes.CryptoTampered, error.Code);
    }

    [Fact]
    public void Policy_decision_carries_the_roles_readable_fields()
    {
        var access = new PolicyAccess();

        var admin = access.Authorize(TestAuth.PrincipalOf(Callers.Admin), "logs:read", new ResourceDescriptor("logs", "acme", "app.web"));
        var denied = access.Authorize(TestAuth.PrincipalOf(Callers.Nobody), "keys:rotate", new ResourceDescriptor("keys", "acme"));

        Assert.True(admin.Allowed);
        Assert.Contains(FieldClass.LogMessage, admin.ReadableFields);
        Assert.False(denied.Allowed);
        Assert.Empty(denied.ReadableFields);
    }

    public void Dispose()
    {
        _security.Dispose();
        _store.Dispose();
        _root.Dispose();
    }
}

public sealed class ResidencyRoutingTests
{
    private static readonly string[] Eu = ["storage", "region-eu"];

    [Fact]
    public void UpStorageMemberOfTheRegion_ServesTheZone() =>
        Assert.True(Compliance.ResidencyRouting.HasUpStorageMember([(true, Eu)], "eu"));

    [Fact]
    public void MemberNotUp_OrNotStorage_OrOfAnotherRegion_DoesNot()
    {
        Assert.False(Compliance.ResidencyRouting.HasUpStorageMember([(false, Eu)], "eu"));
        Assert.False(Compliance.ResidencyRouting.HasUpStorageMember([(true, ["edge", "region-eu"])], "eu"));
        Assert.False(Compliance.ResidencyRouting.HasUpStorageMember([(true, Eu)], "us"));
        Assert.False(Compliance.ResidencyRouting.HasUpStorageMember([], "eu"));
    }
}
