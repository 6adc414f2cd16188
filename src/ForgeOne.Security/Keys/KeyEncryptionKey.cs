using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// A version of the key-encryption key (AES-256). Holds the key bytes privately; its
/// <see cref="ToString"/> names only the version, so logging one is harmless.
/// </summary>
public sealed class KeyEncryptionKey
{
    /// <summary>AES-256 key length in bytes.</summary>
    public const int KeyLength = 32;

    private readonly byte[] _key;

    /// <summary>Copies <paramref name="key"/>; it must be 32 bytes.</summary>
    public KeyEncryptionKey(int version, ReadOnlySpan<byte> key)
    {
        if (version < 1)
        {
            throw Errors.Invalid($"KEK version must be >= 1, was {version}");
        }

        if (key.Length != KeyLength)
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"KEK v{version} is {key.Length} bytes; it must be {KeyLength} (AES-256)");
        }

        Version = version;
        _key = key.ToArray();
    }

    /// <summary>Version number; recorded in every wrapped key so old KEKs can still unwrap.</summary>
    public int Version { get; }

    internal ReadOnlySpan<byte> Key => _key;

    /// <summary>Generates a fresh random KEK.</summary>
    public static KeyEncryptionKey Generate(int version) => new(version, RandomNumberGenerator.GetBytes(KeyLength));

    /// <inheritdoc />
    public override string ToString() => $"KEK v{Version}";
}
