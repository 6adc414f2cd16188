using System.Security.Cryptography;

namespace ForgeOne.Common.Tests;

public sealed class Sha256Tests
{
    [Fact]
    public void UsesTheDirectLibcryptoPath_OnThisLinux()
    {
        // OpenSSL 3 on Debian 12 exports the low-level API; the fallback is for builds that do not.
        Assert.Equal(OperatingSystem.IsLinux() && File.Exists("/usr/lib/x86_64-linux-gnu/libcrypto.so.3"), Sha256.IsDirect);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(256)]
    [InlineData(100_003)]
    public void MatchesDotNetSha256(int length)
    {
        var data = RandomNumberGenerator.GetBytes(length);
        Assert.Equal(SHA256.HashData(data), Sha256.HashData(data));
    }

    [Fact]
    public void KnownAnswer_Abc()
    {
        Assert.Equal("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", Convert.ToHexString(Sha256.HashData("abc"u8)));
    }

    [Fact]
    public void ShortDestination_IsRefused() =>
        Assert.Throws<ArgumentException>(() => Sha256.HashData("abc"u8, new byte[31]));
}
