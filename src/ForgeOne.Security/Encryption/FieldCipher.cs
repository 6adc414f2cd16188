using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// Field-level encryption: each <see cref="FieldClass"/> has its own AES-256 key derived from
/// the data key with HKDF-SHA256 (info <c>forgeone.field.v1.{class name}</c>), so a reader
/// allowed the record but not the class gets a redaction marker and the field is never
/// decrypted for it. Layout (docs/FORMATS.md, "Field ciphertext"):
/// <c>u8 format=1 | u8 class | u32 key version | u32 key fingerprint | 12 nonce | 16 tag | ciphertext</c>.
/// Associated data: the first 10 header bytes plus the record context. Thread-safe.
/// </summary>
public sealed class FieldCipher : IDisposable
{
    /// <summary>Format byte.</summary>
    public const byte FormatV1 = 1;

    /// <summary>Bytes added to every field plaintext.</summary>
    public const int Overhead = HeaderLength;

    private const int AadPrefixLength = 1 + 1 + 4 + 4;
    private const int NonceOffset = AadPrefixLength;
    private const int TagOffset = NonceOffset + RecordCipher.NonceLength;
    private const int HeaderLength = TagOffset + GcmKey.TagLength;
    private const int ClassCount = 6;

    private readonly Keyring _keyring;
    private readonly GcmKey?[,] _keys; // [version, class]
    private readonly uint[] _fingerprints;
    private readonly KeyUsage.Counter _activeCounter;

    /// <param name="keyring">The shard's keyring.</param>
    /// <param name="usage">Live usage counts, shared with the record cipher (field encryptions count against the data key too).</param>
    public FieldCipher(Keyring keyring, KeyUsage? usage = null)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        _keyring = keyring;
        _keys = new GcmKey?[keyring.Keys.Count + 1, ClassCount + 1];
        _fingerprints = new uint[keyring.Keys.Count + 1];
        Span<byte> fieldKey = stackalloc byte[32];
        foreach (var k in keyring.Keys)
        {
            if (k.Info.Version >= _fingerprints.Length || k.Material is null || k.Info.State is not (KeyState.Active or KeyState.DecryptOnly))
            {
                continue;
            }

            _fingerprints[k.Info.Version] = k.Fingerprint;
            foreach (var c in Enum.GetValues<FieldClass>())
            {
                HKDF.DeriveKey(HashAlgorithmName.SHA256, k.Material, fieldKey, salt: [], info: Encoding.ASCII.GetBytes("forgeone.field.v1." + c.Name()));
                _keys[k.Info.Version, (int)c] = new GcmKey(fieldKey);
            }
        }

        CryptographicOperations.ZeroMemory(fieldKey);
        _activeCounter = (usage ?? new KeyUsage(keyring)).For(keyring.ActiveVersion);
    }

    /// <summary>The class named in a field ciphertext header.</summary>
    public static FieldClass ReadClass(ReadOnlySpan<byte> ciphertext)
    {
        CheckFormat(ciphertext);
        return (FieldClass)ciphertext[1];
    }

    /// <summary>Encrypts a field of class <paramref name="fieldClass"/> with the active version.</summary>
    public byte[] Encrypt(FieldClass fieldClass, ReadOnlySpan<byte> plaintext, in RecordContext ctx)
    {
        _ = fieldClass.Name(); // validates the enum value
        if (Interlocked.Increment(ref _activeCounter.Value) > RotationPolicy.HardEncryptionLimit)
        {
            throw new ForgeOneException(ErrorCodes.CryptoKeyExhausted, $"key v{_keyring.ActiveVersion} reached {RotationPolicy.HardEncryptionLimit} encryptions; rotate the keyring");
        }

        var version = _keyring.ActiveVersion;
        var output = new byte[checked(plaintext.Length + HeaderLength)];
        output[0] = FormatV1;
        output[1] = (byte)fieldClass;
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(2), (uint)version);
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(6), _fingerprints[version]);
        NonceSource.Fill(output.AsSpan(NonceOffset, RecordCipher.NonceLength));
        Run(_keys[version, (int)fieldClass]!, output.AsSpan(0, AadPrefixLength), ctx, encrypt: true, output, plaintext, default);
        return output;
    }

    /// <summary>Encrypts a UTF-8 string field.</summary>
    public byte[] EncryptString(FieldClass fieldClass, string value, in RecordContext ctx) => Encrypt(fieldClass, Encoding.UTF8.GetBytes(value), ctx);

    /// <summary>
    /// Decrypts a field regardless of policy (for callers that already checked it). Errors are
    /// those of <see cref="RecordCipher.Decrypt(ReadOnlySpan{byte}, in RecordContext)"/>.
    /// </summary>
    public byte[] Decrypt(ReadOnlySpan<byte> ciphertext, in RecordContext ctx)
    {
        CheckFormat(ciphertext);
        var fieldClass = (FieldClass)ciphertext[1];
        if (!Enum.IsDefined(fieldClass))
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, $"field ciphertext names unknown field class {(int)fieldClass}");
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(ciphertext[2..]);
        var info = version <= int.MaxValue ? _keyring.GetVersion((int)version) : null;
        switch (info?.State)
        {
            case null:
                throw new ForgeOneException(ErrorCodes.CryptoUnknownVersion, $"field ciphertext names key v{version}, which keyring {_keyring.StoreId} does not have");
            case KeyState.Retired:
                throw new ForgeOneException(ErrorCodes.CryptoRetiredVersion, $"key v{version} of keyring {_keyring.StoreId} is retired");
            case KeyState.Destroyed:
                throw new ForgeOneException(ErrorCodes.CryptoDestroyedVersion, $"key v{version} of keyring {_keyring.StoreId} was destroyed");
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(ciphertext[6..]) != _fingerprints[version])
        {
            throw new ForgeOneException(ErrorCodes.CryptoWrongKey, $"field ciphertext was made with a different key v{version} than keyring {_keyring.StoreId} holds");
        }

        var output = new byte[ciphertext.Length - HeaderLength];
        Run(_keys[version, (int)fieldClass]!, ciphertext[..AadPrefixLength], ctx, encrypt: false, output, default, ciphertext);
        return output;
    }

    /// <summary>
    /// What a reader allowed <paramref name="readable"/> sees: the plaintext, or a redaction when
    /// the field's class is not readable (then nothing is decrypted).
    /// </summary>
    public RevealedField Reveal(ReadOnlySpan<byte> ciphertext, in RecordContext ctx, IReadOnlySet<FieldClass> readable)
    {
        ArgumentNullException.ThrowIfNull(readable);
        var fieldClass = ReadClass(ciphertext);
        return readable.Contains(fieldClass)
            ? new RevealedField(fieldClass, false, Decrypt(ciphertext, ctx))
            : new RevealedField(fieldClass, true, null);
    }

    /// <summary>The UTF-8 text of a field, or its redaction marker.</summary>
    public string RevealString(ReadOnlySpan<byte> ciphertext, in RecordContext ctx, IReadOnlySet<FieldClass> readable) =>
        Reveal(ciphertext, ctx, readable).ToDisplayString();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key?.Dispose();
        }
    }

    private static void Run(GcmKey key, ReadOnlySpan<byte> prefix, in RecordContext ctx, bool encrypt, Span<byte> output, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ciphertext)
    {
        var aadLength = ContextAad.Length(AadPrefixLength, ctx);
        byte[]? rented = null;
        var aad = aadLength <= ContextAad.StackLimit ? stackalloc byte[aadLength] : (rented = ArrayPool<byte>.Shared.Rent(aadLength)).AsSpan(0, aadLength);
        ContextAad.Write(aad, prefix, ctx);
        try
        {
            if (encrypt)
            {
                key.Encrypt(output.Slice(NonceOffset, RecordCipher.NonceLength), plaintext, output[HeaderLength..], output.Slice(TagOffset, GcmKey.TagLength), aad);
            }
            else
            {
                key.Decrypt(ciphertext.Slice(NonceOffset, RecordCipher.NonceLength), ciphertext[HeaderLength..], ciphertext.Slice(TagOffset, GcmKey.TagLength), output, aad);
            }
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new ForgeOneException(ErrorCodes.CryptoTampered, "field ciphertext failed authentication: modified, or moved from another record, table or store");
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static void CheckFormat(ReadOnlySpan<byte> ciphertext)
    {
        if (ciphertext.IsEmpty || ciphertext[0] != FormatV1)
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, ciphertext.IsEmpty ? "field ciphertext is empty" : $"field ciphertext format {ciphertext[0]} is not supported (expected {FormatV1})");
        }

        if (ciphertext.Length < HeaderLength)
        {
            throw new ForgeOneException(ErrorCodes.CryptoTampered, $"field ciphertext is {ciphertext.Length} bytes, shorter than its {HeaderLength}-byte header");
        }
    }
}
