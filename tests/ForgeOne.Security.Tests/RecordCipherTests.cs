using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class RecordCipherTests
{
    private static readonly byte[] Plain = "a log line with a secret: 4111-1111"u8.ToArray();
    private readonly ManualTimeProvider _clock = new();
    private readonly TestKekProvider _kek = new();

    private static RecordContext Ctx(string key = "id-1", string table = "logs", string store = "logs-0001") =>
        new(store, table, System.Text.Encoding.UTF8.GetBytes(key));

    [Fact]
    public void EncryptDecrypt_RoundTripsWithDocumentedHeader()
    {
        using var cipher = new RecordCipher(Fixtures.NewKeyring(kek: _kek));

        var ct = cipher.Encrypt(Plain, Ctx());

        Assert.Equal(Plain.Length + 37, ct.Length);
        Assert.Equal(RecordCipher.GetCiphertextLength(Plain.Length), ct.Length);
        Assert.Equal(1, ct[0]);
        Assert.Equal(1, RecordCipher.ReadKeyVersion(ct));
        Assert.Equal(Plain, cipher.Decrypt(ct, Ctx()));
        Assert.NotEqual(ct, cipher.Encrypt(Plain, Ctx())); // random nonce
    }

    [Fact]
    public void SpanOverloads_WriteIntoCallerBuffers()
    {
        using var cipher = new RecordCipher(Fixtures.NewKeyring(kek: _kek));
        var dest = new byte[RecordCipher.GetCiphertextLength(Plain.Length) + 10];

        var written = cipher.Encrypt(Plain, dest, Ctx());
        var plain = new byte[Plain.Length];
        var read = cipher.Decrypt(dest.AsSpan(0, written), plain, Ctx());

        Assert.Equal(Plain.Length + RecordCipher.Overhead, written);
        Assert.Equal(Plain.Length, read);
        Assert.Equal(Plain, plain);
        Assert.Throws<ArgumentException>(() => cipher.Encrypt(Plain, new byte[10], Ctx()));
    }

    [Fact]
    public void EmptyPlaintextAndLongContext_RoundTrip()
    {
        using var cipher = new RecordCipher(Fixtures.NewKeyring(kek: _kek));
        var longKey = new string('k', 2000); // associated data above the stackalloc limit

        Assert.Empty(cipher.Decrypt(cipher.Encrypt([], Ctx()), Ctx()));
        Assert.Equal(Plain, cipher.Decrypt(cipher.Encrypt(Plain, Ctx(longKey)), Ctx(longKey)));
    }

    [Fact]
    public void Decrypt_OldRecordsStayReadableAfterRotation()
    {
        var ring = Fixtures.NewKeyring(kek: _kek);
        byte[] v1;
        using (var c1 = new RecordCipher(ring))
        {
            v1 = c1.Encrypt(Plain, Ctx());
        }

        ring = ring.Rotate(_clock, "test").Keyring.Rotate(_clock, "test").Keyring;
        using var c3 = new RecordCipher(Keyring.Load(ring.Serialize(_kek), _kek));
        var v3 = c3.Encrypt(Plain, Ctx());

        Assert.Equal(3, RecordCipher.ReadKeyVersion(v3));
        Assert.Equal(Plain, c3.Decrypt(v1, Ctx()));
        Assert.Equal(Plain, c3.Decrypt(v3, Ctx()));
    }

    [Fact]
    public void Decrypt_RetiredVersionFailsWithRetiredError()
    {
        var ring = Fixtures.NewKeyring(kek: _kek);
        using var c1 = new RecordCipher(ring);
        var v1 = c1.Encrypt(Plain, Ctx());

        using var after = new RecordCipher(ring.Rotate(_clock, "r").Keyring.Retire(2, _clock).Keyring);

        Fixtures.Throws(ErrorCodes.CryptoRetiredVersion, () => after.Decrypt(v1, Ctx()));
    }

    [Fact]
    public void Decrypt_DestroyedVersionFailsWithDestroyedError()
    {
        var ring = Fixtures.NewKeyring(kek: _kek);
        using var c1 = new RecordCipher(ring);
        var v1 = c1.Encrypt(Plain, Ctx());
        var destroyed = ring.Rotate(_clock, "r").Keyring.Retire(2, _clock).Keyring.Destroy(1, _clock).Keyring;

        using var after = new RecordCipher(Keyring.Load(destroyed.Serialize(_kek), _kek));

        Fixtures.Throws(ErrorCodes.CryptoDestroyedVersion, () => after.Decrypt(v1, Ctx()));
    }

    [Fact]
    public void Decrypt_UnknownVersionFails()
    {
        var ring = Fixtures.NewKeyring(kek: _kek);
        using var newer = new RecordCipher(ring.Rotate(_clock, "r").Keyring);
        var v2 = newer.Encrypt(Plain, Ctx());
        using var older = new RecordCipher(ring);

        Fixtures.Throws(ErrorCodes.CryptoUnknownVersion, () => older.Decrypt(v2, Ctx()));
    }

    [Fact]
    public void Decrypt_CiphertextFromAnotherShardsKeyringIsWrongKey()
    {
        using var shardA = new RecordCipher(Fixtures.NewKeyring("logs-0001", _kek));
        using var shardB = new RecordCipher(Fixtures.NewKeyring("logs-0002", _kek));
        var fromA = shardA.Encrypt(Plain, Ctx());

        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => shardB.Decrypt(fromA, Ctx()));
    }

    [Fact]
    public void Decrypt_SwappedBetweenRecordKeysTablesOrStoresIsTampered()
    {
        using var cipher = new RecordCipher(Fixtures.NewKeyring(kek: _kek));
        var a = cipher.Encrypt(Plain, Ctx("id-1"));
        var b = cipher.Encrypt(Plain, Ctx("id-2"));

        Fixtures.Throws(ErrorCodes.CryptoTampered, () => cipher.Decrypt(a, Ctx("id-2")));
        Fixtures.Throws(ErrorCodes.CryptoTampered, () => cipher.Decrypt(b, Ctx("id-1")));
        Fixtures.Throws(ErrorCodes.CryptoTampered, () => cipher.Decrypt(a, Ctx("id-1", table: "events")));
        Fixtures.Throws(ErrorCodes.CryptoTampered, () => cipher.Decrypt(a, Ctx("id-1", store: "logs-0002")));
    }

    [Fact]
    public void Decrypt_CiphertextFromAnotherKeyVersionSlotIsRejected()
    {
        var ring = Fixtures.NewKeyring(kek: _kek);
        using var c1 = new RecordCipher(ring);
        var v1 = c1.Encrypt(Plain, Ctx());
        using var c2 = new RecordCipher(ring.Rotate(_clock, "r").Keyring);
        // Relabel a v1 ciphertext as v2: the fingerprint no longer matches.
        var relabelled = (byte[])v1.Clone();
        relabelled[4] = 2;

        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => c2.Decrypt(relabelled, Ctx()));
    }

    [Fact]
    public void Decrypt_TamperedOrTruncatedOrForeignBytesAreTypedErrors()
    {
        using var cipher = new RecordCipher(Fixtures.NewKeyring(kek: _kek));
        var ct = cipher.Encrypt(Plain, Ctx());

        var flipped = (byte[])ct.Clone();
        flipped[^1] ^= 0x01;
        Fixtures.Throws(ErrorCodes.CryptoTampered, () => cipher.Decrypt(flipped, Ctx()));
        var badTag = (byte[])ct.Clone();
        badTag[25] ^= 0x80;
        Fixtures.Throws(ErrorCodes.CryptoTampered, () => cipher.Decrypt(badTag, Ctx()));
        Fixtures.Throws(ErrorCodes.CryptoTampered, () => cipher.Decrypt(ct.AsSpan(0, 20), Ctx()));
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => cipher.Decrypt([], Ctx()));
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => cipher.Decrypt("plain text, not ours"u8, Ctx()));
        var wrongFormat = (byte[])ct.Clone();
        wrongFormat[0] = 2;
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => cipher.Decrypt(wrongFormat, Ctx()));
    }

    [Fact]
    public void Rewrap_MovesOldRecordsToTheActiveVersion()
    {
        var ring = Fixtures.NewKeyring(kek: _kek);
        using var c1 = new RecordCipher(ring);
        var v1 = c1.Encrypt(Plain, Ctx());
        var rotated = ring.Rotate(_clock, "r").Keyring;
        using var c2 = new RecordCipher(rotated);

        Assert.True(c2.NeedsRewrap(v1));
        var moved = c2.Rewrap(v1, Ctx())!;
        Assert.Equal(2, RecordCipher.ReadKeyVersion(moved));
        Assert.Null(c2.Rewrap(moved, Ctx()));
        Assert.Equal(KeyEventKind.RecordsRewrapped, rotated.RecordsRewrapped(1, 1, _clock).Kind);

        using var retired = new RecordCipher(rotated.Retire(2, _clock).Keyring);
        Assert.Equal(Plain, retired.Decrypt(moved, Ctx()));
    }

    [Fact]
    public void Encrypt_CountsUsageAndStopsAtTheHardLimit()
    {
        var ring = Fixtures.NewKeyring(kek: _kek);
        var usage = new KeyUsage(ring);
        using var cipher = new RecordCipher(ring, usage);

        cipher.Encrypt(Plain, Ctx());
        cipher.Encrypt(Plain, Ctx());
        Assert.Equal(2, usage.Get(1));

        usage.For(1).Value = RotationPolicy.HardEncryptionLimit;
        Fixtures.Throws(ErrorCodes.CryptoKeyExhausted, () => cipher.Encrypt(Plain, Ctx()));
    }

    [Fact]
    public void Cipher_IsSafeToUseFromManyThreads()
    {
        using var cipher = new RecordCipher(Fixtures.NewKeyring(kek: _kek));
        Parallel.For(0, 2000, i =>
        {
            var ctx = Ctx("id-" + i);
            var ct = cipher.Encrypt(BitConverter.GetBytes(i), ctx);
            Assert.Equal(i, BitConverter.ToInt32(cipher.Decrypt(ct, Ctx("id-" + i))));
        });
        Assert.Equal(2000, cipher.Usage.Get(1));
    }
}
