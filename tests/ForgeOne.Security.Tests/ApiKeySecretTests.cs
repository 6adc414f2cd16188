namespace ForgeOne.Security.Tests;

public sealed class ApiKeySecretTests
{
    [Fact]
    public void Generate_MakesAPrefixIdentifiableKeyWhoseIdParsesBack()
    {
        var (id, key, salt, hash) = ApiKeySecret.Generate();

        Assert.Matches("^fo_live_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$", key);
        Assert.True(ApiKeySecret.TryParseId(key, out var parsed));
        Assert.Equal(id, parsed);
        Assert.Equal((16, 32), (salt.Length, hash.Length));
        Assert.True(ApiKeySecret.Matches(salt, hash, key));
    }

    [Fact]
    public void Hash_IsSaltedPerKey_AndAWrongSecretOrSaltDoesNotMatch()
    {
        var (_, key, salt, hash) = ApiKeySecret.Generate();
        var otherSalt = (byte[])salt.Clone();
        otherSalt[0] ^= 1;

        Assert.NotEqual(hash, ApiKeySecret.Hash(otherSalt, key));
        Assert.False(ApiKeySecret.Matches(otherSalt, hash, key));
        var wrongSecret = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        Assert.True(ApiKeySecret.TryParseId(wrongSecret, out _));
        Assert.False(ApiKeySecret.Matches(salt, hash, wrongSecret));
        Assert.False(ApiKeySecret.Matches(salt, hash[..16], key));
    }

    [Theory]
    [InlineData("")]
    [InlineData("fo_live_")]
    [InlineData("fo_live_0123456789abcdef")]
    [InlineData("fo_live_0123456789ABCDEF_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("fo_live_0123456789abcdef_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("fo_live_0123456789abcdef_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=")]
    [InlineData("fo_live_../../etc/passwd_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("fo_admin_short")]
    [InlineData("fo_test_0123456789abcdef_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void TryParseId_RefusesAnythingNotShapedLikeAKey(string key) =>
        Assert.False(ApiKeySecret.TryParseId(key, out _));

    [Fact]
    public void BootstrapKey_ParsesToTheBootstrapId_AndRedactionNeverShowsASecret()
    {
        var bootstrap = ApiKeySecret.NewBootstrapKey();
        Assert.True(ApiKeySecret.TryParseId(bootstrap, out var id));
        Assert.Equal(ApiKeySecret.BootstrapId, id);

        var (keyId, key, _, _) = ApiKeySecret.Generate();
        Assert.Equal($"fo_live_{keyId}_…", ApiKeySecret.Redact(key));
        Assert.Equal("fo_admin_…", ApiKeySecret.Redact(bootstrap));
        Assert.DoesNotContain(key[^20..], ApiKeySecret.Redact(key), StringComparison.Ordinal);
    }
}
