using System.Security.Cryptography;

namespace ForgeOne.Security.Tests;

/// <summary>
/// The libsodium engine must produce exactly the bytes .NET's (OpenSSL) AesGcm produces and
/// accepts, so records written by either engine stay readable by the other.
/// </summary>
public sealed class GcmKeyTests
{
    public static TheoryData<int, int> Sizes => new()
    {
        { 0, 0 }, { 1, 0 }, { 15, 7 }, { 16, 16 }, { 17, 40 }, { 255, 63 }, { 4096, 128 }, { (1 << 20) + 3, 9 },
    };

    [Fact]
    public void UsesLibsodium_WhenTheCpuHasAesNiAndPclmul()
    {
        Assert.Equal(System.Runtime.Intrinsics.X86.Aes.IsSupported && System.Runtime.Intrinsics.X86.Pclmulqdq.IsSupported, Sodium.AesGcmAvailable);
        Assert.Equal(Sodium.AesGcmAvailable ? "libsodium AES-NI" : "OpenSSL", GcmKey.Engine);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Encrypt_MatchesDotNetAesGcm_ByteForByte_BothWays(int size, int aadSize)
    {
        var (key, nonce, aad, plain) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12), RandomNumberGenerator.GetBytes(aadSize), RandomNumberGenerator.GetBytes(size));
        using var ours = new GcmKey(key);
        using var reference = new AesGcm(key, 16);

        var (cipher, tag) = (new byte[size], new byte[16]);
        ours.Encrypt(nonce, plain, cipher, tag, aad);
        var (expectedCipher, expectedTag) = (new byte[size], new byte[16]);
        reference.Encrypt(nonce, plain, expectedCipher, expectedTag, aad);
        Assert.Equal(expectedCipher, cipher);
        Assert.Equal(expectedTag, tag);

        var back = new byte[size];
        ours.Decrypt(nonce, expectedCipher, expectedTag, back, aad);
        Assert.Equal(plain, back);
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("tag")]
    [InlineData("aad")]
    [InlineData("nonce")]
    public void Decrypt_AnyFlippedBit_FailsAndLeavesNoPlaintext(string part)
    {
        var (key, nonce, aad, plain) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(12), RandomNumberGenerator.GetBytes(20), RandomNumberGenerator.GetBytes(300));
        using var gcm = new GcmKey(key);
        var (cipher, tag) = (new byte[plain.Length], new byte[16]);
        gcm.Encrypt(nonce, plain, cipher, tag, aad);
        var target = part switch { "ciphertext" => cipher, "tag" => tag, "aad" => aad, _ => nonce };
        target[5] ^= 0x01;

        var back = new byte[plain.Length];
        Assert.Throws<AuthenticationTagMismatchException>(() => gcm.Decrypt(nonce, cipher, tag, back, aad));
        Assert.All(back, b => Assert.Equal(0, b));
    }

    [Fact]
    public void WrongLengths_AreRefused()
    {
        using var gcm = new GcmKey(new byte[32]);
        Assert.Throws<ArgumentException>(() => new GcmKey(new byte[16]));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[8], new byte[4], new byte[4], new byte[16], default));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], new byte[4], new byte[3], new byte[16], default));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], new byte[4], new byte[4], new byte[12], default));
    }

    [Fact]
    public void AfterDispose_UseIsRefused()
    {
        var gcm = new GcmKey(new byte[32]);
        gcm.Dispose();
        Assert.Throws<ObjectDisposedException>(() => gcm.Encrypt(new byte[12], new byte[4], new byte[4], new byte[16], default));
    }

    [Fact]
    public async Task ConcurrentUse_OfOneKey_StaysCorrect()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        using var gcm = new GcmKey(key);
        var failures = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var bad = 0;
            for (var i = 0; i < 2000; i++)
            {
                var (nonce, plain) = (new byte[12], RandomNumberGenerator.GetBytes(64 + (i % 200)));
                NonceSource.Fill(nonce);
                var (cipher, tag, back) = (new byte[plain.Length], new byte[16], new byte[plain.Length]);
                gcm.Encrypt(nonce, plain, cipher, tag, default);
                gcm.Decrypt(nonce, cipher, tag, back, default);
                bad += plain.AsSpan().SequenceEqual(back) ? 0 : 1;
            }

            return bad;
        })));
        Assert.All(failures, f => Assert.Equal(0, f));
    }

    [Fact]
    public void NonceSource_NeverRepeats_AcrossBufferRefills()
    {
        // 100,000 nonces span ~290 refills of the 4 KiB per-thread buffer.
        var seen = new HashSet<UInt128>();
        Span<byte> wide = stackalloc byte[16];
        for (var i = 0; i < 100_000; i++)
        {
            NonceSource.Fill(wide[..12]);
            Assert.True(seen.Add(System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(wide)), $"nonce {i} repeated");
        }
    }
}
