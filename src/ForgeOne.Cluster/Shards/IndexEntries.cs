using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// Index entries (and the few other stored values that are not encrypted: the id high-water
/// mark, the request expiry index) carry the shard's record MAC after their value:
/// <c>value | tag(16)</c>, over table, key and value. Without it anyone with the file could add
/// an entry under another topic's token, point one at another record, or lower the high-water
/// mark so new ids overwrite old records; the envelope checksum is no defence, it is public.
/// </summary>
public static class IndexEntries
{
    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> with its tag.</summary>
    public static void Put(IWriteTransaction txn, IShardSecurity security, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        var mac = security.Mac;
        Span<byte> tagged = stackalloc byte[value.Length + mac.TagLength];
        value.CopyTo(tagged);
        mac.Compute(table, key, value, tagged[value.Length..]);
        txn.Put(table, key, tagged);
    }

    /// <summary>The value of a stored entry after its tag verified; <c>crypto.tampered</c> naming store, table and key otherwise.</summary>
    public static ReadOnlySpan<byte> Open(IShardSecurity security, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored) =>
        TaggedValue.TryOpen(security.Mac, table, key, stored, out var value)
            ? value
            : throw Tampered(security, table, key);

    /// <summary>True when the stored entry's tag verifies.</summary>
    public static bool Verify(IShardSecurity security, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> stored) =>
        TaggedValue.TryOpen(security.Mac, table, key, stored, out _);

    /// <summary>The error for an entry whose tag does not verify.</summary>
    public static ForgeOneException Tampered(IShardSecurity security, string table, ReadOnlySpan<byte> key)
    {
        var hex = KeyCodec.ToHex(key);
        return new ForgeOneException(new ForgeOneError(ErrorCodes.CryptoTampered,
            $"store {security.ChainId}, table '{table}', key {hex}: the entry's record MAC does not verify (added, edited or moved without the shard's key)").At(security.ChainId, table, hex));
    }
}
