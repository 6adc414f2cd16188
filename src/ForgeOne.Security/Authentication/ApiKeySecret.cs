using System.Security.Cryptography;
using System.Text;

namespace ForgeOne.Security;

/// <summary>
/// The API key format and its hash. A key reads <c>fo_live_&lt;id&gt;_&lt;secret&gt;</c>: the
/// prefix makes a leaked key recognizable to secret scanners, the id (16 lower-case hex
/// characters) names the stored record without revealing anything, and the secret is 32 random
/// bytes (base64url). The bootstrap admin key (<c>fo_admin_&lt;secret&gt;</c>) has the fixed id
/// <see cref="BootstrapId"/>.
/// </summary>
/// <remarks>
/// Why HMAC-SHA256 under a per-key salt and not a slow password hash (PBKDF2, Argon2): the secret
/// is 256 random bits, not something a person chose, so there is nothing to guess and stretching
/// would only make every cache miss cost milliseconds of CPU. The salt keeps two stores (or two
/// keys) from ever sharing a hash; the comparison is constant-time.
/// </remarks>
public static class ApiKeySecret
{
    /// <summary>Prefix of every key the store issues.</summary>
    public const string LivePrefix = "fo_live_";

    /// <summary>Prefix of the bootstrap admin key.</summary>
    public const string BootstrapPrefix = "fo_admin_";

    /// <summary>Id of the bootstrap admin key's record.</summary>
    public const string BootstrapId = "bootstrap";

    /// <summary>Length of an issued key id (hex characters).</summary>
    public const int IdLength = 16;

    /// <summary>Salt length in bytes.</summary>
    public const int SaltLength = 16;

    /// <summary>Hash length in bytes.</summary>
    public const int HashLength = 32;

    // 32 bytes base64url without padding.
    private const int SecretLength = 43;

    /// <summary>A new key: its id, the whole key (shown once, to its creator), a salt and the salted hash to store.</summary>
    public static (string Id, string Key, byte[] Salt, byte[] Hash) Generate()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        var key = LivePrefix + id + "_" + NewSecret();
        var salt = RandomNumberGenerator.GetBytes(SaltLength);
        return (id, key, salt, Hash(salt, key));
    }

    /// <summary>A new bootstrap admin key (<c>fo_admin_...</c>).</summary>
    public static string NewBootstrapKey() => BootstrapPrefix + NewSecret();

    /// <summary>
    /// The record id a presented key names, or false when it is not shaped like a ForgeOne key
    /// (nothing is looked up for those).
    /// </summary>
    public static bool TryParseId(string? key, out string id)
    {
        id = string.Empty;
        if (key is null)
        {
            return false;
        }

        if (key.StartsWith(BootstrapPrefix, StringComparison.Ordinal))
        {
            id = BootstrapId;
            return IsSecret(key.AsSpan(BootstrapPrefix.Length));
        }

        if (!key.StartsWith(LivePrefix, StringComparison.Ordinal) || key.Length != LivePrefix.Length + IdLength + 1 + SecretLength || key[LivePrefix.Length + IdLength] != '_')
        {
            return false;
        }

        var candidate = key.AsSpan(LivePrefix.Length, IdLength);
        if (!IsId(candidate) || !IsSecret(key.AsSpan(LivePrefix.Length + IdLength + 1)))
        {
            return false;
        }

        id = candidate.ToString();
        return true;
    }

    /// <summary>True for an id the store issues (or the bootstrap id).</summary>
    public static bool IsId(ReadOnlySpan<char> id) =>
        id.SequenceEqual(BootstrapId) || (id.Length == IdLength && !id.ContainsAnyExcept("0123456789abcdef"));

    /// <summary>HMAC-SHA256 of the whole presented key under <paramref name="salt"/>.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> salt, string key) => HMACSHA256.HashData(salt, Encoding.UTF8.GetBytes(key));

    /// <summary>Does <paramref name="key"/> hash to <paramref name="hash"/> under <paramref name="salt"/>? Constant-time in the hash.</summary>
    public static bool Matches(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> hash, string key) =>
        hash.Length == HashLength && CryptographicOperations.FixedTimeEquals(Hash(salt, key), hash);

    /// <summary>How a key appears in logs and listings: its prefix and id, never the secret.</summary>
    public static string Redact(string key) =>
        TryParseId(key, out var id) ? (id == BootstrapId ? BootstrapPrefix + "…" : LivePrefix + id + "_…") : "(not a ForgeOne key)";

    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // The bootstrap secret predates this format, so any base64url run of sane length is accepted for it.
    private static bool IsSecret(ReadOnlySpan<char> secret) =>
        secret.Length is >= 32 and <= 128 && !secret.ContainsAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}
