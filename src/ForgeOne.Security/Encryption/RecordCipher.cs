using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// AES-256-GCM record encryption with a shard's <see cref="Keyring"/>. Layout (docs/FORMATS.md,
/// "Record ciphertext"): <c>u8 format=1 | u32 key version | u32 key fingerprint | 12 nonce | 16 tag | ciphertext</c>.
/// The associated data is the first 9 header bytes plus the <see cref="RecordContext"/>.
/// <para>
/// Built once per keyring value (swap in a new one after rotation); thread-safe. Encrypt uses
/// the active version; decrypt accepts active and decrypt-only versions and fails with a typed
/// error otherwise. Dispose it after the last in-flight call to free the native key schedules.
/// </para>
/// </summary>
public sealed class RecordCipher : IDisposable
{
    /// <summary>Format byte.</summary>
    public const byte FormatV1 = 1;

    /// <summary>Bytes added to every plaintext.</summary>
    public const int Overhead = HeaderLength;

    internal const int NonceLength = 12;
    private const int AadPrefixLength = 1 + 4 + 4;
    private const int NonceOffset = AadPrefixLength;
    private const int TagOffset = NonceOffset + NonceLength;
    private const int HeaderLength = TagOffset + GcmKey.TagLength;

    private readonly VersionSlot?[] _slots; // index = version
    private readonly VersionSlot _active;
    private readonly KeyUsage.Counter _activeCounter;

    /// <param name="keyring">The keyring to encrypt and decrypt with.</param>
    /// <param name="usage">Live usage counts (shared with the keyring's owner); a private one when null.</param>
    public RecordCipher(Keyring keyring, KeyUsage? usage = null)
    {
        ArgumentNullException.ThrowIfNull(keyring);
        Keyring = keyring;
        Usage = usage ?? new KeyUsage(keyring);
        _slots = new VersionSlot?[keyring.Keys.Count + 1];
        foreach (var k in keyring.Keys)
        {
            if (k.Info.Version < _slots.Length)
            {
                _slots[k.Info.Version] = new VersionSlot(k.Info.Version, k.Info.State, k.Fingerprint,
                    k.Material is not null && k.Info.State is KeyState.Active or KeyState.DecryptOnly ? new GcmKey(k.Material) : null);
            }
        }

        _active = _slots[keyring.ActiveVersion]!;
        _activeCounter = Usage.For(keyring.ActiveVersion);
    }

    /// <summary>The keyring this cipher was built from.</summary>
    public Keyring Keyring { get; }

    /// <summary>Encryption counts this cipher increments.</summary>
    public KeyUsage Usage { get; }

    /// <summary>The AES-GCM implementation in use: libsodium (AES-NI) or OpenSSL.</summary>
    public static string Engine => GcmKey.Engine;

    /// <summary>Ciphertext length for a plaintext of <paramref name="plaintextLength"/> bytes.</summary>
    public static int GetCiphertextLength(int plaintextLength) => checked(plaintextLength + Overhead);

    /// <summary>Plaintext length of a ciphertext (no validation beyond the length).</summary>
    public static int GetPlaintextLength(int ciphertextLength) => Math.Max(0, ciphertextLength - Overhead);

    /// <summary>The key version in a ciphertext header; <c>crypto.unknown_format</c> if it is not one of ours.</summary>
    public static int ReadKeyVersion(ReadOnlySpan<byte> ciphertext)
    {
        CheckFormat(ciphertext);
        return (int)BinaryPrimitives.ReadUInt32BigEndian(ciphertext[1..]);
    }

    /// <summary>Encrypts into a new array.</summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, in RecordContext ctx)
    {
        var output = new byte[GetCiphertextLength(plaintext.Length)];
        Encrypt(plaintext, output, ctx);
        return output;
    }

    /// <summary>Encrypts into <paramref name="destination"/> (at least <see cref="GetCiphertextLength"/> bytes); returns bytes written.</summary>
    public int Encrypt(ReadOnlySpan<byte> plaintext, Span<byte> destination, in RecordContext ctx)
    {
        var length = GetCiphertextLength(plaintext.Length);
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination is {destination.Length} bytes; {length} needed", nameof(destination));
        }

        if (Interlocked.Increment(ref _activeCounter.Value) > RotationPolicy.HardEncryptionLimit)
        {
            ThrowExhausted(_active.Version);
        }

        destination[0] = FormatV1;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)_active.Version);
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], _active.Fingerprint);
        var nonce = destination.Slice(NonceOffset, NonceLength);
        NonceSource.Fill(nonce);

        var aadLength = ContextAad.Length(AadPrefixLength, ctx);
        byte[]? rented = null;
        var aad = aadLength <= ContextAad.StackLimit ? stackalloc byte[aadLength] : (rented = ArrayPool<byte>.Shared.Rent(aadLength)).AsSpan(0, aadLength);
        ContextAad.Write(aad, destination[..AadPrefixLength], ctx);

        try
        {
            _active.Key!.Encrypt(nonce, plaintext, destination.Slice(HeaderLength, plaintext.Length), destination.Slice(TagOffset, GcmKey.TagLength), aad);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return length;
    }

    /// <summary>Decrypts into a new array; typed errors as for <see cref="Decrypt(ReadOnlySpan{byte}, Span{byte}, in RecordContext)"/>.</summary>
    public byte[] Decrypt(ReadOnlySpan<byte> ciphertext, in RecordContext ctx)
    {
        CheckFormat(ciphertext);
        var output = new byte[ciphertext.Length - HeaderLength];
        Decrypt(ciphertext, output, ctx);
        return output;
    }

    /// <summary>
    /// Decrypts into <paramref name="destination"/>; returns bytes written. Errors (as
    /// <see cref="ForgeOneException"/>): <c>crypto.unknown_format</c>, <c>crypto.unknown_key_version</c>,
    /// <c>crypto.retired_version</c>, <c>crypto.destroyed_version</c>, <c>crypto.wrong_key</c> (another keyring's key),
    /// <c>crypto.tampered</c> (modified, truncated, or bound to another store/table/key).
    /// On failure <paramref name="destination"/> holds no plaintext.
    /// </summary>
    public int Decrypt(ReadOnlySpan<byte> ciphertext, Span<byte> destination, in RecordContext ctx)
    {
        CheckFormat(ciphertext);
        var length = ciphertext.Length - HeaderLength;
        if (destination.Length < length)
        {
            throw new ArgumentException($"destination is {destination.Length} bytes; {length} needed", nameof(destination));
        }

        var slot = ResolveForDecrypt(ciphertext);
        var aadLength = ContextAad.Length(AadPrefixLength, ctx);
        byte[]? rented = null;
        var aad = aadLength <= ContextAad.StackLimit ? stackalloc byte[aadLength] : (rented = ArrayPool<byte>.Shared.Rent(aadLength)).AsSpan(0, aadLength);
        ContextAad.Write(aad, ciphertext[..AadPrefixLength], ctx);

        try
        {
            slot.Key!.Decrypt(ciphertext.Slice(NonceOffset, NonceLength), ciphertext[HeaderLength..], ciphertext.Slice(TagOffset, GcmKey.TagLength), destination[..length], aad);
        }
        catch (AuthenticationTagMismatchException)
        {
            // The engine already zeroed the destination.
            ThrowTampered(slot.Version);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return length;
    }

    /// <summary>True when a ciphertext is not under the active version (a rewrap candidate).</summary>
    public bool NeedsRewrap(ReadOnlySpan<byte> ciphertext) => ReadKeyVersion(ciphertext) != _active.Version;

    /// <summary>
    /// Re-encrypts a ciphertext under the active version (the background rewrap calls this in
    /// bounded batches); returns null when it already is. The plaintext is wiped after use.
    /// </summary>
    public byte[]? Rewrap(ReadOnlySpan<byte> ciphertext, in RecordContext ctx)
    {
        if (!NeedsRewrap(ciphertext))
        {
            return null;
        }

        var plain = Decrypt(ciphertext, ctx);
        try
        {
            return Encrypt(plain, ctx);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot?.Key?.Dispose();
        }
    }

    private VersionSlot ResolveForDecrypt(ReadOnlySpan<byte> ciphertext)
    {
        var version = BinaryPrimitives.ReadUInt32BigEndian(ciphertext[1..]);
        var slot = version < (uint)_slots.Length ? _slots[version] : null;
        if (slot is null)
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownVersion, $"ciphertext names key v{version}, which keyring {Keyring.StoreId} does not have");
        }

        switch (slot.State)
        {
            case KeyState.Retired:
                throw new ForgeOneException(ErrorCodes.CryptoRetiredVersion, $"key v{version} of keyring {Keyring.StoreId} is retired (min_decryption_version {Keyring.MinDecryptionVersion})");
            case KeyState.Destroyed:
                throw new ForgeOneException(ErrorCodes.CryptoDestroyedVersion, $"key v{version} of keyring {Keyring.StoreId} was destroyed; the record is unrecoverable");
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(ciphertext[5..]) != slot.Fingerprint)
        {
            throw new ForgeOneException(ErrorCodes.CryptoWrongKey, $"ciphertext was made with a different key v{version} than keyring {Keyring.StoreId} holds (another shard's or a replaced keyring)");
        }

        return slot;
    }

    private static void CheckFormat(ReadOnlySpan<byte> ciphertext)
    {
        if (ciphertext.IsEmpty || ciphertext[0] != FormatV1)
        {
            ThrowUnknownFormat(ciphertext.IsEmpty ? -1 : ciphertext[0]);
        }

        if (ciphertext.Length < HeaderLength)
        {
            ThrowTruncated(ciphertext.Length);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowUnknownFormat(int format) =>
        throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, format < 0 ? "record ciphertext is empty" : $"record ciphertext format {format} is not supported (expected {FormatV1})");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTruncated(int length) =>
        throw new ForgeOneException(ErrorCodes.CryptoTampered, $"record ciphertext is {length} bytes, shorter than its {HeaderLength}-byte header");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTampered(int version) =>
        throw new ForgeOneException(ErrorCodes.CryptoTampered, $"record ciphertext (key v{version}) failed authentication: modified, or moved from another store, table or record key");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowExhausted(int version) =>
        throw new ForgeOneException(ErrorCodes.CryptoKeyExhausted, $"key v{version} reached {RotationPolicy.HardEncryptionLimit} encryptions; rotate the keyring");

    private sealed record VersionSlot(int Version, KeyState State, uint Fingerprint, GcmKey? Key);
}
