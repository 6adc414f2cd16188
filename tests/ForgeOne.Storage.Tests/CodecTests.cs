using ForgeOne.Common;

namespace ForgeOne.Storage.Tests;

/// <summary>Pure tests of the byte formats: key encodings, the record envelope, shard_meta.</summary>
public sealed class CodecTests
{
    [Fact]
    public void KeyCodec_Int64_SortsBytewiseInNumericOrder()
    {
        long[] values = [long.MinValue, -1_000_000, -1, 0, 1, 255, 256, 1_764_000_000_000, long.MaxValue];
        var keys = values.Select(KeyCodec.Int64).ToList();

        var sorted = keys.OrderBy(k => k, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();

        Assert.Equal(keys, sorted);
        Assert.Equal(values, keys.Select(k => KeyCodec.ReadInt64(k)));
    }

    [Fact]
    public void KeyCodec_Composite_SortsByTopicThenTimeThenId()
    {
        var a = KeyCodec.Composite(1, 500, 9);
        var b = KeyCodec.Composite(1, 501, 0);
        var c = KeyCodec.Composite(2, -5, 0);

        Assert.True(a.AsSpan().SequenceCompareTo(b) < 0);
        Assert.True(b.AsSpan().SequenceCompareTo(c) < 0);
        Assert.Equal(24, a.Length);
        Assert.Equal(ulong.MaxValue, KeyCodec.ReadUInt64(KeyCodec.UInt64(ulong.MaxValue)));
    }

    [Fact]
    public void Envelope_RoundTrips_WithFormatByteFirst()
    {
        var wrapped = RecordEnvelope.Wrap("key"u8, "payload"u8);

        Assert.Equal(RecordEnvelope.CurrentFormat, wrapped[0]);
        Assert.Equal(RecordEnvelope.HeaderSize + 7, wrapped.Length);
        Assert.Null(RecordEnvelope.Verify("key"u8, wrapped));
        Assert.Equal("payload"u8.ToArray(), RecordEnvelope.Unwrap("logs", "key"u8, wrapped).ToArray());
    }

    [Fact]
    public void Envelope_Format1_WithXxHash32_IsStillRead()
    {
        // As earlier builds wrote it: format 1, XxHash32 of the payload seeded with XxHash32 of the key.
        var payload = "payload"u8.ToArray();
        var seed = unchecked((int)System.IO.Hashing.XxHash32.HashToUInt32("key"u8));
        var checksum = System.IO.Hashing.XxHash32.HashToUInt32(payload, seed);
        byte[] stored = [1, (byte)checksum, (byte)(checksum >> 8), (byte)(checksum >> 16), (byte)(checksum >> 24), .. payload];

        Assert.Equal(2, RecordEnvelope.CurrentFormat);
        Assert.Equal(payload, RecordEnvelope.Unwrap("logs", "key"u8, stored).ToArray());
        stored[^1] ^= 0x01;
        Assert.Equal(ErrorCodes.StorageCorruptRecord, RecordEnvelope.Verify("key"u8, stored)?.Code);
    }

    [Fact]
    public void Envelope_UnderAnotherKey_FailsVerification()
    {
        var wrapped = RecordEnvelope.Wrap("key-1"u8, "payload"u8);

        var error = Assert.Throws<ForgeOneException>(() => RecordEnvelope.Unwrap("logs", "key-2"u8, wrapped).ToArray());
        Assert.Equal(ErrorCodes.StorageCorruptRecord, error.Code);
        Assert.Contains(KeyCodec.ToHex("key-2"u8), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]  // checksum byte
    [InlineData(5)]  // first payload byte
    [InlineData(11)] // last payload byte
    public void Envelope_WithAnyFlippedBit_FailsVerification(int index)
    {
        var wrapped = RecordEnvelope.Wrap("k"u8, "payload"u8);
        wrapped[index] ^= 0x04;

        Assert.Equal(ErrorCodes.StorageCorruptRecord, RecordEnvelope.Verify("k"u8, wrapped)?.Code);
    }

    [Fact]
    public void Envelope_WithUnknownFormatOrTooShort_IsRefusedWithItsCode()
    {
        var wrapped = RecordEnvelope.Wrap("k"u8, "payload"u8);
        wrapped[0] = 3;

        Assert.Equal(ErrorCodes.StorageUnknownFormat, RecordEnvelope.Verify("k"u8, wrapped)?.Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, RecordEnvelope.Verify("k"u8, [1, 2, 3])?.Code);
    }

    [Fact]
    public void ShardMeta_RoundTrips_WithAndWithoutOwner()
    {
        var unowned = new ShardMeta(ShardKind.Blobs, 12, 64, 3, RecordEnvelope.CurrentFormat, null);
        var owned = unowned with { Owner = new ShardOwner("akka.tcp://forgeone@nöde-ä:4053", long.MaxValue) };

        Assert.Equal(unowned, ShardMeta.Decode(unowned.Encode()));
        Assert.Equal(owned, ShardMeta.Decode(owned.Encode()));
    }

    [Fact]
    public void ShardMeta_Malformed_IsACorruptFile()
    {
        var encoded = new ShardMeta(ShardKind.Logs, 1, 2, 1, 1, new ShardOwner("node", 1)).Encode();

        Assert.Equal(ErrorCodes.StorageCorruptFile, Assert.Throws<ForgeOneException>(() => ShardMeta.Decode(encoded.AsSpan(0, 20))).Code);
        encoded[1] = 99;
        Assert.Equal(ErrorCodes.StorageCorruptFile, Assert.Throws<ForgeOneException>(() => ShardMeta.Decode(encoded)).Code);
    }

    [Fact]
    public void Tables_ForEachKind_MatchTheSchema()
    {
        Assert.Equal(["metadata", "snapshots", "metrics", "settings", "api_keys", "audit", "keys", "schema_history", "shard_meta"], Tables.For(ShardKind.System));
        Assert.Equal(["logs", "log_index", "checkpoints", "requests", "request_expiry", "audit", "keys", "schema_history", "shard_meta"], Tables.For(ShardKind.Logs));
        Assert.Equal(["blob_metadata", "blob_chunks", "blob_index", "audit", "keys", "schema_history", "shard_meta"], Tables.For(ShardKind.Blobs));
        Assert.Equal(["events", "event_index", "topics", "requests", "request_expiry", "audit", "keys", "schema_history", "shard_meta"], Tables.For(ShardKind.Events));
        Assert.Equal(Path.Combine("/data", "blobs", "shard-0042.mdb"), ShardStore.PathFor("/data", ShardKind.Blobs, 42));
    }
}
