using ForgeOne.Common;
using FsCheck.Xunit;

namespace ForgeOne.Storage.Records.Tests;

public class ContinuationTokenTests
{
    private static readonly byte[] MacKey = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly byte[] Scope = "topic=orders;from=0;until=9"u8.ToArray();
    private static readonly byte[] LastKey = Gen.Token(0xA1).Concat(new byte[16]).ToArray();

    [Fact]
    public void Open_ReturnsTheKeyItWasCreatedWith()
    {
        var token = ContinuationToken.Create(LastKey, MacKey, Scope);

        Assert.Equal(LastKey, ContinuationToken.Open(token, MacKey, Scope));
        Assert.All(token, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_', $"'{c}' is not URL-safe"));
    }

    [Fact]
    public void Open_RefusesATamperedToken()
    {
        var token = ContinuationToken.Create(LastKey, MacKey, Scope).ToCharArray();
        token[10] = token[10] == 'A' ? 'B' : 'A';

        var ex = Assert.Throws<ForgeOneException>(() => ContinuationToken.Open(new string(token), MacKey, Scope));
        Assert.Equal(ErrorCodes.InvalidContinuationToken, ex.Code);
    }

    [Fact]
    public void Open_RefusesATokenFromAnotherQueryOrKey()
    {
        var token = ContinuationToken.Create(LastKey, MacKey, Scope);
        var otherKey = MacKey.Select(b => (byte)(b ^ 1)).ToArray();

        Assert.False(ContinuationToken.TryOpen(token, MacKey, "topic=other"u8, out _));
        Assert.False(ContinuationToken.TryOpen(token, otherKey, Scope, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AQ")]
    public void Open_RefusesGarbage(string? token)
    {
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Assert.Throws<ForgeOneException>(() => ContinuationToken.Open(token, MacKey, Scope)).Code);
    }

    [Fact]
    public void Open_RefusesAnOverlongTokenWithoutDecodingIt()
    {
        Assert.False(ContinuationToken.TryOpen(new string('A', 100_000), MacKey, Scope, out _));
    }

    [Fact]
    public void Create_RefusesAShortMacKey()
    {
        Assert.Throws<ArgumentException>(() => ContinuationToken.Create(LastKey, new byte[8]));
    }

    [Property(MaxTest = 1000)]
    public void Open_RandomStrings_RaiseOnlyTheTypedError(string token)
    {
        try
        {
            ContinuationToken.Open(token, MacKey, Scope);
            Assert.Fail("a random string opened as a valid token");
        }
        catch (ForgeOneException ex)
        {
            Assert.Equal(ErrorCodes.InvalidContinuationToken, ex.Code);
        }
    }

    [Property(MaxTest = 300)]
    public void Roundtrip_AnyKey(byte[] key)
    {
        var k = Gen.B(key).Take(ContinuationToken.MaxKeyLength).ToArray();
        Assert.Equal(k, ContinuationToken.Open(ContinuationToken.Create(k, MacKey), MacKey));
    }
}
