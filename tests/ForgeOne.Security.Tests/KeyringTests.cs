using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class KeyringTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly TestKekProvider _kek = new();

    [Fact]
    public void Create_MakesActiveV1AndACreatedEvent()
    {
        var (ring, events) = Keyring.Create("logs-0001", _kek, _clock);

        Assert.Equal(1, ring.ActiveVersion);
        Assert.Equal(1, ring.MinDecryptionVersion);
        Assert.Equal(1, ring.KekVersion);
        var v1 = Assert.Single(ring.Versions);
        Assert.Equal(KeyState.Active, v1.State);
        Assert.Equal(_clock.GetUtcNow(), v1.CreatedAt);
        var e = Assert.Single(events);
        Assert.Equal(KeyEventKind.Created, e.Kind);
        Assert.Equal("keys.created", e.AuditAction);
        Assert.Equal("keys/logs-0001/v1", e.AuditResource);
    }

    [Fact]
    public void Rotate_ReturnsNewValueAndLeavesTheOldOneUnchanged()
    {
        var ring = Keyring.Create("logs-0001", _kek, _clock).Keyring;
        _clock.Advance(TimeSpan.FromDays(1));

        var (rotated, events) = ring.Rotate(_clock, "on demand");

        Assert.Equal(1, ring.ActiveVersion);
        Assert.Single(ring.Versions);
        Assert.Equal(2, rotated.ActiveVersion);
        Assert.Equal([KeyState.DecryptOnly, KeyState.Active], rotated.Versions.Select(v => v.State));
        Assert.Equal(_clock.GetUtcNow(), rotated.Versions[1].CreatedAt);
        var e = Assert.Single(events);
        Assert.Equal(KeyEventKind.Rotated, e.Kind);
        Assert.Equal(2, e.KeyVersion);
        Assert.Contains("v1 -> v2: on demand", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Retire_MovesVersionsBelowMinToRetiredWithOneEventEach()
    {
        var ring = Keyring.Create("logs-0001", _kek, _clock).Keyring;
        ring = ring.Rotate(_clock, "r").Keyring.Rotate(_clock, "r").Keyring;

        var (retired, events) = ring.Retire(3, _clock);

        Assert.Equal(3, retired.MinDecryptionVersion);
        Assert.Equal([KeyState.Retired, KeyState.Retired, KeyState.Active], retired.Versions.Select(v => v.State));
        Assert.Equal([1, 2], events.Select(e => e.KeyVersion));
        Assert.All(events, e => Assert.Equal(KeyEventKind.Retired, e.Kind));
    }

    [Fact]
    public void Retire_RefusesLoweringOrRetiringTheActiveVersion()
    {
        var ring = Keyring.Create("logs-0001", _kek, _clock).Keyring.Rotate(_clock, "r").Keyring.Retire(2, _clock).Keyring;

        Fixtures.Throws(ErrorCodes.CryptoInvalidKeyState, () => ring.Retire(1, _clock));
        Fixtures.Throws(ErrorCodes.CryptoInvalidKeyState, () => ring.Retire(3, _clock));
    }

    [Fact]
    public void Destroy_OnlyAllowedForRetiredVersions()
    {
        var ring = Keyring.Create("logs-0001", _kek, _clock).Keyring.Rotate(_clock, "r").Keyring;

        Fixtures.Throws(ErrorCodes.CryptoInvalidKeyState, () => ring.Destroy(1, _clock));
        Fixtures.Throws(ErrorCodes.CryptoInvalidKeyState, () => ring.Destroy(2, _clock));
        Fixtures.Throws(ErrorCodes.CryptoUnknownVersion, () => ring.Destroy(9, _clock));

        var (destroyed, events) = ring.Retire(2, _clock).Keyring.Destroy(1, _clock);
        Assert.Equal(KeyState.Destroyed, destroyed.Versions[0].State);
        Assert.Null(destroyed.Find(1)!.Material);
        Assert.Equal(KeyEventKind.Destroyed, Assert.Single(events).Kind);
    }

    [Fact]
    public void SerializeLoad_RoundTripsEveryField()
    {
        var ring = Keyring.Create("events-0007", _kek, _clock).Keyring;
        _clock.Advance(TimeSpan.FromHours(3));
        ring = ring.Rotate(_clock, "r").Keyring.Rotate(_clock, "r").Keyring.Retire(2, _clock).Keyring.Destroy(1, _clock).Keyring;
        var usage = new KeyUsage(ring);
        using (var cipher = new RecordCipher(ring, usage))
        {
            cipher.Encrypt("x"u8, new RecordContext("events-0007", "events", "k"u8));
        }

        ring = ring.WithUsage(usage);
        var loaded = Keyring.Load(ring.Serialize(_kek), _kek);

        Assert.Equal(ring.StoreId, loaded.StoreId);
        Assert.Equal(ring.ActiveVersion, loaded.ActiveVersion);
        Assert.Equal(ring.MinDecryptionVersion, loaded.MinDecryptionVersion);
        Assert.Equal(ring.KekVersion, loaded.KekVersion);
        Assert.Equal(ring.Versions, loaded.Versions);
        Assert.Equal(1, loaded.Active.Encryptions);
        Assert.Equal(ring.IndexKey, loaded.IndexKey);
        for (var v = 1; v <= 3; v++)
        {
            Assert.Equal(ring.Find(v)!.Material, loaded.Find(v)!.Material);
        }
    }

    [Fact]
    public void Load_WithAnotherKek_FailsWithWrongKey()
    {
        var bytes = Fixtures.NewKeyring(kek: _kek).Serialize(_kek);
        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => Keyring.Load(bytes, new TestKekProvider(0x55)));
    }

    [Fact]
    public void Load_WithExpectedStoreId_RefusesAnotherShardsKeyring()
    {
        var bytes = Fixtures.NewKeyring("logs-0001", _kek).Serialize(_kek);

        Assert.Equal("logs-0001", Keyring.Load(bytes, _kek, "logs-0001").StoreId);
        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => Keyring.Load(bytes, _kek, "logs-0002"));
    }

    [Fact]
    public void Load_DetectsEditedMetadata()
    {
        var ring = Keyring.Create("logs-0001", _kek, _clock).Keyring.Rotate(_clock, "r").Keyring.Retire(2, _clock).Keyring;
        var bytes = ring.Serialize(_kek);
        // min_decryption_version sits after format(1) + store id(2+9) + kek version(4) + active(4).
        var offset = 1 + 2 + "logs-0001".Length + 4 + 4 + 3;
        Assert.Equal(2, bytes[offset]);
        bytes[offset] = 1; // try to un-retire v1

        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => Keyring.Load(bytes, _kek));
    }

    [Fact]
    public void Load_RejectsUnknownFormatAndTruncation()
    {
        var bytes = Fixtures.NewKeyring(kek: _kek).Serialize(_kek);
        var other = (byte[])bytes.Clone();
        other[0] = 2;
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => Keyring.Load(other, _kek));
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => Keyring.Load(bytes.AsSpan(0, bytes.Length - 5), _kek));
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => Keyring.Load([], _kek));
    }

    [Fact]
    public void KekRotation_RewrapsKeysAndKeepsRecordsReadable()
    {
        var ring = Keyring.Create("logs-0001", _kek, _clock).Keyring;
        var ctx = new RecordContext("logs-0001", "logs", "id-1"u8);
        byte[] ciphertext;
        using (var cipher = new RecordCipher(ring))
        {
            ciphertext = cipher.Encrypt("hello"u8, ctx);
        }

        _kek.Rotate();
        var (rewrapped, events) = Keyring.Load(ring.Serialize(_kek), _kek).RewrapKek(_kek, _clock);
        var stored = rewrapped.Serialize(_kek);

        Assert.Equal(2, rewrapped.KekVersion);
        Assert.Equal(KeyEventKind.KekRewrapped, Assert.Single(events).Kind);
        // Every wrap in the stored keyring now names KEK v2: it loads with only v2 available.
        var onlyV2 = new SingleVersionKek(_kek.Get(2));
        using var after = new RecordCipher(Keyring.Load(stored, onlyV2));
        Assert.Equal("hello"u8.ToArray(), after.Decrypt(ciphertext, ctx));
        Assert.Empty(rewrapped.RewrapKek(_kek, _clock).Events);
    }

    [Fact]
    public void RotationPolicy_DueByAgeOrByUsage()
    {
        var ring = Keyring.Create("logs-0001", _kek, _clock).Keyring;
        var policy = new RotationPolicy(TimeSpan.FromDays(30), 3);
        var usage = new KeyUsage(ring);

        Assert.False(policy.ShouldRotate(ring, _clock.GetUtcNow(), usage));
        using (var cipher = new RecordCipher(ring, usage))
        {
            for (var i = 0; i < 3; i++)
            {
                cipher.Encrypt("x"u8, new RecordContext("logs-0001", "logs", "k"u8));
            }
        }

        Assert.True(policy.ShouldRotate(ring, _clock.GetUtcNow(), usage));
        Assert.False(policy.ShouldRotate(ring, _clock.GetUtcNow()));
        Assert.True(policy.ShouldRotate(ring.WithUsage(usage), _clock.GetUtcNow()));
        Assert.True(policy.ShouldRotate(ring, _clock.GetUtcNow() + TimeSpan.FromDays(30)));
        Assert.StartsWith("age:", policy.Reason(ring, _clock.GetUtcNow() + TimeSpan.FromDays(31)), StringComparison.Ordinal);
        Assert.Equal(1L << 30, RotationPolicy.Default.MaxEncryptions);
    }

    private sealed class SingleVersionKek(KeyEncryptionKey key) : IKekProvider
    {
        public int CurrentVersion => key.Version;

        public KeyEncryptionKey Get(int version) =>
            version == key.Version ? key : throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"no KEK v{version}");

        public KeyEncryptionKey Rotate() => throw new NotSupportedException();
    }
}
