using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ForgeOne.Common;

/// <summary>
/// SHA-256 for small inputs on hot paths (a log entry's content hash, once per appended entry).
/// <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> goes through OpenSSL 3's EVP
/// layer: error-queue clearing, a context allocation and provider dispatch cost ~0.5 us per call,
/// twice the hashing of a 256-byte entry. OpenSSL's low-level <c>SHA256_Init/Update/Final</c>
/// run the same SHA-NI code without that layer. When the process's libcrypto does not export
/// them, or they fail a known-answer check at start, this falls back to <see cref="SHA256"/>.
/// The output is SHA-256 either way.
/// </summary>
public static unsafe class Sha256
{
    /// <summary>Digest length in bytes.</summary>
    public const int HashLength = 32;

    // SHA256_CTX is 112 bytes on 64-bit builds; room to spare.
    private const int ContextLength = 256;

    private static readonly LowLevel? Native = LowLevel.TryLoad();

    /// <summary>True when the direct libcrypto path is in use (reported by benchmarks).</summary>
    public static bool IsDirect => Native is not null;

    /// <summary>Writes the SHA-256 of <paramref name="data"/> into <paramref name="destination"/> (32 bytes).</summary>
    public static void HashData(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < HashLength)
        {
            throw new ArgumentException($"destination must hold {HashLength} bytes", nameof(destination));
        }

        if (Native is null)
        {
            SHA256.HashData(data, destination);
            return;
        }

        Native.Hash(data, destination);
    }

    /// <summary>The SHA-256 of <paramref name="data"/>.</summary>
    public static byte[] HashData(ReadOnlySpan<byte> data)
    {
        var digest = new byte[HashLength];
        HashData(data, digest);
        return digest;
    }

    private sealed class LowLevel
    {
        private readonly delegate* unmanaged<byte*, int> _init;
        private readonly delegate* unmanaged<byte*, byte*, nuint, int> _update;
        private readonly delegate* unmanaged<byte*, byte*, int> _final;

        private LowLevel(IntPtr init, IntPtr update, IntPtr final)
        {
            _init = (delegate* unmanaged<byte*, int>)init;
            _update = (delegate* unmanaged<byte*, byte*, nuint, int>)update;
            _final = (delegate* unmanaged<byte*, byte*, int>)final;
        }

        public static LowLevel? TryLoad()
        {
            // The same libcrypto .NET's own cryptography loads on Linux.
            if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libcrypto.so.3", out var library))
            {
                return null;
            }

            if (!NativeLibrary.TryGetExport(library, "SHA256_Init", out var init)
                || !NativeLibrary.TryGetExport(library, "SHA256_Update", out var update)
                || !NativeLibrary.TryGetExport(library, "SHA256_Final", out var final))
            {
                return null;
            }

            var candidate = new LowLevel(init, update, final);
            return candidate.PassesKnownAnswers() ? candidate : null;
        }

        public void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
        {
            var context = stackalloc byte[ContextLength];
            fixed (byte* input = data)
            fixed (byte* output = destination)
            {
                if (_init(context) != 1 || _update(context, input, (nuint)data.Length) != 1 || _final(output, context) != 1)
                {
                    throw new CryptographicException("libcrypto SHA-256 failed");
                }
            }
        }

        private bool PassesKnownAnswers()
        {
            Span<byte> ours = stackalloc byte[HashLength];
            Span<byte> reference = stackalloc byte[HashLength];
            foreach (var length in (int[])[0, 3, 55, 56, 64, 1000])
            {
                var input = new byte[length];
                for (var i = 0; i < length; i++)
                {
                    input[i] = (byte)(i * 31);
                }

                Hash(input, ours);
                SHA256.HashData(input, reference);
                if (!ours.SequenceEqual(reference))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
