using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// An opaque paging position handed to clients: URL-safe base64 (no padding) of
/// <code>
///   u8 version (1) | u16 key length | last key | 16-byte truncated HMAC-SHA256
/// </code>
/// The MAC covers the version, the key and a caller-chosen <c>scope</c> (e.g. a hash of the
/// query: topic, range, filter), under a server-side key. A client can neither forge a position
/// nor replay a token from one query in another. The key itself is not secret-free: callers
/// should pass index keys, which carry blind tokens rather than plaintext names.
/// </summary>
public static class ContinuationToken
{
    /// <summary>The token format version.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Bytes of HMAC kept: 128 bits is ample against online forgery.</summary>
    public const int MacLength = 16;

    /// <summary>Longest key a token carries (LMDB's key limit).</summary>
    public const int MaxKeyLength = 511;

    /// <summary>Shortest accepted MAC key.</summary>
    public const int MinMacKeyLength = 16;

    private const int MaxTokenChars = ((1 + 2 + MaxKeyLength + MacLength + 2) / 3 * 4) + 4;
    private static readonly byte[] Domain = "forgeone.continuation.v1"u8.ToArray();

    /// <summary>Creates a token for resuming after <paramref name="lastKey"/>.</summary>
    public static string Create(ReadOnlySpan<byte> lastKey, ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> scope = default)
    {
        CheckMacKey(macKey);
        if (lastKey.Length > MaxKeyLength)
        {
            throw new ArgumentException($"keys are at most {MaxKeyLength} bytes", nameof(lastKey));
        }

        var raw = new byte[1 + 2 + lastKey.Length + MacLength];
        raw[0] = FormatVersion;
        BinaryPrimitives.WriteUInt16BigEndian(raw.AsSpan(1), (ushort)lastKey.Length);
        lastKey.CopyTo(raw.AsSpan(3));
        var body = raw.AsSpan(0, 3 + lastKey.Length);
        Mac(macKey, scope, body).AsSpan(0, MacLength).CopyTo(raw.AsSpan(body.Length));
        return Base64Url.EncodeToString(raw);
    }

    /// <summary>
    /// The last key carried by a token made by <see cref="Create"/> with the same MAC key and
    /// scope. Throws <see cref="ForgeOneException"/> with
    /// <see cref="ErrorCodes.InvalidContinuationToken"/> for anything else.
    /// </summary>
    public static byte[] Open(string? token, ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> scope = default) =>
        TryOpen(token, macKey, scope, out var key)
            ? key
            : throw new ForgeOneException(ErrorCodes.InvalidContinuationToken, "The continuation token is not valid for this query.");

    /// <summary>Like <see cref="Open"/> without throwing for a bad token.</summary>
    public static bool TryOpen(string? token, ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> scope, out byte[] lastKey)
    {
        CheckMacKey(macKey);
        lastKey = [];
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenChars || !Base64Url.IsValid(token))
        {
            return false;
        }

        var raw = Base64Url.DecodeFromChars(token);
        if (raw.Length < 1 + 2 + MacLength || raw[0] != FormatVersion)
        {
            return false;
        }

        var keyLength = BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(1));
        if (raw.Length != 1 + 2 + keyLength + MacLength)
        {
            return false;
        }

        var body = raw.AsSpan(0, 3 + keyLength);
        var expected = Mac(macKey, scope, body).AsSpan(0, MacLength);
        if (!CryptographicOperations.FixedTimeEquals(expected, raw.AsSpan(body.Length)))
        {
            return false;
        }

        lastKey = raw.AsSpan(3, keyLength).ToArray();
        return true;
    }

    private static byte[] Mac(ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> scope, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, macKey);
        Span<byte> length = stackalloc byte[4];
        hmac.AppendData(Domain);
        BinaryPrimitives.WriteInt32BigEndian(length, scope.Length);
        hmac.AppendData(length);
        hmac.AppendData(scope);
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static void CheckMacKey(ReadOnlySpan<byte> macKey)
    {
        if (macKey.Length < MinMacKeyLength)
        {
            throw new ArgumentException($"the MAC key must be at least {MinMacKeyLength} bytes", nameof(macKey));
        }
    }
}
