using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>
/// The immutable set of data keys (DEKs, AES-256) of one shard, plus its blind-index key.
/// Every operation returns a new <see cref="Keyring"/> and the <see cref="KeyEvent"/>s it
/// produced; the caller swaps the value in, persists <see cref="Serialize"/> in the shard's
/// <c>keys</c> table (in the same transaction as the audit records for the events), and only
/// then uses it. Key bytes never leave the library: ciphers are built from the keyring.
/// </summary>
public sealed partial class Keyring
{
    private const int DekLength = 32;
    private static readonly byte[] FingerprintLabel = Encoding.ASCII.GetBytes("forgeone.key-fingerprint.v1");

    private readonly DataKey[] _keys; // ascending by version

    private Keyring(string storeId, int kekVersion, int activeVersion, int minDecryptionVersion, DataKey[] keys, byte[] indexKey)
    {
        StoreId = storeId;
        KekVersion = kekVersion;
        ActiveVersion = activeVersion;
        MinDecryptionVersion = minDecryptionVersion;
        _keys = keys;
        IndexKey = indexKey;
        Versions = Array.AsReadOnly(keys.Select(k => k.Info).ToArray());
    }

    /// <summary>The shard this keyring belongs to (e.g. <c>logs-0003</c>); bound into every wrapped key.</summary>
    public string StoreId { get; }

    /// <summary>KEK version the data keys are wrapped under when serialized.</summary>
    public int KekVersion { get; }

    /// <summary>The version new records are encrypted with.</summary>
    public int ActiveVersion { get; }

    /// <summary>Versions below this are retired (or destroyed) and no longer decrypt.</summary>
    public int MinDecryptionVersion { get; }

    /// <summary>Every version, ascending, without key material.</summary>
    public IReadOnlyList<KeyVersionInfo> Versions { get; }

    /// <summary>The active version's info.</summary>
    public KeyVersionInfo Active => Find(ActiveVersion)!.Info;

    /// <summary>Blind-index key: created with the keyring and never rotated (rotating it would re-key every index entry).</summary>
    internal byte[] IndexKey { get; }

    /// <summary>Creates a keyring with version 1 active.</summary>
    public static KeyringChange Create(string storeId, IKekProvider kek, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(kek);
        ArgumentNullException.ThrowIfNull(time);
        if (string.IsNullOrEmpty(storeId))
        {
            throw Errors.Invalid("keyring store id must not be empty");
        }

        Utf8.Length16(storeId, "store id");
        var now = time.GetUtcNow();
        var first = DataKey.Generate(1, now);
        var ring = new Keyring(storeId, kek.CurrentVersion, 1, 1, [first], RandomNumberGenerator.GetBytes(DekLength));
        return new KeyringChange(ring, [new KeyEvent(KeyEventKind.Created, storeId, 1, ring.KekVersion, now, "keyring created with data key v1")]);
    }

    /// <summary>Makes a new active version; the previous active one becomes decrypt-only.</summary>
    public KeyringChange Rotate(TimeProvider time, string reason)
    {
        var now = time.GetUtcNow();
        var next = _keys[^1].Info.Version + 1;
        var keys = _keys
            .Select(k => k.Info.Version == ActiveVersion ? k.With(KeyState.DecryptOnly, now) : k)
            .Append(DataKey.Generate(next, now))
            .ToArray();
        var ring = new Keyring(StoreId, KekVersion, next, MinDecryptionVersion, keys, IndexKey);
        return new KeyringChange(ring, [new KeyEvent(KeyEventKind.Rotated, StoreId, next, KekVersion, now, $"v{ActiveVersion} -> v{next}: {reason}")]);
    }

    /// <summary>
    /// Raises <c>min_decryption_version</c>: every decrypt-only version below it becomes retired.
    /// Call it after rewrap has moved their records. Monotonic; cannot retire the active version.
    /// </summary>
    public KeyringChange Retire(int minDecryptionVersion, TimeProvider time)
    {
        if (minDecryptionVersion <= MinDecryptionVersion || minDecryptionVersion > ActiveVersion)
        {
            throw new ForgeOneException(ErrorCodes.CryptoInvalidKeyState,
                $"min_decryption_version must rise above {MinDecryptionVersion} and stay <= the active version {ActiveVersion}; got {minDecryptionVersion}");
        }

        var now = time.GetUtcNow();
        var events = new List<KeyEvent>();
        var keys = _keys.Select(k =>
        {
            if (k.Info.Version < minDecryptionVersion && k.Info.State == KeyState.DecryptOnly)
            {
                events.Add(new KeyEvent(KeyEventKind.Retired, StoreId, k.Info.Version, KekVersion, now, $"min_decryption_version {MinDecryptionVersion} -> {minDecryptionVersion}"));
                return k.With(KeyState.Retired, now);
            }

            return k;
        }).ToArray();
        return new KeyringChange(new Keyring(StoreId, KekVersion, ActiveVersion, minDecryptionVersion, keys, IndexKey), events);
    }

    /// <summary>
    /// Erases a retired version's key material. Records still encrypted with it become
    /// unreadable for good (crypto-shredding). The old <see cref="Keyring"/> value still holds the
    /// key in memory until it is dropped; the persisted form loses it at the next serialize.
    /// </summary>
    public KeyringChange Destroy(int version, TimeProvider time)
    {
        var key = Find(version) ?? throw new ForgeOneException(ErrorCodes.CryptoUnknownVersion, $"data key v{version} is not in keyring {StoreId}");
        if (key.Info.State != KeyState.Retired)
        {
            throw new ForgeOneException(ErrorCodes.CryptoInvalidKeyState, $"data key v{version} is {key.Info.State}; only a retired version can be destroyed");
        }

        var now = time.GetUtcNow();
        var keys = _keys.Select(k => k.Info.Version == version ? k.Destroyed(now) : k).ToArray();
        return new KeyringChange(
            new Keyring(StoreId, KekVersion, ActiveVersion, MinDecryptionVersion, keys, IndexKey),
            [new KeyEvent(KeyEventKind.Destroyed, StoreId, version, KekVersion, now, $"data key v{version} material erased")]);
    }

    /// <summary>
    /// Moves the keyring to the provider's current KEK version (after <see cref="IKekProvider.Rotate"/>).
    /// Data keys stay the same, so no record is touched; the next <see cref="Serialize"/> wraps under the new KEK.
    /// </summary>
    public KeyringChange RewrapKek(IKekProvider kek, TimeProvider time)
    {
        var target = kek.CurrentVersion;
        if (target == KekVersion)
        {
            return new KeyringChange(this, []);
        }

        kek.Get(target); // fail now, not at serialize, if the new KEK is unavailable
        var now = time.GetUtcNow();
        return new KeyringChange(
            new Keyring(StoreId, target, ActiveVersion, MinDecryptionVersion, _keys, IndexKey),
            [new KeyEvent(KeyEventKind.KekRewrapped, StoreId, ActiveVersion, target, now, $"{_keys.Count(k => k.Material is not null)} data keys rewrapped KEK v{KekVersion} -> v{target}")]);
    }

    /// <summary>The audit event for a finished rewrap batch (records moved from <paramref name="fromVersion"/> to the active version).</summary>
    public KeyEvent RecordsRewrapped(int fromVersion, long records, TimeProvider time) =>
        new(KeyEventKind.RecordsRewrapped, StoreId, ActiveVersion, KekVersion, time.GetUtcNow(), $"{records} records rewrapped v{fromVersion} -> v{ActiveVersion}");

    /// <summary>Folds live usage counts into the persisted ones (no event). Counts never go down.</summary>
    public Keyring WithUsage(KeyUsage usage)
    {
        var keys = _keys.Select(k =>
        {
            var live = usage.Get(k.Info.Version);
            return live > k.Info.Encryptions ? k.WithEncryptions(live) : k;
        }).ToArray();
        return new Keyring(StoreId, KekVersion, ActiveVersion, MinDecryptionVersion, keys, IndexKey);
    }

    /// <summary>Info for <paramref name="version"/>, or null.</summary>
    public KeyVersionInfo? GetVersion(int version) => Find(version)?.Info;

    /// <inheritdoc />
    public override string ToString() => $"Keyring {StoreId}: active v{ActiveVersion}, min v{MinDecryptionVersion}, {_keys.Length} versions, KEK v{KekVersion}";

    internal DataKey? Find(int version)
    {
        // Versions are dense 1..n, so index directly; fall back to a scan if that ever changes.
        if (version >= 1 && version <= _keys.Length && _keys[version - 1].Info.Version == version)
        {
            return _keys[version - 1];
        }

        return Array.Find(_keys, k => k.Info.Version == version);
    }

    internal IReadOnlyList<DataKey> Keys => _keys;

    /// <summary>A data key with its material; internal so key bytes never cross the library boundary.</summary>
    internal sealed class DataKey
    {
        public DataKey(KeyVersionInfo info, byte[]? material)
        {
            Info = info;
            Material = material;
            Fingerprint = material is null ? 0 : ComputeFingerprint(material);
        }

        public KeyVersionInfo Info { get; }

        /// <summary>Null once destroyed.</summary>
        public byte[]? Material { get; }

        /// <summary>
        /// 32 bits of HMAC(key, label): in each ciphertext header so a ciphertext from another
        /// shard's key with the same version number is reported as "wrong key", not "tampered".
        /// </summary>
        public uint Fingerprint { get; }

        public static DataKey Generate(int version, DateTimeOffset now) =>
            new(new KeyVersionInfo(version, KeyState.Active, now, now, 0), RandomNumberGenerator.GetBytes(DekLength));

        public DataKey With(KeyState state, DateTimeOffset now) => new(Info with { State = state, StateChangedAt = now }, Material);

        public DataKey WithEncryptions(long encryptions) => new(Info with { Encryptions = encryptions }, Material);

        public DataKey Destroyed(DateTimeOffset now) => new(Info with { State = KeyState.Destroyed, StateChangedAt = now }, null);

        private static uint ComputeFingerprint(byte[] key)
        {
            Span<byte> mac = stackalloc byte[32];
            HMACSHA256.HashData(key, FingerprintLabel, mac);
            return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mac);
        }
    }
}
