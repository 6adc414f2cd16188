using System.Runtime.InteropServices;

namespace ForgeOne.Security;

/// <summary>
/// The few libsodium (1.0.22, from the <c>libsodium</c> NuGet package's native assets) entry
/// points <see cref="GcmKey"/> uses: AES-256-GCM with a precomputed key schedule and a detached tag.
/// </summary>
internal static unsafe partial class Sodium
{
    private const string Library = "libsodium";

    private static readonly Lazy<bool> Available = new(Probe);

    /// <summary>True when libsodium loaded and this CPU has AES-NI and PCLMUL (libsodium's AES-GCM needs both).</summary>
    public static bool AesGcmAvailable => Available.Value;

    /// <summary>Size of <c>crypto_aead_aes256gcm_state</c>.</summary>
    public static nuint StateBytes { get; private set; }

    public static int Encrypt(Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, SafeHandle state)
    {
        var added = false;
        state.DangerousAddRef(ref added);
        try
        {
            fixed (byte* c = ciphertext)
            fixed (byte* t = tag)
            fixed (byte* m = plaintext)
            fixed (byte* a = aad)
            fixed (byte* n = nonce)
            {
                return crypto_aead_aes256gcm_encrypt_detached_afternm(c, t, null, m, (ulong)plaintext.Length, a, (ulong)aad.Length, null, n, (byte*)state.DangerousGetHandle());
            }
        }
        finally
        {
            if (added)
            {
                state.DangerousRelease();
            }
        }
    }

    public static int Decrypt(Span<byte> plaintext, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, SafeHandle state)
    {
        var added = false;
        state.DangerousAddRef(ref added);
        try
        {
            fixed (byte* m = plaintext)
            fixed (byte* c = ciphertext)
            fixed (byte* t = tag)
            fixed (byte* a = aad)
            fixed (byte* n = nonce)
            {
                return crypto_aead_aes256gcm_decrypt_detached_afternm(m, null, c, (ulong)ciphertext.Length, t, a, (ulong)aad.Length, n, (byte*)state.DangerousGetHandle());
            }
        }
        finally
        {
            if (added)
            {
                state.DangerousRelease();
            }
        }
    }

    [LibraryImport(Library)]
    internal static partial int crypto_aead_aes256gcm_beforenm(byte* state, byte* key);

    private static bool Probe()
    {
        try
        {
            // sodium_init: 0 = initialized now, 1 = already initialized, -1 = failure.
            if (sodium_init() < 0 || crypto_aead_aes256gcm_is_available() != 1)
            {
                return false;
            }

            StateBytes = crypto_aead_aes256gcm_statebytes();
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// Argon2id v1.3 (<c>crypto_pwhash</c>): derives <paramref name="output"/> from a passphrase.
    /// False when libsodium refused the parameters or could not allocate the memory.
    /// </summary>
    public static bool Argon2id(Span<byte> output, ReadOnlySpan<byte> password, ReadOnlySpan<byte> salt, ulong opsLimit, nuint memLimitBytes)
    {
        if (sodium_init() < 0)
        {
            return false;
        }

        fixed (byte* o = output)
        fixed (byte* p = password)
        fixed (byte* s = salt)
        {
            return crypto_pwhash(o, (ulong)output.Length, p, (ulong)password.Length, s, opsLimit, memLimitBytes, Argon2id13) == 0;
        }
    }

    // crypto_pwhash_ALG_ARGON2ID13
    private const int Argon2id13 = 2;

    [LibraryImport(Library)]
    private static partial int crypto_pwhash(byte* output, ulong outputLength, byte* password, ulong passwordLength, byte* salt, ulong opsLimit, nuint memLimit, int algorithm);

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    private static partial int crypto_aead_aes256gcm_is_available();

    [LibraryImport(Library)]
    private static partial nuint crypto_aead_aes256gcm_statebytes();

    [LibraryImport(Library)]
    private static partial int crypto_aead_aes256gcm_encrypt_detached_afternm(byte* c, byte* mac, ulong* maclen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* state);

    [LibraryImport(Library)]
    private static partial int crypto_aead_aes256gcm_decrypt_detached_afternm(byte* m, byte* nsec, byte* c, ulong clen, byte* mac, byte* ad, ulong adlen, byte* npub, byte* state);
}
