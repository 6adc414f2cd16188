using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

public sealed class KekProviderTests
{
    [Fact]
    public void FileKekProvider_CreatesV1WithOwnerOnlyPermissions()
    {
        using var dir = new TempDir();
        var keys = dir.Sub("keys");
        var provider = new FileKekProvider(keys);

        Assert.Equal(1, provider.CurrentVersion);
        var path = provider.PathOf(1);
        Assert.True(File.Exists(path));
        Assert.Equal(32, new FileInfo(path).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keys));
        }
    }

    [Fact]
    public void FileKekProvider_RefusesKeyFileReadableByOthers()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var dir = new TempDir();
        var keys = dir.Sub("keys");
        var first = new FileKekProvider(keys);
        File.SetUnixFileMode(first.PathOf(1), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var e = Fixtures.Throws(ErrorCodes.CryptoKeyFileInsecure, () => new FileKekProvider(keys));
        Assert.Contains("0644", e.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FileKekProvider_RefusesKeysDirectoryInsideDataRoot()
    {
        using var dir = new TempDir();
        Fixtures.Throws(ErrorCodes.InvalidConfiguration, () => new FileKekProvider(Path.Combine(dir.Path, "data", "keys"), dataRoot: Path.Combine(dir.Path, "data")));
        _ = new FileKekProvider(dir.Sub("keys"), dataRoot: dir.Sub("data")); // sibling is fine
    }

    [Fact]
    public void FileKekProvider_RefusesAKeysDirectoryThatIsASymlinkIntoTheDataRoot_AndCreatesNoKey()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(Path.Combine(data, "hidden-keys"));
        var link = Path.Combine(dir.Path, "keys");
        Directory.CreateSymbolicLink(link, Path.Combine(data, "hidden-keys"));

        var refused = Assert.Throws<ForgeOneException>(() => new FileKekProvider(link, data));
        Assert.Equal(ErrorCodes.InvalidConfiguration, refused.Code);
        Assert.Contains("really", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(data, "hidden-keys")));

        // And through a symlinked parent: keys/sub where keys -> data/hidden-keys.
        Assert.Equal(ErrorCodes.InvalidConfiguration, Assert.Throws<ForgeOneException>(() => new FileKekProvider(Path.Combine(link, "sub"), data)).Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(data, "hidden-keys")));
    }

    [Fact]
    public void FileKekProvider_RotateAddsVersionAndKeepsOldOnes()
    {
        using var dir = new TempDir();
        var keys = dir.Sub("keys");
        var provider = new FileKekProvider(keys);
        var v1 = provider.Get(1);

        var v2 = provider.Rotate();

        Assert.Equal(2, v2.Version);
        Assert.Equal(2, provider.CurrentVersion);
        var reopened = new FileKekProvider(keys);
        Assert.Equal(2, reopened.CurrentVersion);
        Assert.True(reopened.Get(1).Key.SequenceEqual(v1.Key));
        Assert.False(reopened.Get(2).Key.SequenceEqual(v1.Key));
        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => reopened.Get(3));
    }

    [Fact]
    public void FileKekProvider_RefusesKeyFileOfWrongLength()
    {
        using var dir = new TempDir();
        var keys = dir.Sub("keys");
        var provider = new FileKekProvider(keys);
        File.WriteAllBytes(provider.PathOf(1), new byte[7]);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(provider.PathOf(1), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => new FileKekProvider(keys));
    }

    [Fact]
    public void EnvironmentKekProvider_ReadsCurrentAndOlderVersions()
    {
        var v1 = TestKekProvider.Bytes(0x21);
        var v2 = TestKekProvider.Bytes(0x22);
        var env = new Dictionary<string, string?>
        {
            ["FORGEONE_KEK"] = Convert.ToBase64String(v2),
            ["FORGEONE_KEK_VERSION"] = "2",
            ["FORGEONE_KEK_V1"] = Convert.ToBase64String(v1),
        };
        var provider = new EnvironmentKekProvider(readVariable: n => env.GetValueOrDefault(n));

        Assert.Equal(2, provider.CurrentVersion);
        Assert.True(provider.Get(2).Key.SequenceEqual(v2));
        Assert.True(provider.Get(1).Key.SequenceEqual(v1));
        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => provider.Get(3));
        Fixtures.Throws(ErrorCodes.InvalidConfiguration, () => provider.Rotate());
    }

    [Fact]
    public void EnvironmentKekProvider_RejectsMissingOrMalformedKeys()
    {
        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => new EnvironmentKekProvider(readVariable: _ => null));
        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => new EnvironmentKekProvider(readVariable: n => n == "FORGEONE_KEK" ? "not base64!!" : null));
        Fixtures.Throws(ErrorCodes.CryptoKeyUnavailable, () => new EnvironmentKekProvider(readVariable: n => n == "FORGEONE_KEK" ? Convert.ToBase64String(new byte[16]) : null));
        Fixtures.Throws(ErrorCodes.InvalidConfiguration, () => new EnvironmentKekProvider(readVariable: n => n switch
        {
            "FORGEONE_KEK" => Convert.ToBase64String(new byte[32]),
            "FORGEONE_KEK_VERSION" => "zero",
            _ => null,
        }));
    }

    [Fact]
    public void KeyWrap_RoundTripsAndRejectsWrongKekOrAad()
    {
        var kek = new TestKekProvider();
        var key = TestKekProvider.Bytes(0x77);
        var wrapped = ((IKekProvider)kek).Wrap(1, key, "aad"u8);

        Assert.Equal(1 + 4 + 12 + 16 + 32, wrapped.Length);
        Assert.Equal(1, KeyWrap.ReadKekVersion(wrapped));
        Assert.Equal(key, ((IKekProvider)kek).Unwrap(wrapped, "aad"u8));
        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => ((IKekProvider)kek).Unwrap(wrapped, "other"u8));
        Fixtures.Throws(ErrorCodes.CryptoWrongKey, () => ((IKekProvider)new TestKekProvider(0x99)).Unwrap(wrapped, "aad"u8));
        wrapped[0] = 9;
        Fixtures.Throws(ErrorCodes.CryptoUnknownFormat, () => ((IKekProvider)kek).Unwrap(wrapped, "aad"u8));
    }
}
