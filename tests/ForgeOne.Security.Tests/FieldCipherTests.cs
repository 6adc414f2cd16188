using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class FieldCipherTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly TestKekProvider _kek = new();

    private static RecordContext Ctx(string key = "id-1") => new("events-0001", "events", System.Text.Encoding.UTF8.GetBytes(key));

    [Fact]
    public void EncryptString_RevealsForReadersOfTheClassAndRedactsForOthers()
    {
        using var fields = new FieldCipher(Fixtures.NewKeyring("events-0001", _kek));
        var ct = fields.EncryptString(FieldClass.EventPayload, "card 4111", Ctx());

        Assert.Equal(FieldClass.EventPayload, FieldCipher.ReadClass(ct));
        Assert.Equal("card 4111", fields.RevealString(ct, Ctx(), FieldClasses.All));
        Assert.Equal("[redacted:event.payload]", fields.RevealString(ct, Ctx(), new HashSet<FieldClass> { FieldClass.EventMetadata }));
        var hidden = fields.Reveal(ct, Ctx(), FieldClasses.None);
        Assert.True(hidden.Redacted);
        Assert.Null(hidden.Value);
    }

    [Fact]
    public void FieldClassKeys_AreDistinct_ChangingTheClassByteFailsAuthentication()
    {
        using var fields = new FieldCipher(Fixtures.NewKeyring("events-0001", _kek));
        var ct = fields.EncryptString(FieldClass.EventPayload, "secret", Ctx());
        var relabelled = (byte[])ct.Clone();
        relabelled[1] = (byte)FieldClass.EventMetadata;

        Fixtures.Throws(ErrorCodes.CryptoTampered, () => fields.Decrypt(relabelled, Ctx()));
        Fixtures.Throws(ErrorCodes.CryptoTampered, () => fields.Decrypt(ct, Ctx("id-2")));
    }

    [Fact]
    public void FieldCiphertext_IsNotARecordCiphertext()
    {
        var ring = Fixtures.NewKeyring("events-0001", _kek);
        using var fields = new FieldCipher(ring);
        using var records = new RecordCipher(ring);
        var fieldCt = fields.EncryptString(FieldClass.LogMessage, "hello", Ctx());

        // Same format byte, but the field key is not the data key: it must not decrypt as a record.
        Assert.Throws<ForgeOneException>(() => records.Decrypt(fieldCt, Ctx()));
    }

    [Fact]
    public void Decrypt_FollowsKeyStates()
    {
        var ring = Fixtures.NewKeyring("events-0001", _kek);
        using var v1Fields = new FieldCipher(ring);
        var ct = v1Fields.EncryptString(FieldClass.BlobName, "report.pdf", Ctx());
        var rotated = ring.Rotate(_clock, "r").Keyring;

        using var v2Fields = new FieldCipher(rotated);
        Assert.Equal("report.pdf", v2Fields.RevealString(ct, Ctx(), FieldClasses.All));
        using var retired = new FieldCipher(rotated.Retire(2, _clock).Keyring);
        Fixtures.Throws(ErrorCodes.CryptoRetiredVersion, () => retired.Decrypt(ct, Ctx()));
        using var other = new FieldCipher(Fixtures.NewKeyring("events-0002", _kek));
        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => other.Decrypt(ct, Ctx()));
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => other.Decrypt([7, 1, 2], Ctx()));
    }

    [Fact]
    public void FieldClassNames_RoundTrip()
    {
        foreach (var c in Enum.GetValues<FieldClass>())
        {
            Assert.True(FieldClasses.TryParse(c.Name(), out var parsed));
            Assert.Equal(c, parsed);
        }

        Assert.False(FieldClasses.TryParse("log.secret", out _));
        Assert.Equal(["log.message", "log.metadata", "event.payload", "event.metadata", "blob.name", "blob.metadata"], Enum.GetValues<FieldClass>().Select(c => c.Name()));
    }

    [Fact]
    public void BlindIndex_IsDeterministicKeyedAndStableAcrossRotation()
    {
        var ring = Fixtures.NewKeyring("logs-0001", _kek);
        var index = new BlindIndex(ring);

        var token = index.Token("orders.eu");

        Assert.Equal(BlindIndex.TokenLength, token.Length);
        Assert.Equal(token, index.Token("orders.eu"));
        Assert.NotEqual(token, index.Token("orders.us"));
        Assert.NotEqual(token, new BlindIndex(Fixtures.NewKeyring("logs-0002", _kek)).Token("orders.eu"));
        Assert.NotEqual(token, new BlindIndex(ring, "blob-name").Token("orders.eu"));
        Assert.Equal(token, new BlindIndex(ring.Rotate(_clock, "r").Keyring).Token("orders.eu"));
        Assert.Equal(token, new BlindIndex(Keyring.Load(ring.Serialize(_kek), _kek)).Token("orders.eu"));
        Assert.False(token.AsSpan().IndexOf("orders"u8) >= 0);
    }
}
