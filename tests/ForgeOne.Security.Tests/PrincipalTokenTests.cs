using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security.Tests;

/// <summary>Principal tokens from the attacker's side: forged, altered, expired, revoked, garbage.</summary>
public sealed class PrincipalTokenTests
{
    private static readonly Principal Alice = Principal.Of("alice", ["writer", "reader"], "acme", ["eu"], 2);
    private readonly ManualTimeProvider _time = new();
    private readonly AuthenticationKeyring _keys = AuthenticationKeyring.InMemory(RandomNumberGenerator.GetBytes(AuthenticationKeyring.KeyLength));

    private TokenVerifier Verifier(AuthenticationKeyring? keys = null, RevokedCredentials? revoked = null, int capacity = TokenVerifier.DefaultCacheCapacity) =>
        new(keys ?? _keys, _time, revoked, capacity);

    private PrincipalToken Issue(Principal? principal = null, string credential = "apikey:k1", TimeSpan? lifetime = null) =>
        new TokenIssuer(_keys, _time).Issue(principal ?? Alice, credential, lifetime).Token;

    [Fact]
    public void Verify_ReturnsExactlyTheIssuedClaims()
    {
        var token = Issue(lifetime: TimeSpan.FromMinutes(5));

        var result = Verifier().Verify(token);

        Assert.True(result.IsAuthenticated, result.Error?.ToString());
        var claims = result.Claims!;
        Assert.Equal("alice", claims.Principal.Id);
        Assert.Equal(["reader", "writer"], claims.Principal.Roles.Order(StringComparer.Ordinal));
        Assert.Equal("acme", claims.Principal.Tenant);
        Assert.Equal(["eu"], claims.Principal.Regions);
        Assert.Equal(2, claims.Principal.Clearance);
        Assert.Equal("apikey:k1", claims.CredentialId);
        Assert.Equal(_time.GetUtcNow(), claims.IssuedAt);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(5), claims.ExpiresAt);
        Assert.Equal(1, claims.KeyVersion);
    }

    [Fact]
    public void Verify_RefusesATokenSignedWithAnotherKey()
    {
        var forger = AuthenticationKeyring.InMemory(RandomNumberGenerator.GetBytes(AuthenticationKeyring.KeyLength));
        var forged = new TokenIssuer(forger, _time).Issue(Principal.Of("mallory", ["admin"], null, ["*"], int.MaxValue), "forged").Token;

        var result = Verifier().Verify(forged);

        Assert.False(result.IsAuthenticated);
        Assert.Equal(ErrorCodes.Unauthenticated, result.Error!.Code);
        Assert.Contains("signature does not verify", result.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RefusesEverySingleBitFlip()
    {
        var token = Issue().Value;
        var verifier = Verifier();
        Assert.True(verifier.Verify(new PrincipalToken(token)).IsAuthenticated);

        for (var i = 0; i < token.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var altered = (byte[])token.Clone();
                altered[i] ^= (byte)(1 << bit);
                var result = verifier.Verify(new PrincipalToken(altered));
                Assert.False(result.IsAuthenticated, $"byte {i} bit {bit} flipped was accepted");
                Assert.Equal(ErrorCodes.Unauthenticated, result.Error!.Code);
            }
        }
    }

    [Fact]
    public void Verify_RefusesAnExpiredToken_AfterTheSkewAllowance_EvenWhenCached()
    {
        var token = Issue(lifetime: TimeSpan.FromMinutes(10));
        var verifier = Verifier();
        Assert.True(verifier.Verify(token).IsAuthenticated);

        _time.Advance(TimeSpan.FromMinutes(10) + TokenVerifier.ClockSkew - TimeSpan.FromMilliseconds(1));
        Assert.True(verifier.Verify(token).IsAuthenticated);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var expired = verifier.Verify(token);

        Assert.False(expired.IsAuthenticated);
        Assert.Equal(ErrorCodes.Unauthenticated, expired.Error!.Code);
        Assert.Contains("expired", expired.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RefusesTokensOfARevokedCredential_AlreadyIssuedAndCached()
    {
        var revoked = new RevokedCredentials();
        var verifier = Verifier(revoked: revoked);
        var token = Issue(credential: "apikey:k1");
        var other = Issue(credential: "apikey:k2");
        Assert.True(verifier.Verify(token).IsAuthenticated);

        revoked.Add([("apikey:k1", _time.GetUtcNow())]);

        var refused = verifier.Verify(token);
        Assert.False(refused.IsAuthenticated);
        Assert.Contains("credential apikey:k1 of alice was revoked", refused.Error!.Message, StringComparison.Ordinal);
        Assert.True(verifier.Verify(other).IsAuthenticated);
    }

    [Fact]
    public void Verify_RefusesAbsentEmptyTruncatedAndGarbageTokens_WithoutThrowing()
    {
        var verifier = Verifier();
        var token = Issue().Value;
        var random = new Random(7);
        List<PrincipalToken?> candidates = [null, new PrincipalToken(null!), new PrincipalToken([]), new PrincipalToken(token[..^1]), new PrincipalToken(token[..PrincipalTokenCodec.HeaderLength])];
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(1, 600)];
            random.NextBytes(bytes);
            if (i % 2 == 0)
            {
                bytes[0] = PrincipalTokenCodec.FormatV1; // gets past the format byte
            }

            candidates.Add(new PrincipalToken(bytes));
        }

        foreach (var candidate in candidates)
        {
            var result = verifier.Verify(candidate);
            Assert.False(result.IsAuthenticated);
            Assert.Equal(ErrorCodes.Unauthenticated, result.Error!.Code);
        }
    }

    [Fact]
    public void Verify_RefusesAnUnknownKeyVersion()
    {
        var token = Issue().Value;
        token[1..5].AsSpan().Clear();
        token[4] = 9; // version 9, which this keyring never had (and the MAC no longer matches anyway)

        var result = Verifier().Verify(new PrincipalToken(token));

        Assert.False(result.IsAuthenticated);
        Assert.Contains("unknown authentication key version 9", result.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cache_StaysWithinItsCapacity_AndACachedTokenStillVerifiesAfterEviction()
    {
        var verifier = Verifier(capacity: 4);
        var tokens = Enumerable.Range(0, 20).Select(i => Issue(credential: $"apikey:k{i}")).ToList();

        foreach (var token in tokens)
        {
            Assert.True(verifier.Verify(token).IsAuthenticated);
            Assert.InRange(verifier.CachedCount, 1, 4);
        }

        Assert.True(verifier.Verify(tokens[0]).IsAuthenticated);
    }

    [Fact]
    public void Cache_DoesNotTrustAModifiedCopyOfACachedToken()
    {
        var verifier = Verifier();
        var token = Issue().Value;
        Assert.True(verifier.Verify(new PrincipalToken(token)).IsAuthenticated);

        // Same MAC bytes, another body: must not hit the cached entry.
        var altered = (byte[])token.Clone();
        altered[PrincipalTokenCodec.HeaderLength + 3] ^= 0x20;

        Assert.False(verifier.Verify(new PrincipalToken(altered)).IsAuthenticated);
    }

    [Fact]
    public void Rotation_NewTokensUseTheNewVersion_OldOnesStillVerify_AndAnotherNodeOfTheDirectoryPicksItUp()
    {
        using var dir = new TempDir();
        var node1 = AuthenticationKeyring.LoadOrCreate(dir.Sub("keys"), dir.Sub("data"));
        var node2 = AuthenticationKeyring.LoadOrCreate(dir.Sub("keys"), dir.Sub("data"));
        var old = new TokenIssuer(node1, _time).Issue(Alice, "apikey:k1").Token;

        Assert.Equal(2, node1.Rotate());
        var fresh = new TokenIssuer(node1, _time).Issue(Alice, "apikey:k1");

        Assert.Equal(2, fresh.Claims.KeyVersion);
        Assert.True(new TokenVerifier(node1, _time).Verify(old).IsAuthenticated);
        Assert.Equal(1, node2.ActiveVersion);
        Assert.True(new TokenVerifier(node2, _time).Verify(fresh.Token).IsAuthenticated, "a node sharing the keys directory finds the new version");
        Assert.Equal([1, 2], node2.Versions);
    }

    [Fact]
    public void LoadOrCreate_WritesAnOwnerOnlyKeyOutsideTheDataRoot_AndRefusesAnInsecureOne()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var dir = new TempDir();
        var keys = AuthenticationKeyring.LoadOrCreate(dir.Sub("keys"), dir.Sub("data"));
        var file = Path.Combine(dir.Sub("keys"), "auth-v1.key");

        Assert.Equal(1, keys.ActiveVersion);
        Assert.Equal(AuthenticationKeyring.KeyLength, File.ReadAllBytes(file).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(ErrorCodes.InvalidConfiguration, Assert.Throws<ForgeOneException>(() => AuthenticationKeyring.LoadOrCreate(Path.Combine(dir.Sub("data"), "keys"), dir.Sub("data"))).Code);

        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Equal(ErrorCodes.CryptoKeyFileInsecure, Assert.Throws<ForgeOneException>(() => AuthenticationKeyring.LoadOrCreate(dir.Sub("keys"))).Code);
    }

    [Fact]
    public void Issuer_RefusesLifetimesBeyondAnHour_AndEncodeRefusesOversizedFields()
    {
        var issuer = new TokenIssuer(_keys, _time);

        Assert.Throws<ArgumentOutOfRangeException>(() => issuer.Issue(Alice, "c", TokenIssuer.MaxLifetime + TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => issuer.Issue(Alice, "c", TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => issuer.Issue(Alice with { Id = new string('x', PrincipalTokenCodec.MaxStringBytes + 1) }, "c"));
        Assert.Throws<ArgumentException>(() => issuer.Issue(Principal.Of("a", Enumerable.Range(0, PrincipalTokenCodec.MaxListCount + 1).Select(i => $"r{i}"), null, [], 0), "c"));
        Assert.Throws<ArgumentException>(() => issuer.Issue(Alice with { Tenant = "bad\ntenant" }, "c"));
    }

    [Fact]
    public void DisabledVerifier_BelievesAForgedToken_WhichIsWhyOnlyBenchmarksTurnItOff()
    {
        var forger = AuthenticationKeyring.InMemory(RandomNumberGenerator.GetBytes(AuthenticationKeyring.KeyLength));
        var forged = new TokenIssuer(forger, _time).Issue(Alice, "forged").Token;

        Assert.True(new TokenVerifier(_keys, _time) { Enabled = false }.Verify(forged).IsAuthenticated);
        Assert.False(new TokenVerifier(_keys, _time).Verify(forged).IsAuthenticated);
    }
}
