using System.Security.Cryptography;
using System.Text;

namespace ForgeOne.Security;

/// <summary>
/// Blind index: index keys hold <c>HMAC-SHA256(k, UTF-8 value)</c> truncated to 16 bytes
/// instead of plaintext topic names. <c>k = HKDF-SHA256(keyring index key, info
/// "forgeone.blind-index.v1.{purpose}")</c>. The index key belongs to the shard's keyring and
/// never rotates with the data keys, so tokens stay stable across rotations; since a topic
/// always routes to the same shard, the owner shard computes the token for queries too.
/// Values are hashed exactly (no case folding): callers normalize first if they want to.
/// </summary>
public sealed class BlindIndex
{
    /// <summary>Token length in bytes (128 bits: collisions are negligible; the index key stays short).</summary>
    public const int TokenLength = 16;

    private readonly byte[] _key = new byte[32];

    /// <param name="keyring">The shard's keyring (its index key).</param>
    /// <param name="purpose">Separates token spaces, e.g. <c>topic</c> or <c>blob-name</c>.</param>
    public BlindIndex(Keyring keyring, string purpose = "topic")
    {
        ArgumentNullException.ThrowIfNull(keyring);
        ArgumentException.ThrowIfNullOrEmpty(purpose);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, keyring.IndexKey, _key, salt: [], info: Encoding.UTF8.GetBytes("forgeone.blind-index.v1." + purpose));
    }

    /// <summary>The token of <paramref name="value"/>.</summary>
    public byte[] Token(string value)
    {
        var token = new byte[TokenLength];
        Token(value, token);
        return token;
    }

    /// <summary>Writes the token of <paramref name="value"/> into <paramref name="destination"/> (16 bytes) without allocating for short values.</summary>
    public void Token(string value, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (destination.Length < TokenLength)
        {
            throw new ArgumentException($"destination must hold {TokenLength} bytes", nameof(destination));
        }

        var length = Encoding.UTF8.GetByteCount(value);
        var bytes = length <= 512 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(value, bytes);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, bytes, mac);
        mac[..TokenLength].CopyTo(destination);
    }
}
