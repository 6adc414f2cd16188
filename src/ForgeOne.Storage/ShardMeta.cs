using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>The node that owns a shard file, fenced by a monotonically increasing epoch.</summary>
/// <param name="NodeAddress">The owning node's cluster address.</param>
/// <param name="Epoch">Claims with a lower epoch than the recorded one are refused.</param>
public sealed record ShardOwner(string NodeAddress, long Epoch);

/// <summary>
/// Identity and versions of a shard file, kept in <c>shard_meta</c> under the key <c>"meta"</c>.
/// Opening checks it before anything else so a file is never used as another shard.
/// </summary>
/// <param name="Kind">Which tables the file holds.</param>
/// <param name="ShardNumber">The shard number within its kind.</param>
/// <param name="ShardCount">The shard count of the kind when the file was created; fixed for a cluster's life.</param>
/// <param name="SchemaVersion">The schema version the file's contents follow (see <see cref="IMigration"/>).</param>
/// <param name="FormatVersion">The record envelope format written into this file (<see cref="RecordEnvelope.CurrentFormat"/>).</param>
/// <param name="Owner">The last node that claimed the shard, or null if never claimed.</param>
public sealed record ShardMeta(ShardKind Kind, int ShardNumber, int ShardCount, int SchemaVersion, byte FormatVersion, ShardOwner? Owner)
{
    /// <summary>The key of the single meta record inside <c>shard_meta</c>.</summary>
    public static ReadOnlySpan<byte> Key => "meta"u8;

    // Encoding versions of this record's own payload (inside the envelope): 2 = 1 plus a
    // trailing record MAC (written once the shard's keys are attached to the store).
    private const byte EncodingVersion = 1;
    private const byte TaggedEncodingVersion = 2;

    /// <summary>
    /// Hand-written binary payload, so no CLR type names reach the disk:
    /// <code>
    ///   u8 encoding(1|2) | u8 kind | i32 number | i32 count | i32 schema | u8 format
    ///   | u8 hasOwner | [i64 epoch | u16 addressLength | utf8 address]   (little-endian)
    ///   | encoding 2: tag (record MAC over every byte before it, table shard_meta, key "meta")
    /// </code>
    /// </summary>
    public byte[] Encode(IRecordAuthenticator? mac = null)
    {
        var address = Owner is null ? [] : Encoding.UTF8.GetBytes(Owner.NodeAddress);
        var length = 1 + 1 + 4 + 4 + 4 + 1 + 1 + (Owner is null ? 0 : 8 + 2 + address.Length);
        var buffer = new byte[length + (mac?.TagLength ?? 0)];
        var span = buffer.AsSpan();
        span[0] = mac is null ? EncodingVersion : TaggedEncodingVersion;
        span[1] = (byte)Kind;
        BinaryPrimitives.WriteInt32LittleEndian(span[2..], ShardNumber);
        BinaryPrimitives.WriteInt32LittleEndian(span[6..], ShardCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[10..], SchemaVersion);
        span[14] = FormatVersion;
        span[15] = Owner is null ? (byte)0 : (byte)1;
        if (Owner is not null)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[16..], Owner.Epoch);
            BinaryPrimitives.WriteUInt16LittleEndian(span[24..], checked((ushort)address.Length));
            address.CopyTo(span[26..]);
        }

        mac?.Compute(Tables.ShardMeta, Key, span[..length], span[length..]);
        return buffer;
    }

    /// <summary>True when the payload carries a record MAC (encoding 2).</summary>
    public static bool IsTagged(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == TaggedEncodingVersion;

    /// <summary>True when a tagged payload's MAC verifies under <paramref name="mac"/>.</summary>
    public static bool VerifyTag(ReadOnlySpan<byte> payload, IRecordAuthenticator mac) =>
        IsTagged(payload) && payload.Length > mac.TagLength && mac.Verify(Tables.ShardMeta, Key, payload[..^mac.TagLength], payload[^mac.TagLength..]);

    /// <summary>Decodes <see cref="Encode"/>'s output (the tag, if any, is not checked here); a malformed payload is a corrupt file.</summary>
    public static ShardMeta Decode(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 16)
        {
            throw Corrupt($"shard_meta record is {payload.Length} bytes, too short");
        }

        if (payload[0] is not (EncodingVersion or TaggedEncodingVersion))
        {
            throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"shard_meta encoding {payload[0]} is unknown (this code reads {EncodingVersion} and {TaggedEncodingVersion})");
        }

        var kind = (ShardKind)payload[1];
        if (!Enum.IsDefined(kind))
        {
            throw Corrupt($"shard_meta names unknown kind {payload[1]}");
        }

        ShardOwner? owner = null;
        if (payload[15] == 1)
        {
            if (payload.Length < 26)
            {
                throw Corrupt("shard_meta owner record is truncated");
            }

            var length = BinaryPrimitives.ReadUInt16LittleEndian(payload[24..]);
            if (payload.Length < 26 + length)
            {
                throw Corrupt("shard_meta owner address is truncated");
            }

            owner = new ShardOwner(Encoding.UTF8.GetString(payload.Slice(26, length)), BinaryPrimitives.ReadInt64LittleEndian(payload[16..]));
        }

        return new ShardMeta(
            kind,
            BinaryPrimitives.ReadInt32LittleEndian(payload[2..]),
            BinaryPrimitives.ReadInt32LittleEndian(payload[6..]),
            BinaryPrimitives.ReadInt32LittleEndian(payload[10..]),
            payload[14],
            owner);
    }

    private static ForgeOneException Corrupt(string message) => new(ErrorCodes.StorageCorruptFile, message);
}
