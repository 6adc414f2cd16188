using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Storage.Records;

/// <summary>
/// An event as stored in the <c>events</c> table. <see cref="Payload"/> and
/// <see cref="Metadata"/> are field ciphertext from the security layer.
/// </summary>
public sealed record StoredEventMessage(
    RecordId Id,
    string Topic,
    DateTimeOffset Timestamp,
    Priority Priority,
    byte[] Payload,
    byte[] Metadata,
    string? CheckpointMarker)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.EventMessage);
        w.WriteId(Id);
        w.WriteString(Topic);
        w.WriteTimestamp(Timestamp);
        w.WriteByte((byte)Priority);
        w.WriteBytes(Payload);
        w.WriteBytes(Metadata);
        w.WriteOptionalString(CheckpointMarker);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static StoredEventMessage Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.EventMessage);
        var message = new StoredEventMessage(
            r.ReadId(),
            r.ReadString(),
            r.ReadTimestamp(),
            r.ReadEnum<Priority>(),
            r.ReadBytes(),
            r.ReadBytes(),
            r.ReadOptionalString());
        r.End();
        return message;
    }
}

/// <summary>
/// A topic's settings (<c>topics</c> table; the whole record is encrypted by the record cipher).
/// <see cref="Retention"/> null keeps entries forever; <see cref="ResidencyZone"/> null means
/// any region; <see cref="LegalHold"/> stops every retention deletion while set.
/// </summary>
public sealed record TopicInfo(
    string Name,
    DateTimeOffset CreatedAt,
    TimeSpan? Retention,
    string? ResidencyZone,
    int Classification,
    bool LegalHold,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.Topic);
        w.WriteString(Name);
        w.WriteTimestamp(CreatedAt);
        w.WriteBool(Retention.HasValue);
        if (Retention is { } retention)
        {
            w.WriteInt64(retention.Ticks);
        }

        w.WriteOptionalString(ResidencyZone);
        w.WriteInt32(Classification);
        w.WriteBool(LegalHold);
        MetadataCodec.Write(w, Metadata);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static TopicInfo Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.Topic);
        var name = r.ReadString();
        var createdAt = r.ReadTimestamp();
        TimeSpan? retention = r.ReadBool() ? TimeSpan.FromTicks(r.ReadNonNegativeInt64("retention")) : null;
        var topic = new TopicInfo(
            name,
            createdAt,
            retention,
            r.ReadOptionalString(),
            r.ReadNonNegativeInt32("classification"),
            r.ReadBool(),
            MetadataCodec.Read(ref r));
        r.End();
        return topic;
    }
}

/// <summary>
/// A consumer group's committed position in a topic. <see cref="Version"/> grows with every
/// commit so a stale commit (lower version) can be refused as a conflict.
/// </summary>
public sealed record ConsumerOffset(string Group, string Topic, RecordId Position, long Version, DateTimeOffset CommittedAt)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.ConsumerOffset);
        w.WriteString(Group);
        w.WriteString(Topic);
        w.WriteId(Position);
        w.WriteInt64(Version);
        w.WriteTimestamp(CommittedAt);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static ConsumerOffset Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.ConsumerOffset);
        var offset = new ConsumerOffset(r.ReadString(), r.ReadString(), r.ReadId(), r.ReadNonNegativeInt64("version"), r.ReadTimestamp());
        r.End();
        return offset;
    }
}
