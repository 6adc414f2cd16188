using ForgeOne.Cluster.Shards.Logs;
using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Cluster.Tests;

public sealed class LogRecordCodecTests
{
    [Fact]
    public void Codec_RoundTripsEveryField()
    {
        var metadata = new Dictionary<string, string> { ["k"] = "v", ["ü"] = "ß" };
        var ts = DateTimeOffset.FromUnixTimeMilliseconds(1_750_000_000_123);
        var entry = new LogEntry(RecordId.Create(99, 3, 7), "orders", ts, Severity.Error, "boom ✓", metadata, "cp-1",
            ContentHashes.ForLog("orders", ts, Severity.Error, "boom ✓", metadata, "cp-1"));
        var decoded = LogRecordCodec.Decode(LogRecordCodec.Encode(entry));
        Assert.Equal(entry.Id, decoded.Id);
        Assert.Equal(entry.Timestamp, decoded.Timestamp);
        Assert.Equal(entry.Message, decoded.Message);
        Assert.Equal(entry.CheckpointMarker, decoded.CheckpointMarker);
        Assert.Equal(metadata, decoded.Metadata);
        Assert.Equal(entry.ContentHash, decoded.ContentHash);
    }

    [Fact]
    public void Codec_RejectsTruncatedAndUnknownVersions()
    {
        var entry = new LogEntry(RecordId.Create(1, 0, 0), "t", DateTimeOffset.UnixEpoch, Severity.Info, "m", new Dictionary<string, string>(), null, new byte[32]);
        var bytes = LogRecordCodec.Encode(entry);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => LogRecordCodec.Decode(bytes.AsSpan(0, bytes.Length - 5))).Code);
        bytes[0] = 9;
        Assert.Equal(ErrorCodes.StorageUnknownFormat, Assert.Throws<ForgeOneException>(() => LogRecordCodec.Decode(bytes)).Code);
    }
}
