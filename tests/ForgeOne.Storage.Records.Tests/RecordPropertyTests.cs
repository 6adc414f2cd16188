using ForgeOne.Common;
using ForgeOne.Common.Model;
using FsCheck.Xunit;
using static ForgeOne.Storage.Records.Tests.Gen;

namespace ForgeOne.Storage.Records.Tests;

/// <summary>
/// Roundtrip for every record type, and "bad bytes only ever raise ForgeOneException" for
/// every decoder, over random, mutated and truncated inputs.
/// </summary>
public class RecordPropertyTests
{
    private static void AssertRoundtrips<T>(byte[] encoded, Func<byte[], T> decode, Func<T, byte[]> encode) =>
        Assert.Equal(encoded, encode(decode(encoded)));

    private static readonly Func<byte[], object>[] Decoders =
    [
        b => StoredLogEntry.Decode(b),
        b => StoredEventMessage.Decode(b),
        b => StoredBlobMetadata.Decode(b),
        b => TopicInfo.Decode(b),
        b => Checkpoint.Decode(b),
        b => ConsumerOffset.Decode(b),
        b => VersionedSetting.Decode(b),
        b => SnapshotRecord.Decode(b),
        b => MetricSample.Decode(b),
        b => MetadataCodec.Decode(b),
    ];

    private static void AssertOnlyForgeOneExceptions(byte[] data)
    {
        foreach (var decode in Decoders)
        {
            try
            {
                decode(data);
            }
            catch (ForgeOneException ex)
            {
                Assert.True(ex.Code is ErrorCodes.StorageCorruptRecord or ErrorCodes.StorageUnknownFormat, ex.Code);
            }
        }
    }

    [Property(MaxTest = 300)]
    public void LogEntry_Roundtrips(ulong id, string topic, long ticks, byte severity, byte[] message, byte[] metadata, string? marker, byte[] hash)
    {
        var entry = new StoredLogEntry(Id(id), S(topic), Ts(ticks), (Severity)(severity % 6), B(message), B(metadata), OptS(marker), B(hash));
        var decoded = StoredLogEntry.Decode(entry.Encode());

        Assert.Equal((entry.Id, entry.Topic, entry.Timestamp, entry.Severity, entry.CheckpointMarker), (decoded.Id, decoded.Topic, decoded.Timestamp, decoded.Severity, decoded.CheckpointMarker));
        Assert.Equal(entry.Message, decoded.Message);
        Assert.Equal(entry.Metadata, decoded.Metadata);
        Assert.Equal(entry.ContentHash, decoded.ContentHash);
    }

    [Property(MaxTest = 300)]
    public void EventMessage_Roundtrips(ulong id, string topic, long ticks, byte priority, byte[] payload, byte[] metadata, string? marker)
    {
        var message = new StoredEventMessage(Id(id), S(topic), Ts(ticks), (Priority)(priority % 4), B(payload), B(metadata), OptS(marker));
        AssertRoundtrips(message.Encode(), b => StoredEventMessage.Decode(b), m => m.Encode());
        Assert.Equal(message.Payload, StoredEventMessage.Decode(message.Encode()).Payload);
    }

    [Property(MaxTest = 300)]
    public void BlobMetadata_Roundtrips(ulong id, byte[] name, string contentType, long size, long created, string by, byte[] checksum,
        bool encrypted, bool compressed, int chunks, int chunkSize, byte[] metadata, byte state, long? deletedAt, string? deletedBy)
    {
        var blob = new StoredBlobMetadata(Id(id), B(name), S(contentType), NonNeg(size), Ts(created), S(by), B(checksum), encrypted, compressed,
            NonNeg(chunks), NonNeg(chunkSize), B(metadata), (BlobState)(state % 3), deletedAt is { } d ? Ts(d) : null, OptS(deletedBy));
        AssertRoundtrips(blob.Encode(), b => StoredBlobMetadata.Decode(b), m => m.Encode());
        Assert.Equal(blob.State, StoredBlobMetadata.Decode(blob.Encode()).State);
    }

    [Property(MaxTest = 300)]
    public void TopicInfo_Roundtrips(string name, long created, long? retentionTicks, string? zone, int classification, bool hold, string[] keys)
    {
        var topic = new TopicInfo(S(name), Ts(created), retentionTicks is { } r ? TimeSpan.FromTicks(NonNeg(r)) : null, OptS(zone),
            NonNeg(classification), hold, Map(keys));
        var decoded = TopicInfo.Decode(topic.Encode());

        Assert.Equal((topic.Name, topic.CreatedAt, topic.Retention, topic.ResidencyZone, topic.Classification, topic.LegalHold),
            (decoded.Name, decoded.CreatedAt, decoded.Retention, decoded.ResidencyZone, decoded.Classification, decoded.LegalHold));
        Assert.Equal(topic.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal), decoded.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Property(MaxTest = 300)]
    public void Checkpoint_Roundtrips(string name, long version, string topic, ulong position, long created, string by)
    {
        var checkpoint = new Checkpoint(S(name), NonNeg(version), S(topic), Id(position), Ts(created), S(by));
        Assert.Equal(checkpoint, Checkpoint.Decode(checkpoint.Encode()));
    }

    [Property(MaxTest = 300)]
    public void ConsumerOffset_Roundtrips(string group, string topic, ulong position, long version, long committed)
    {
        var offset = new ConsumerOffset(S(group), S(topic), Id(position), NonNeg(version), Ts(committed));
        Assert.Equal(offset, ConsumerOffset.Decode(offset.Encode()));
    }

    [Property(MaxTest = 300)]
    public void VersionedSetting_Roundtrips(string key, long version, byte[] value, long changed, string by, bool deleted)
    {
        var setting = new VersionedSetting(S(key), NonNeg(version), B(value), Ts(changed), S(by), deleted);
        var decoded = VersionedSetting.Decode(setting.Encode());

        Assert.Equal(setting with { Value = [] }, decoded with { Value = [] });
        Assert.Equal(setting.Value, decoded.Value);
    }

    [Property(MaxTest = 300)]
    public void SnapshotRecord_Roundtrips(string id, string kind, long created, string[] locations, byte[] checksum, long size, byte status)
    {
        var snapshot = new SnapshotRecord(S(id), S(kind), Ts(created), (locations ?? []).Select(S).ToArray(), B(checksum), NonNeg(size),
            (SnapshotStatus)(status % 6));
        var decoded = SnapshotRecord.Decode(snapshot.Encode());

        Assert.Equal(snapshot.Locations, decoded.Locations);
        Assert.Equal((snapshot.Id, snapshot.Kind, snapshot.CreatedAt, snapshot.Size, snapshot.Status), (decoded.Id, decoded.Kind, decoded.CreatedAt, decoded.Size, decoded.Status));
        Assert.Equal(snapshot.Checksum, decoded.Checksum);
    }

    [Property(MaxTest = 300)]
    public void MetricSample_Roundtrips(string name, long time, double value, string[] labels)
    {
        var sample = new MetricSample(S(name), Ts(time), value, Map(labels));
        var decoded = MetricSample.Decode(sample.Encode());

        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(decoded.Value));
        AssertRoundtrips(sample.Encode(), b => MetricSample.Decode(b), m => m.Encode());
    }

    [Property(MaxTest = 300)]
    public void Metadata_Roundtrips(string[] keys)
    {
        var map = Map(keys);
        var decoded = MetadataCodec.Decode(MetadataCodec.Encode(map));
        Assert.Equal(map.OrderBy(kv => kv.Key, StringComparer.Ordinal), decoded.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }

    [Property(MaxTest = 1000)]
    public void Decoders_RandomBytes_RaiseOnlyForgeOneException(byte[] data) => AssertOnlyForgeOneExceptions(B(data));

    [Property(MaxTest = 1000)]
    public void Decoders_RandomBytesBehindAValidHeader_RaiseOnlyForgeOneException(byte type, byte[] data) =>
        AssertOnlyForgeOneExceptions([RecordFormat.Version, (byte)(type % 11), .. B(data)]);

    [Property(MaxTest = 1000)]
    public void Decoders_MutatedValidRecords_RaiseOnlyForgeOneException(int which, int position, byte value)
    {
        var encodings = RecordCodecTests.AllEncodings().ToArray();
        var bytes = encodings[NonNeg(which) % encodings.Length].Bytes;
        bytes[NonNeg(position) % bytes.Length] = value;
        AssertOnlyForgeOneExceptions(bytes);
    }
}
