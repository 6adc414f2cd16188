using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ForgeOne.Security;

/// <summary>
/// One AES-256-GCM key, thread-safe, with a 16-byte tag kept apart from the ciphertext (our
/// formats put the tag in the header). Two interchangeable engines produce the same bytes:
/// <list type="bullet">
///   <item>libsodium's AES-NI implementation with the key schedule expanded once
///   (<c>crypto_aead_aes256gcm_beforenm</c>): about 0.15 us for a 256-byte record;</item>
///   <item>.NET's <see cref="AesGcm"/> (OpenSSL 3 on Linux) when the CPU lacks AES-NI/PCLMUL:
///   correct everywhere, but every call pays ~1.2 us of OpenSSL context set-up, which for
///   200-byte log entries costs more than the encryption itself.</item>
/// </list>
/// </summary>
internal sealed class GcmKey : IDisposable
{
    public const int TagLength = 16;
    public const int NonceLength = 12;

    private readonly SodiumGcmState? _sodium;
    private readonly OpenSslPool? _openSsl;

    public GcmKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("AES-256 needs a 32-byte key", nameof(key));
        }

        if (Sodium.AesGcmAvailable)
        {
            _sodium = new SodiumGcmState(key);
        }
        else
        {
            _openSsl = new OpenSslPool(key);
        }
    }

    /// <summary>Which engine this process uses (reported by benchmarks and the node's start-up log).</summary>
    public static string Engine => Sodium.AesGcmAvailable ? "libsodium AES-NI" : "OpenSSL";

    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> aad)
    {
        CheckLengths(nonce, plaintext.Length, ciphertext.Length, tag);
        if (_sodium is null)
        {
            _openSsl!.Encrypt(nonce, plaintext, ciphertext, tag, aad);
            return;
        }

        if (Sodium.Encrypt(ciphertext, tag, plaintext, aad, nonce, _sodium) != 0)
        {
            throw new CryptographicException("AES-GCM encryption failed");
        }
    }

    /// <summary>Decrypts; throws <see cref="AuthenticationTagMismatchException"/> (destination zeroed) when the tag does not verify.</summary>
    public void Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        CheckLengths(nonce, ciphertext.Length, plaintext.Length, tag);
        if (_sodium is null)
        {
            _openSsl!.Decrypt(nonce, ciphertext, tag, plaintext, aad);
            return;
        }

        if (Sodium.Decrypt(plaintext, ciphertext, tag, aad, nonce, _sodium) != 0)
        {
            CryptographicOperations.ZeroMemory(plaintext[..ciphertext.Length]);
            throw new AuthenticationTagMismatchException();
        }
    }

    public void Dispose()
    {
        _sodium?.Dispose();
        _openSsl?.Dispose();
    }

    private static void CheckLengths(ReadOnlySpan<byte> nonce, int input, int output, ReadOnlySpan<byte> tag)
    {
        if (nonce.Length != NonceLength || tag.Length != TagLength || output < input)
        {
            throw new ArgumentException($"AES-GCM needs a {NonceLength}-byte nonce, a {TagLength}-byte tag and an output as long as the input");
        }
    }

    /// <summary>
    /// The expanded key schedule in native memory. A <see cref="SafeHandle"/> so a call in flight
    /// keeps it alive (<see cref="Sodium"/> holds a reference across the native call) and Dispose wipes it only afterwards.
    /// </summary>
    private sealed unsafe class SodiumGcmState : SafeHandle
    {
        public SodiumGcmState(ReadOnlySpan<byte> key)
            : base(IntPtr.Zero, ownsHandle: true)
        {
            var state = NativeMemory.AlignedAlloc(Sodium.StateBytes, 64);
            SetHandle((IntPtr)state);
            fixed (byte* k = key)
            {
                if (Sodium.crypto_aead_aes256gcm_beforenm((byte*)state, k) != 0)
                {
                    throw new CryptographicException("libsodium could not expand the AES-256 key");
                }
            }
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            NativeMemory.Clear((void*)handle, Sodium.StateBytes);
            NativeMemory.AlignedFree((void*)handle);
            return true;
        }
    }

    /// <summary>
    /// The fallback engine: a small lock-free pool of <see cref="AesGcm"/> instances (AesGcm is
    /// not thread-safe, and creating one per call would cost a key schedule and a native handle).
    /// </summary>
    private sealed class OpenSslPool : IDisposable
    {
        private readonly byte[] _key;
        private readonly AesGcm?[] _slots = new AesGcm?[Math.Max(4, Environment.ProcessorCount * 2)];
        private volatile bool _disposed;

        public OpenSslPool(ReadOnlySpan<byte> key) => _key = key.ToArray();

        public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> aad)
        {
            var aes = Rent();
            try
            {
                aes.Encrypt(nonce, plaintext, ciphertext[..plaintext.Length], tag, aad);
            }
            finally
            {
                Return(aes);
            }
        }

        public void Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> aad)
        {
            var aes = Rent();
            try
            {
                aes.Decrypt(nonce, ciphertext, tag, plaintext[..ciphertext.Length], aad);
            }
            finally
            {
                Return(aes);
            }
        }

        public void Dispose()
        {
            _disposed = true;
            for (var i = 0; i < _slots.Length; i++)
            {
                Interlocked.Exchange(ref _slots[i], null)?.Dispose();
            }

            Array.Clear(_key);
        }

        private AesGcm Rent()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var start = Environment.CurrentManagedThreadId;
            for (var i = 0; i < _slots.Length; i++)
            {
                if (Interlocked.Exchange(ref _slots[(start + i) % _slots.Length], null) is { } item)
                {
                    return item;
                }
            }

            return new AesGcm(_key, TagLength);
        }

        private void Return(AesGcm item)
        {
            if (!_disposed)
            {
                var start = Environment.CurrentManagedThreadId;
                for (var i = 0; i < _slots.Length; i++)
                {
                    if (Interlocked.CompareExchange(ref _slots[(start + i) % _slots.Length], item, null) is null)
                    {
                        return;
                    }
                }
            }

            item.Dispose();
        }
    }
}
