using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Security;

/// <summary>Persisted form of the keyring (docs/FORMATS.md, "Keyring").</summary>
public sealed partial class Keyring
{
    /// <summary>Format byte of a serialized keyring.</summary>
    public const byte FormatV1 = 1;

    private const int EntryLength = 4 + 1 + 8 + 8 + 8;
    private static readonly byte[] WrapLabel = Encoding.ASCII.GetBytes("forgeone.keyring.v1\0");

    /// <summary>
    /// Serializes with every data key (and the index key) wrapped under KEK <see cref="KekVersion"/>.
    /// Each wrap's associated data includes a SHA-256 of the metadata section, so editing any
    /// state, version or counter in the stored bytes makes <c>Load</c> fail.
    /// </summary>
    public byte[] Serialize(IKekProvider kek)
    {
        ArgumentNullException.ThrowIfNull(kek);
        var metaLength = 1 + 2 + Utf8.Length16(StoreId, "store id") + 4 + 4 + 4 + 2 + (_keys.Length * EntryLength);
        var meta = new byte[metaLength];
        var w = new SpanWriter(meta);
        w.U8(FormatV1);
        w.String16(StoreId);
        w.U32((uint)KekVersion);
        w.U32((uint)ActiveVersion);
        w.U32((uint)MinDecryptionVersion);
        w.U16(_keys.Length);
        foreach (var k in _keys)
        {
            w.U32((uint)k.Info.Version);
            w.U8((byte)k.Info.State);
            w.I64(k.Info.CreatedAt.UtcTicks);
            w.I64(k.Info.StateChangedAt.UtcTicks);
            w.I64(k.Info.Encryptions);
        }

        var digest = SHA256.HashData(meta);
        var wraps = new List<byte[]>(_keys.Length + 1) { kek.Wrap(KekVersion, IndexKey, WrapAad(digest, 0)) };
        wraps.AddRange(_keys.Select(k => k.Material is null ? [] : kek.Wrap(KekVersion, k.Material, WrapAad(digest, k.Info.Version))));

        var output = new byte[meta.Length + wraps.Sum(x => 2 + x.Length)];
        var o = new SpanWriter(output);
        o.Bytes(meta);
        foreach (var wrap in wraps)
        {
            o.Bytes16(wrap);
        }

        return output;
    }

    /// <summary>
    /// Loads a keyring and checks it belongs to <paramref name="expectedStoreId"/>: a keyring blob
    /// copied into another shard's <c>keys</c> table is refused with <c>crypto.wrong_key</c>.
    /// </summary>
    public static Keyring Load(ReadOnlySpan<byte> data, IKekProvider kek, string expectedStoreId)
    {
        var ring = Load(data, kek);
        if (!string.Equals(ring.StoreId, expectedStoreId, StringComparison.Ordinal))
        {
            throw new ForgeOneException(ErrorCodes.CryptoWrongKey, $"keyring belongs to store {ring.StoreId}, not {expectedStoreId}");
        }

        return ring;
    }

    /// <summary>
    /// Loads a serialized keyring. Errors: <c>crypto.unknown_format</c> (version byte, structure),
    /// <c>crypto.key_unavailable</c> (KEK version not held), <c>crypto.wrong_key</c> (wrong KEK or modified bytes).
    /// </summary>
    public static Keyring Load(ReadOnlySpan<byte> data, IKekProvider kek)
    {
        ArgumentNullException.ThrowIfNull(kek);
        var r = new SpanReader(data, ErrorCodes.CryptoUnknownFormat, "keyring");
        var (storeId, kekVersion, active, min, infos) = ReadMetadata(ref r);
        var count = infos.Length;
        var digest = SHA256.HashData(data[..r.Position]);
        var indexKey = kek.Unwrap(r.Bytes16(), WrapAad(digest, 0));
        var keys = new DataKey[count];
        for (var i = 0; i < count; i++)
        {
            var wrapped = r.Bytes16();
            var material = wrapped.IsEmpty ? null : kek.Unwrap(wrapped, WrapAad(digest, infos[i].Version));
            keys[i] = new DataKey(infos[i], material);
        }

        r.End();
        Validate(storeId, active, min, keys, ref r);
        return new Keyring(storeId, kekVersion, active, min, keys, indexKey);
    }

    /// <summary>
    /// The keyring's versions without unwrapping anything (no KEK needed): which KEK version its
    /// data keys are wrapped under and which data-key versions it holds. Backups record these as
    /// the key versions a restore needs. Errors: <c>crypto.unknown_format</c>.
    /// </summary>
    public static KeyringInfo ReadInfo(ReadOnlySpan<byte> data)
    {
        var r = new SpanReader(data, ErrorCodes.CryptoUnknownFormat, "keyring");
        var (storeId, kekVersion, active, min, infos) = ReadMetadata(ref r);
        return new KeyringInfo(storeId, kekVersion, active, min, infos);
    }

    private static (string StoreId, int KekVersion, int Active, int Min, KeyVersionInfo[] Infos) ReadMetadata(ref SpanReader r)
    {
        var format = r.U8();
        if (format != FormatV1)
        {
            throw new ForgeOneException(ErrorCodes.CryptoUnknownFormat, $"keyring format {format} is not supported (expected {FormatV1})");
        }

        var storeId = r.String16();
        var kekVersion = (int)r.U32();
        var active = (int)r.U32();
        var min = (int)r.U32();
        var count = r.U16();
        var infos = new KeyVersionInfo[count];
        for (var i = 0; i < count; i++)
        {
            var version = (int)r.U32();
            var state = (KeyState)r.U8();
            var created = new DateTimeOffset(ReadTicks(ref r), TimeSpan.Zero);
            var changed = new DateTimeOffset(ReadTicks(ref r), TimeSpan.Zero);
            infos[i] = new KeyVersionInfo(version, state, created, changed, r.I64());
        }

        return (storeId, kekVersion, active, min, infos);
    }

    private static long ReadTicks(ref SpanReader r)
    {
        var ticks = r.I64();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw r.Fail("timestamp out of range");
        }

        return ticks;
    }

    // The wraps authenticate the metadata, so this only guards against a buggy writer, but a
    // keyring that breaks an invariant must never be used to encrypt.
    private static void Validate(string storeId, int active, int min, DataKey[] keys, ref SpanReader r)
    {
        if (storeId.Length == 0 || keys.Length == 0)
        {
            throw r.Fail("no store id or no keys");
        }

        for (var i = 0; i < keys.Length; i++)
        {
            var info = keys[i].Info;
            var expectedState = info.Version == active ? KeyState.Active : info.Version < min ? info.State : KeyState.DecryptOnly;
            var ok = info.Version == i + 1
                && Enum.IsDefined(info.State)
                && (keys[i].Material is null) == (info.State == KeyState.Destroyed)
                && (info.Version < min ? info.State is KeyState.Retired or KeyState.Destroyed : info.State == expectedState);
            if (!ok)
            {
                throw r.Fail($"data key v{info.Version} (entry {i + 1}) is inconsistent with active v{active} and min v{min}");
            }
        }

        if (active < min || active != keys.Length)
        {
            throw r.Fail($"active v{active} must be the newest version and >= min v{min}");
        }
    }

    private static byte[] WrapAad(ReadOnlySpan<byte> metaDigest, int version)
    {
        var aad = new byte[WrapLabel.Length + 32 + 4];
        WrapLabel.CopyTo(aad, 0);
        metaDigest.CopyTo(aad.AsSpan(WrapLabel.Length));
        BinaryPrimitives.WriteUInt32BigEndian(aad.AsSpan(WrapLabel.Length + 32), (uint)version);
        return aad;
    }
}
