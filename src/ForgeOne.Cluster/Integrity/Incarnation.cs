using System.Buffers.Binary;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// Where a shard's current incarnation started: the head (seq, hash) an authorized rewind
/// accepted, and the seal that signed it (docs/FORMATS.md "Incarnation record"). Kept in the
/// shard's <c>keys</c> table under <c>incarnation</c> with the shard's record MAC, so the open
/// check and the scrubber start verifying there instead of at the genesis: records before it
/// were accepted as they are by the operator who ordered the rewind (a restore brings back an
/// older chain). Deleting the record only makes checks start earlier (damage before it is then
/// reported again), and it cannot be forged without the shard's key.
/// </summary>
/// <param name="Head">The head the incarnation starts at.</param>
/// <param name="SealNumber">The seal that named the shard as a new incarnation at that head.</param>
public sealed record Incarnation(ChainHead Head, long SealNumber)
{
    /// <summary>Reads the shard's incarnation record; null when it never was rewound; <c>crypto.tampered</c> when its MAC does not verify.</summary>
    public static Incarnation? Read(IReadTransaction txn, IShardSecurity security)
    {
        var key = ShardRecordVerifier.IncarnationKey;
        if (txn.Get(Tables.Keys, key) is not { } stored)
        {
            return null;
        }

        var value = IndexEntries.Open(security, Tables.Keys, key, stored);
        if (value.Length != 8 + 32 + 8)
        {
            throw IndexEntries.Tampered(security, Tables.Keys, key);
        }

        return new Incarnation(new ChainHead(security.ChainId, BinaryPrimitives.ReadInt64BigEndian(value), value.Slice(8, 32).ToArray()), BinaryPrimitives.ReadInt64BigEndian(value[40..]));
    }

    /// <summary>Stores this incarnation record (inside the transaction that also appends the rewind's audit record).</summary>
    public void Write(IWriteTransaction txn, IShardSecurity security)
    {
        Span<byte> value = stackalloc byte[48];
        BinaryPrimitives.WriteInt64BigEndian(value, Head.Seq);
        Head.Hash.CopyTo(value[8..]);
        BinaryPrimitives.WriteInt64BigEndian(value[40..], SealNumber);
        IndexEntries.Put(txn, security, Tables.Keys, ShardRecordVerifier.IncarnationKey, value);
    }
}
