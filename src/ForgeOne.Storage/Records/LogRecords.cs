using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Storage.Records;

/// <summary>
/// A log entry as stored in the <c>logs</c> table. <see cref="Message"/> and
/// <see cref="Metadata"/> are opaque ciphertext produced by the security layer's field cipher
/// (the metadata plaintext being <see cref="MetadataCodec"/> bytes); this codec never sees
/// them in clear. <see cref="ContentHash"/> is the SHA-256 of the plaintext entry
/// (<see cref="ContentHashes.ForLog(LogEntry)"/>), checked on replay.
/// </summary>
public sealed record StoredLogEntry(
    RecordId Id,
    string Topic,
    DateTimeOffset Timestamp,
    Severity Severity,
    byte[] Message,
    byte[] Metadata,
    string? CheckpointMarker,
    byte[] ContentHash)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        // Fixed fields + length prefixes are under 64 bytes; strings are at most 3 bytes per char.
        var w = RecordWriter.ForRecord(RecordType.LogEntry, 64 + (3 * (Topic.Length + (CheckpointMarker?.Length ?? 0))) + Message.Length + Metadata.Length + ContentHash.Length);
        w.WriteId(Id);
        w.WriteString(Topic);
        w.WriteTimestamp(Timestamp);
        w.WriteByte((byte)Severity);
        w.WriteBytes(Message);
        w.WriteBytes(Metadata);
        w.WriteOptionalString(CheckpointMarker);
        w.WriteBytes(ContentHash);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static StoredLogEntry Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.LogEntry);
        var entry = new StoredLogEntry(
            r.ReadId(),
            r.ReadString(),
            r.ReadTimestamp(),
            r.ReadEnum<Severity>(),
            r.ReadBytes(),
            r.ReadBytes(),
            r.ReadOptionalString(),
            r.ReadBytes());
        r.End();
        return entry;
    }
}

/// <summary>
/// A named, versioned position in a topic (<c>checkpoints</c> table). Re-creating a name adds
/// a version, so the history of a checkpoint is kept; <see cref="Position"/> is the id of the
/// last entry covered.
/// </summary>
public sealed record Checkpoint(string Name, long Version, string Topic, RecordId Position, DateTimeOffset CreatedAt, string CreatedBy)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.Checkpoint);
        w.WriteString(Name);
        w.WriteInt64(Version);
        w.WriteString(Topic);
        w.WriteId(Position);
        w.WriteTimestamp(CreatedAt);
        w.WriteString(CreatedBy);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static Checkpoint Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.Checkpoint);
        var checkpoint = new Checkpoint(
            r.ReadString(),
            r.ReadNonNegativeInt64("version"),
            r.ReadString(),
            r.ReadId(),
            r.ReadTimestamp(),
            r.ReadString());
        r.End();
        return checkpoint;
    }
}
