using System.Text;
using Akka.Actor;
using Akka.Serialization;
using ForgeOne.Common;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Singletons;

/// <summary>Persisted: a seal was written (its <see cref="SealCodec"/> bytes).</summary>
public sealed record SealWritten(byte[] Encoded);

/// <summary>Persisted: a shard reported key events.</summary>
public sealed record KeyEventsRecorded(DateTimeOffset Time, string Shard, string[] Events);

/// <summary>Persisted: the backup schedule changed.</summary>
public sealed record BackupScheduleSet(TimeSpan Interval, DateTimeOffset SetAt, string SetBy);

/// <summary>
/// Serializer of the singletons' journal events. Our own versioned binary formats with string
/// manifests, so the journal never holds CLR type names (a type
/// name read back is a deserialization gadget) and survives renames.
/// </summary>
public sealed class SingletonEventSerializer : SerializerWithStringManifest
{
    /// <summary>Serializer id (unique among the system's serializers).</summary>
    public const int SerializerId = 7301;

    private const string SealManifest = "seal-v1";
    private const string KeyEventsManifest = "key-events-v1";
    private const string BackupManifest = "backup-schedule-v1";

    /// <summary>Created by Akka.</summary>
    public SingletonEventSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) => o switch
    {
        SealWritten => SealManifest,
        KeyEventsRecorded => KeyEventsManifest,
        BackupScheduleSet => BackupManifest,
        _ => throw new ArgumentException($"{o.GetType()} is not a singleton event."),
    };

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        switch (obj)
        {
            case SealWritten s:
                return s.Encoded;
            case KeyEventsRecorded k:
                {
                    using var ms = new MemoryStream();
                    using var w = new BinaryWriter(ms, Encoding.UTF8);
                    w.Write(k.Time.UtcTicks);
                    w.Write(k.Shard);
                    w.Write(k.Events.Length);
                    foreach (var e in k.Events)
                    {
                        w.Write(e);
                    }

                    w.Flush();
                    return ms.ToArray();
                }

            case BackupScheduleSet b:
                {
                    using var ms = new MemoryStream();
                    using var w = new BinaryWriter(ms, Encoding.UTF8);
                    w.Write(b.Interval.Ticks);
                    w.Write(b.SetAt.UtcTicks);
                    w.Write(b.SetBy);
                    w.Flush();
                    return ms.ToArray();
                }

            default:
                throw new ArgumentException($"{obj.GetType()} is not a singleton event.");
        }
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            switch (manifest)
            {
                case SealManifest:
                    SealCodec.Decode(bytes);
                    return new SealWritten(bytes);
                case KeyEventsManifest:
                    {
                        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
                        var time = new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero);
                        var shard = r.ReadString();
                        var count = r.ReadInt32();

                        // Each event takes at least its one-byte length: a count beyond the bytes left is corruption, not an allocation.
                        if (count < 0 || count > bytes.Length - r.BaseStream.Position)
                        {
                            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"Singleton event '{manifest}' claims {count} entries in {bytes.Length} bytes.");
                        }

                        var events = new string[count];
                        for (var i = 0; i < events.Length; i++)
                        {
                            events[i] = r.ReadString();
                        }

                        return new KeyEventsRecorded(time, shard, events);
                    }

                case BackupManifest:
                    {
                        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
                        return new BackupScheduleSet(TimeSpan.FromTicks(r.ReadInt64()), new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero), r.ReadString());
                    }

                default:
                    throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"Unknown singleton event manifest '{manifest}'.");
            }
        }
        catch (EndOfStreamException e)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"Truncated singleton event '{manifest}'.", e);
        }
        catch (Exception e) when (e is IOException or ArgumentException or FormatException)
        {
            // BinaryReader's own refusals (a string length past the end, invalid UTF-8, ticks out of range).
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"Corrupt singleton event '{manifest}'.", e);
        }
    }
}
