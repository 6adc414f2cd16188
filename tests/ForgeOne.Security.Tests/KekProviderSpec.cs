using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

/// <summary>
/// The <see cref="IKekProvider"/> contract, run against every implementation (an external KMS
/// provider should get a subclass too).
/// </summary>
public abstract class KekProviderSpec : IDisposable
{
    private readonly TempDir _dir = new();

    protected string KeysDirectory => _dir.Sub("keys");

    public void Dispose() => _dir.Dispose();

    protected abstract IKekProvider Create();

    [Fact]
    public void GetCurrent_ReturnsTheCurrentVersion()
    {
        var kek = Create();

        Assert.Equal(kek.CurrentVersion, kek.GetCurrent().Version);
        Assert.Equal(kek.CurrentVersion, kek.Get(kek.CurrentVersion).Version);
        Assert.Equal($"KEK v{kek.CurrentVersion}", kek.GetCurrent().ToString());
    }

    [Fact]
    public void Get_UnknownVersionIsKeyUnavailable()
    {
        var kek = Create();

        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => kek.Get(kek.CurrentVersion + 10));
    }

    [Fact]
    public void WrapUnwrap_RoundTripsAndRecordsTheKekVersion()
    {
        var kek = Create();
        var key = TestKekProvider.Bytes(0x31);

        var wrapped = kek.Wrap(kek.CurrentVersion, key, "ctx"u8);

        Assert.Equal(kek.CurrentVersion, KeyWrap.ReadKekVersion(wrapped));
        Assert.Equal(key, kek.Unwrap(wrapped, "ctx"u8));
        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => kek.Unwrap(wrapped, "other"u8));
    }

    [Fact]
    public void Keyring_SerializedUnderTheProviderLoadsBack()
    {
        var kek = Create();
        var ring = Keyring.Create("logs-0001", kek, new ManualTimeProvider()).Keyring;

        var loaded = Keyring.Load(ring.Serialize(kek), kek, "logs-0001");

        Assert.Equal(ring.Versions, loaded.Versions);
        Assert.Equal(kek.CurrentVersion, loaded.KekVersion);
    }
}

public sealed class FileKekProviderSpec : KekProviderSpec
{
    protected override IKekProvider Create() => new FileKekProvider(KeysDirectory);
}

public sealed class EnvironmentKekProviderSpec : KekProviderSpec
{
    private readonly Dictionary<string, string?> _env = new()
    {
        ["FORGEONE_KEK"] = Convert.ToBase64String(TestKekProvider.Bytes(0x61)),
        ["FORGEONE_KEK_VERSION"] = "3",
        ["FORGEONE_KEK_V2"] = Convert.ToBase64String(TestKekProvider.Bytes(0x62)),
    };

    protected override IKekProvider Create() => new EnvironmentKekProvider(readVariable: n => _env.GetValueOrDefault(n));
}

public sealed class InMemoryKekProviderSpec : KekProviderSpec
{
    protected override IKekProvider Create() => new TestKekProvider();
}
