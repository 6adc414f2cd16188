using System.Buffers.Binary;
using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Envelope wrapping of a key under a KEK with AES-256-GCM.
/// Layout: <c>u8 format=1 | u32 kek version | 12 nonce | 16 tag | ciphertext</c> (docs/FORMATS.md).
/// </summary>
public static class KeyWrap
{
    /// <summary>Format byte of a wrapped key.</summary>
    public const byte FormatV1 = 1;

    private const int HeaderLength = 1 + 4 + 12 + 16;

    /// <summary>Wraps <paramref name="key"/> with <paramref name="kek"/>, binding <paramref name="associatedData"/>.</summary>
    public static byte[] Wrap(KeyEncryptionKey kek, ReadOnlySpan<byte> key, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[HeaderLength + key.Length];
        output[0] = FormatV1;
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(1), (uint)kek.Version);
        var nonce = output.AsSpan(5, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(kek.Key, 16);
        aes.Encrypt(nonce, key, output.AsSpan(HeaderLength), output.AsSpan(17, 16), associatedData);
        return output;
    }

    /// <summary>The KEK version a wrapped key was made with.</summary>
    public static int ReadKekVersion(ReadOnlySpan<byte> wrapped)
    {
        if (wrapped.Length < HeaderLength || wrapped[0] != FormatV1)
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat,
                wrapped.Length == 0 ? "wrapped key is empty" : $"wrapped key has format {wrapped[0]} and length {wrapped.Length}; expected format {FormatV1}");
        }

        return (int)BinaryPrimitives.ReadUInt32BigEndian(wrapped[1..]);
    }

    /// <summary>Unwraps with the KEK version named in the header; a bad tag is <c>crypto.wrong_key</c>.</summary>
    public static byte[] Unwrap(IKekProvider provider, ReadOnlySpan<byte> wrapped, ReadOnlySpan<byte> associatedData)
    {
        var version = ReadKekVersion(wrapped);
        var kek = provider.Get(version);
        var key = new byte[wrapped.Length - HeaderLength];
        try
        {
            using var aes = new AesGcm(kek.Key, 16);
            aes.Decrypt(wrapped.Slice(5, 12), wrapped[HeaderLength..], wrapped.Slice(17, 16), key, associatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            // GCM cannot tell a wrong KEK from a modified blob; both mean "do not trust this keyring".
            throw new ForgeOneException(ErrorCodes.CryptoWrongKey,
                $"wrapped key does not authenticate under KEK v{version}: wrong KEK or the keyring was modified");
        }

        return key;
    }
}
