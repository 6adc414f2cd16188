using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// One version of a setting or metadata key (<c>settings</c> / <c>metadata</c> tables, keyed by
/// <see cref="RecordKeys.SettingHistory"/>): every change adds a version, so the full history
/// of who changed what is kept. <see cref="Deleted"/> records a removal as a version too.
/// </summary>
public sealed record VersionedSetting(string Key, long Version, byte[] Value, DateTimeOffset ChangedAt, string ChangedBy, bool Deleted = false)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.VersionedSetting);
        w.WriteString(Key);
        w.WriteInt64(Version);
        w.WriteBytes(Value);
        w.WriteTimestamp(ChangedAt);
        w.WriteString(ChangedBy);
        w.WriteBool(Deleted);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static VersionedSetting Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.VersionedSetting);
        var setting = new VersionedSetting(r.ReadString(), r.ReadNonNegativeInt64("version"), r.ReadBytes(), r.ReadTimestamp(), r.ReadString(), r.ReadBool());
        r.End();
        return setting;
    }
}

/// <summary>Status of a backup or snapshot. Stored on disk: never renumber.</summary>
public enum SnapshotStatus : byte
{
    Pending = 0,
    Running = 1,
    Completed = 2,
    Failed = 3,
    Verified = 4,
    Expired = 5,
}

/// <summary>
/// A backup or snapshot as catalogued in the system store's <c>snapshots</c> table.
/// <see cref="Locations"/> lists every copy (file paths or URIs); <see cref="Checksum"/> is over
/// the snapshot bytes so a restore can prove it read what was written.
/// </summary>
public sealed record SnapshotRecord(
    string Id,
    string Kind,
    DateTimeOffset CreatedAt,
    IReadOnlyList<string> Locations,
    byte[] Checksum,
    long Size,
    SnapshotStatus Status)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.Snapshot);
        w.WriteString(Id);
        w.WriteString(Kind);
        w.WriteTimestamp(CreatedAt);
        w.WriteInt32(Locations.Count);
        foreach (var location in Locations)
        {
            w.WriteString(location);
        }

        w.WriteBytes(Checksum);
        w.WriteInt64(Size);
        w.WriteByte((byte)Status);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static SnapshotRecord Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.Snapshot);
        var id = r.ReadString();
        var kind = r.ReadString();
        var createdAt = r.ReadTimestamp();
        var locations = new string[r.ReadCount(minElementBytes: 4)];
        for (var i = 0; i < locations.Length; i++)
        {
            locations[i] = r.ReadString();
        }

        var snapshot = new SnapshotRecord(id, kind, createdAt, locations, r.ReadBytes(), r.ReadNonNegativeInt64("size"), r.ReadEnum<SnapshotStatus>());
        r.End();
        return snapshot;
    }
}

/// <summary>
/// One state of a snapshot record (<c>snapshots</c> table, keyed by
/// <see cref="SnapshotKeys.Version"/>): a backup, restore or drill is recorded again at each
/// step (running, completed, verified, expired), and every earlier state stays as history, with
/// who changed it, when and why. A record stored before versions existed reads as version 0.
/// </summary>
public sealed record SnapshotVersion(long Version, DateTimeOffset ChangedAt, string ChangedBy, string Detail, SnapshotRecord Snapshot)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>): the fields, then the snapshot's own encoding.</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.SnapshotVersion);
        w.WriteInt64(Version);
        w.WriteTimestamp(ChangedAt);
        w.WriteString(ChangedBy);
        w.WriteString(Detail);
        w.WriteBytes(Snapshot.Encode());
        return w.ToArray();
    }

    /// <summary>Reads <see cref="Encode"/>'s bytes, or a legacy <see cref="SnapshotRecord"/> as version 0.</summary>
    public static SnapshotVersion Decode(ReadOnlySpan<byte> data)
    {
        if (RecordFormat.PeekType(data) == RecordType.Snapshot)
        {
            var legacy = SnapshotRecord.Decode(data);
            return new SnapshotVersion(0, legacy.CreatedAt, "unknown", "", legacy);
        }

        var r = RecordReader.ForRecord(data, RecordType.SnapshotVersion);
        var version = new SnapshotVersion(r.ReadNonNegativeInt64("version"), r.ReadTimestamp(), r.ReadString(), r.ReadString(), SnapshotRecord.Decode(r.ReadBytesSpan()));
        r.End();
        return version;
    }
}

/// <summary>
/// Keys of the <c>snapshots</c> table: <c>id (UTF-8) | 0x00 | version (u64 big-endian)</c>, so a
/// record's versions are adjacent and in order. Ids never contain 0x00; a key that is the bare
/// id is a record from before versions (version 0).
/// </summary>
public static class SnapshotKeys
{
    /// <summary>The key of version <paramref name="version"/> of <paramref name="id"/>.</summary>
    public static byte[] Version(string id, long version)
    {
        var name = Encoding.UTF8.GetBytes(id);
        var key = new byte[name.Length + 1 + 8];
        name.CopyTo(key, 0);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(name.Length + 1), version);
        return key;
    }

    /// <summary>The id in a key (either layout).</summary>
    public static string IdOf(ReadOnlySpan<byte> key)
    {
        var zero = key.IndexOf((byte)0);
        return Encoding.UTF8.GetString(zero < 0 ? key : key[..zero]);
    }
}

/// <summary>One metric observation (<c>metrics</c> table), subject to the metrics retention policy.</summary>
public sealed record MetricSample(string Name, DateTimeOffset Time, double Value, IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>). The value keeps its exact bits, NaN included.</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.MetricSample);
        w.WriteString(Name);
        w.WriteTimestamp(Time);
        w.WriteDouble(Value);
        MetadataCodec.Write(w, Labels);
        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static MetricSample Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.MetricSample);
        var sample = new MetricSample(r.ReadString(), r.ReadTimestamp(), r.ReadDouble(), MetadataCodec.Read(ref r));
        r.End();
        return sample;
    }
}
