using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ForgeOne.Security;

/// <summary>
/// The cluster authentication key: HMAC-SHA256 keys that sign and verify
/// <see cref="PrincipalToken"/>s, one raw 32-byte file per version (<c>auth-v{n}.key</c>, 0600)
/// in the keys directory, outside the data root, created on first start like the other dev keys.
/// The newest version signs; every version present verifies, so a rotation
/// (<see cref="Rotate"/>: a new file) never invalidates tokens already issued; an old version is
/// retired by deleting its file once the longest token lifetime has passed.
/// Nodes that share the keys directory pick up another node's rotation the first time they see a
/// token of the new version (at most one directory scan per second). Thread-safe.
/// </summary>
/// <remarks>
/// Whoever holds this key can mint a token for anyone: it belongs on storage and edge nodes only,
/// never on a client member (which obtains tokens by presenting its own credential).
/// </remarks>
public sealed class AuthenticationKeyring
{
    /// <summary>Length of a raw key.</summary>
    public const int KeyLength = 32;

    private static readonly TimeSpan RescanInterval = TimeSpan.FromSeconds(1);
    private static readonly byte[] MacLabel = Encoding.ASCII.GetBytes("forgeone.principal-token.v1");

    private readonly string? _directory;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private volatile State _state;
    private long _lastScanTicks;

    private AuthenticationKeyring(string? directory, IReadOnlyDictionary<int, byte[]> keys, ILogger logger)
    {
        _directory = directory;
        _logger = logger;
        _state = new State(keys);
    }

    /// <summary>The version that signs new tokens.</summary>
    public int ActiveVersion => _state.Active;

    /// <summary>Every version that verifies, ascending.</summary>
    public IReadOnlyList<int> Versions => [.. _state.MacKeys.Keys.Order()];

    /// <summary>
    /// Loads every <c>auth-v{n}.key</c> of <paramref name="keysDirectory"/>, creating
    /// <c>auth-v1.key</c> when there is none. Refuses a directory inside <paramref name="dataRoot"/>
    /// and key files readable by others (<c>crypto.key_file_insecure</c>).
    /// </summary>
    public static AuthenticationKeyring LoadOrCreate(string keysDirectory, string? dataRoot = null, ILogger? logger = null)
    {
        var directory = KeyFiles.PrepareDirectory(keysDirectory, dataRoot);
        logger ??= NullLogger.Instance;
        var keys = Scan(directory);
        if (keys.Count == 0)
        {
            if (KeyFiles.TryCreate(PathOf(directory, 1), RandomNumberGenerator.GetBytes(KeyLength)))
            {
                Log.AuthKeyCreated(logger, 1, PathOf(directory, 1));
            }

            // Created here or by a node that won the race: read back whatever is on disk.
            keys = Scan(directory);
        }

        return new AuthenticationKeyring(directory, keys, logger);
    }

    /// <summary>A keyring held in memory only (tests, benchmarks): <paramref name="keys"/>[i] is version i + 1.</summary>
    public static AuthenticationKeyring InMemory(params byte[][] keys)
    {
        if (keys.Length == 0 || keys.Any(k => k.Length != KeyLength))
        {
            throw new ArgumentException($"At least one key of {KeyLength} bytes is required.", nameof(keys));
        }

        return new AuthenticationKeyring(null, keys.Select((k, i) => (i + 1, k)).ToDictionary(x => x.Item1, x => x.k), NullLogger.Instance);
    }

    /// <summary>A new version (a new key file when the keyring lives in a directory); it signs from now on.</summary>
    public int Rotate()
    {
        lock (_lock)
        {
            var next = _state.Active + 1;
            if (_directory is null)
            {
                var keys = _state.RawKeys.ToDictionary();
                keys[next] = RandomNumberGenerator.GetBytes(KeyLength);
                _state = new State(keys);
                return next;
            }

            while (!KeyFiles.TryCreate(PathOf(_directory, next), RandomNumberGenerator.GetBytes(KeyLength)))
            {
                next++; // another node rotated concurrently: move past its version
            }

            Log.AuthKeyRotated(_logger, next);
            _state = new State(Scan(_directory));
            return next;
        }
    }

    /// <summary>Signs <paramref name="claims"/> (whose key version is replaced by the active one).</summary>
    public PrincipalToken Sign(TokenClaims claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        var state = _state;
        return new PrincipalToken(PrincipalTokenCodec.Encode(claims with { KeyVersion = state.Active }, state.MacKeys[state.Active]));
    }

    /// <summary>
    /// Checks the token's MAC under the key version it names and parses it; expiry and
    /// revocation are the <see cref="TokenVerifier"/>'s business.
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> token, out TokenClaims? claims, out string? error)
    {
        claims = null;
        if (PrincipalTokenCodec.PeekKeyVersion(token) is not { } version)
        {
            error = "not a principal token (wrong length or format)";
            return false;
        }

        if (!TryGetMacKey(version, out var macKey))
        {
            error = $"signed with unknown authentication key version {version}";
            return false;
        }

        if (!PrincipalTokenCodec.MacMatches(token, macKey))
        {
            error = "signature does not verify (forged, altered, or signed with another cluster's key)";
            return false;
        }

        return PrincipalTokenCodec.TryDecode(token, out claims, out error);
    }

    private bool TryGetMacKey(int version, out byte[] macKey)
    {
        if (_state.MacKeys.TryGetValue(version, out macKey!))
        {
            return true;
        }

        // A version we have not seen: another node may have rotated. Rescan, but at most once a
        // second, so a stream of tokens naming random versions cannot turn into disk scans.
        if (_directory is null || version < 1)
        {
            return false;
        }

        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastScanTicks);
        if (now - last < RescanInterval.TotalMilliseconds || Interlocked.CompareExchange(ref _lastScanTicks, now, last) != last)
        {
            return false;
        }

        lock (_lock)
        {
            _state = new State(Scan(_directory));
        }

        return _state.MacKeys.TryGetValue(version, out macKey!);
    }

    private static string PathOf(string directory, int version) =>
        Path.Combine(directory, $"auth-v{version.ToString(CultureInfo.InvariantCulture)}.key");

    private static Dictionary<int, byte[]> Scan(string directory)
    {
        var keys = new Dictionary<int, byte[]>();
        foreach (var path in Directory.EnumerateFiles(directory, "auth-v*.key"))
        {
            var digits = Path.GetFileName(path)["auth-v".Length..^".key".Length];
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
            {
                continue;
            }

            var key = KeyFiles.Read(path);
            if (key.Length != KeyLength)
            {
                throw new ForgeOneException(ErrorCodes.CryptoKeyUnavailable, $"authentication key file '{path}' holds {key.Length} bytes, not {KeyLength}");
            }

            keys[version] = key;
        }

        return keys;
    }

    // Raw keys never sign directly: each version's MAC key is HMAC(raw, label), so a token MAC
    // can never be confused with any other use of the same bytes.
    private sealed class State
    {
        public State(IReadOnlyDictionary<int, byte[]> raw)
        {
            RawKeys = raw.ToFrozenDictionary();
            MacKeys = raw.ToFrozenDictionary(kv => kv.Key, kv => HMACSHA256.HashData(kv.Value, MacLabel));
            Active = raw.Count == 0 ? 0 : raw.Keys.Max();
        }

        public FrozenDictionary<int, byte[]> RawKeys { get; }

        public FrozenDictionary<int, byte[]> MacKeys { get; }

        public int Active { get; }
    }
}
