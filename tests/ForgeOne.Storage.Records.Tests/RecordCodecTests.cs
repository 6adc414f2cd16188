using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Storage.Records.Tests;

public class RecordCodecTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    internal static readonly StoredLogEntry Log = new(
        new RecordId(0x0123_4567_89ab_cdef), "orders", T0, Severity.Warning, [1, 2, 3], [9, 9], "cp-1", new byte[32]);

    /// <summary>One valid encoding of every record type, and its decoder.</summary>
    internal static IEnumerable<(string Name, byte[] Bytes, Func<byte[], object> Decode)> AllEncodings() =>
    [
        ("log", Log.Encode(), b => StoredLogEntry.Decode(b)),
        ("event", new StoredEventMessage(new RecordId(7), "t", T0, Priority.High, [1], [2], null).Encode(), b => StoredEventMessage.Decode(b)),
        ("blob", new StoredBlobMetadata(new RecordId(8), [1], "text/plain", 10, T0, "alice", new byte[32], true, false, 1, 1024, [3],
            BlobState.Deleted, T0, "bob").Encode(), b => StoredBlobMetadata.Decode(b)),
        ("topic", new TopicInfo("t", T0, TimeSpan.FromDays(30), "eu", 2, true, new Dictionary<string, string> { ["a"] = "b" }).Encode(),
            b => TopicInfo.Decode(b)),
        ("checkpoint", new Checkpoint("c", 3, "t", new RecordId(5), T0, "alice").Encode(), b => Checkpoint.Decode(b)),
        ("offset", new ConsumerOffset("g", "t", new RecordId(6), 4, T0).Encode(), b => ConsumerOffset.Decode(b)),
        ("setting", new VersionedSetting("k", 2, [4, 5], T0, "admin").Encode(), b => VersionedSetting.Decode(b)),
        ("snapshot", new SnapshotRecord("s1", "backup", T0, ["/a", "/b"], new byte[32], 100, SnapshotStatus.Verified).Encode(),
            b => SnapshotRecord.Decode(b)),
        ("metric", new MetricSample("cpu", T0, 0.5, new Dictionary<string, string> { ["node"] = "n1" }).Encode(), b => MetricSample.Decode(b)),
        ("apikey", ApiKey.Encode(), b => ApiKeyRecord.Decode(b)),
    ];

    internal static readonly ApiKeyRecord ApiKey = new("0123456789abcdef", "ci", ["writer", "reader"], "acme", ["eu"], 2, T0, "admin", T0.AddDays(1),
        T0.AddHours(1), "auditor", "leaked", [1, 2, 3], new byte[32]);

    [Fact]
    public void ApiKey_RoundtripsEveryField()
    {
        var decoded = ApiKeyRecord.Decode(ApiKey.Encode());

        Assert.Equal((ApiKey.Id, ApiKey.Name, ApiKey.Tenant, ApiKey.Clearance, ApiKey.CreatedAt, ApiKey.CreatedBy, ApiKey.ExpiresAt, ApiKey.RevokedAt, ApiKey.RevokedBy, ApiKey.RevokeReason),
            (decoded.Id, decoded.Name, decoded.Tenant, decoded.Clearance, decoded.CreatedAt, decoded.CreatedBy, decoded.ExpiresAt, decoded.RevokedAt, decoded.RevokedBy, decoded.RevokeReason));
        Assert.Equal(ApiKey.Roles, decoded.Roles);
        Assert.Equal(ApiKey.Regions, decoded.Regions);
        Assert.Equal(ApiKey.Salt, decoded.Salt);
        Assert.Equal(ApiKey.Hash, decoded.Hash);
        var bare = new ApiKeyRecord("bootstrap", "b", ["admin"], null, ["*"], int.MaxValue, T0, "node:x", null, null, null, null, [9], [8]);
        Assert.Equal(bare with { }, ApiKeyRecord.Decode(bare.Encode()) with { Roles = bare.Roles, Regions = bare.Regions, Salt = bare.Salt, Hash = bare.Hash });
    }

    public static TheoryData<string> RecordNames() => new(AllEncodings().Select(e => e.Name));

    private static (byte[] Bytes, Func<byte[], object> Decode) Encoding(string name)
    {
        var e = AllEncodings().Single(e => e.Name == name);
        return (e.Bytes, e.Decode);
    }

    [Fact]
    public void LogEntry_RoundtripsEveryField()
    {
        var decoded = StoredLogEntry.Decode(Log.Encode());

        Assert.Equal((Log.Id, Log.Topic, Log.Timestamp, Log.Severity, Log.CheckpointMarker), (decoded.Id, decoded.Topic, decoded.Timestamp, decoded.Severity, decoded.CheckpointMarker));
        Assert.Equal(Log.Message, decoded.Message);
        Assert.Equal(Log.Metadata, decoded.Metadata);
        Assert.Equal(Log.ContentHash, decoded.ContentHash);
    }

    [Fact]
    public void Checkpoint_HasTheDocumentedByteLayout()
    {
        var bytes = new Checkpoint("a", 2, "t", new RecordId(3), new DateTimeOffset(4, TimeSpan.Zero), "u").Encode();

        Assert.Equal(
            "01" + "05" + "00000001" + "61" + "0000000000000002" + "00000001" + "74" + "0000000000000003" + "0000000000000004" + "00000001" + "75",
            Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void Timestamps_AreStoredAsUtcInstants()
    {
        var local = new DateTimeOffset(2026, 1, 1, 10, 0, 0, TimeSpan.FromHours(2));
        var decoded = Checkpoint.Decode(new Checkpoint("a", 0, "t", default, local, "u").Encode());

        Assert.Equal(local, decoded.CreatedAt);
        Assert.Equal(TimeSpan.Zero, decoded.CreatedAt.Offset);
    }

    [Fact]
    public void BlobMetadata_RoundtripsTombstone()
    {
        var (bytes, _) = Encoding("blob");
        var blob = StoredBlobMetadata.Decode(bytes);

        Assert.True(blob.IsTombstone);
        Assert.Equal((T0, "bob", 1024, 1), (blob.DeletedAt!.Value, blob.DeletedBy, blob.ChunkSize, blob.ChunkCount));
    }

    [Fact]
    public void TopicInfo_RoundtripsNullRetentionAndZone()
    {
        var topic = TopicInfo.Decode(new TopicInfo("t", T0, null, null, 0, false, MetadataCodec.Empty).Encode());

        Assert.Null(topic.Retention);
        Assert.Null(topic.ResidencyZone);
        Assert.Empty(topic.Metadata);
    }

    [Fact]
    public void MetricSample_KeepsNaNBits()
    {
        var sample = MetricSample.Decode(new MetricSample("m", T0, double.NaN, MetadataCodec.Empty).Encode());
        Assert.True(double.IsNaN(sample.Value));
    }

    [Theory]
    [MemberData(nameof(RecordNames))]
    public void Decode_RefusesAnUnknownFormatVersion(string name)
    {
        var (bytes, decode) = Encoding(name);
        bytes[0] = 2;

        var ex = Assert.Throws<ForgeOneException>(() => decode(bytes));
        Assert.Equal(ErrorCodes.StorageUnknownFormat, ex.Code);
    }

    [Theory]
    [MemberData(nameof(RecordNames))]
    public void Decode_RefusesEveryTruncation(string name)
    {
        var (bytes, decode) = Encoding(name);
        for (var length = 0; length < bytes.Length; length++)
        {
            var ex = Assert.Throws<ForgeOneException>(() => decode(bytes[..length]));
            Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
        }
    }

    [Theory]
    [MemberData(nameof(RecordNames))]
    public void Decode_RefusesTrailingBytes(string name)
    {
        var (bytes, decode) = Encoding(name);

        var ex = Assert.Throws<ForgeOneException>(() => decode([.. bytes, 0]));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
        Assert.Contains("trailing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RefusesARecordOfAnotherType()
    {
        var ex = Assert.Throws<ForgeOneException>(() => StoredLogEntry.Decode(Encoding("checkpoint").Bytes));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
        Assert.Contains("Checkpoint", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RefusesAnUndefinedSeverity()
    {
        var bytes = Log.Encode();
        var severityOffset = 2 + 8 + 4 + "orders".Length + 8;
        Assert.Equal((byte)Severity.Warning, bytes[severityOffset]);
        bytes[severityOffset] = 6;

        var ex = Assert.Throws<ForgeOneException>(() => StoredLogEntry.Decode(bytes));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
        Assert.Contains("Severity", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RefusesAFlagThatIsNeitherZeroNorOne()
    {
        var topicBytes = new TopicInfo("t", T0, null, null, 0, false, MetadataCodec.Empty).Encode();
        topicBytes[2 + 4 + 1 + 8] = 2; // the "has retention" flag

        var ex = Assert.Throws<ForgeOneException>(() => TopicInfo.Decode(topicBytes));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
        Assert.Contains("neither 0 nor 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RefusesInvalidUtf8()
    {
        var bytes = new Checkpoint("a", 0, "t", default, T0, "u").Encode();
        bytes[2 + 4] = 0xFF; // the name's only byte

        var ex = Assert.Throws<ForgeOneException>(() => Checkpoint.Decode(bytes));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, ex.Code);
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RefusesANegativeVersion()
    {
        var bytes = new Checkpoint("a", 0, "t", default, T0, "u").Encode();
        bytes[2 + 4 + 1] = 0x80;

        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => Checkpoint.Decode(bytes)).Code);
    }

    [Fact]
    public void Decode_RefusesAHugeLengthWithoutAllocatingIt()
    {
        var bytes = new VersionedSetting("k", 0, [], T0, "u").Encode();
        var valueLengthOffset = 2 + 4 + 1 + 8;
        bytes[valueLengthOffset] = 0x7F; // claims ~2 GiB of value

        var ex = Assert.Throws<ForgeOneException>(() => VersionedSetting.Decode(bytes));
        Assert.Contains("runs past the end", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_RefusesAStringThatIsNotValidUnicode()
    {
        Assert.ThrowsAny<ArgumentException>(() => new Checkpoint("\ud800", 0, "t", default, T0, "u").Encode());
    }

    [Fact]
    public void PeekType_NamesTheRecordKind()
    {
        Assert.Equal(RecordType.Snapshot, RecordFormat.PeekType(Encoding("snapshot").Bytes));
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => RecordFormat.PeekType([1, 0])).Code);
    }
}
