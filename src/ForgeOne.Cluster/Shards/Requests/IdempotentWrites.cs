using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Shards.Requests;

/// <summary>
/// What the shard needs to know about each <see cref="IIdempotentCommand"/>: its fingerprint
/// and how to answer a retry from the remembered ids.
/// </summary>
/// <remarks>
/// The fingerprint is the shard's own, for requests whose
/// <see cref="RequestId"/> brings none: XXH3-128 over a canonical encoding of everything the
/// command writes (command type, topic, every entry field; metadata in ordinal key order), so a
/// retry of the same request matches and a different request under the same id does not.
/// Not a security boundary: ids are scoped by principal, so a collision could only confuse a
/// principal's own requests, and XXH3-128 makes even that negligible. Encoding: a domain tag,
/// then per field a u8 tag-free value in declaration order; strings as u32 length + UTF-8,
/// timestamps as UTC ticks + offset minutes, absent optionals as a 0 byte.
/// </remarks>
public static class IdempotentWrites
{
    /// <summary>Bytes in a shard-computed fingerprint.</summary>
    public const int FingerprintLength = 16;

    /// <summary>
    /// The reply to a retry of <paramref name="command"/> whose first attempt committed
    /// <paramref name="ids"/>: the original reply, marked <c>Replayed</c>.
    /// </summary>
    public static IWriteOutcome Replay(IIdempotentCommand command, RecordId[] ids)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(ids);
        return command switch
        {
            LogProtocol.AppendLog a when ids.Length == 1 => new LogProtocol.LogAppended(a.Topic, ids[0], Replayed: true),
            LogProtocol.AppendLogBatch b when ids.Length == b.Entries.Length => new LogProtocol.LogBatchAppended(b.Topic, ids, Replayed: true),
            EventProtocol.PublishEvent p when ids.Length == 1 => new EventProtocol.EventPublished(p.Topic, ids[0], Replayed: true),
            EventProtocol.PublishEvents p when ids.Length == p.Events.Length => new EventProtocol.EventsPublished(p.Topic, ids, Replayed: true),
            _ => throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"The remembered outcome of request {command.RequestId} holds {ids.Length} ids, which does not fit a {command.GetType().Name}."),
        };
    }

    /// <summary>The fingerprint of <paramref name="command"/>; throws for commands that are not idempotent writes.</summary>
    public static byte[] Fingerprint(IIdempotentCommand command)
    {
        var h = new Writer();
        switch (command)
        {
            case LogProtocol.AppendLog append:
                h.Tag("logs.append.v1").String(append.Topic).Log(append.Entry);
                break;
            case LogProtocol.AppendLogBatch batch:
                h.Tag("logs.append_batch.v1").String(batch.Topic).Int(batch.Entries.Length);
                foreach (var entry in batch.Entries)
                {
                    h.Log(entry);
                }

                break;
            case EventProtocol.PublishEvent publish:
                h.Tag("events.publish.v1").String(publish.Topic).Event(publish.Event);
                break;
            case EventProtocol.PublishEvents publish:
                h.Tag("events.publish_batch.v1").String(publish.Topic).Int(publish.Events.Length);
                foreach (var e in publish.Events)
                {
                    h.Event(e);
                }

                break;
            default:
                throw new ArgumentException($"{command.GetType().Name} has no request fingerprint.", nameof(command));
        }

        return h.Finish();
    }

    private sealed class Writer
    {
        private readonly XxHash128 _hash = new();

        public Writer Tag(string tag) => String(tag);

        public Writer String(string? value)
        {
            if (value is null)
            {
                return Byte(0);
            }

            Byte(1);
            var bytes = Encoding.UTF8.GetBytes(value);
            Int(bytes.Length);
            _hash.Append(bytes);
            return this;
        }

        public Writer Bytes(byte[]? value)
        {
            if (value is null)
            {
                return Byte(0);
            }

            Byte(1).Int(value.Length);
            _hash.Append(value);
            return this;
        }

        public Writer Int(long value)
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(b, value);
            _hash.Append(b);
            return this;
        }

        public Writer Byte(byte value)
        {
            _hash.Append([value]);
            return this;
        }

        public Writer Time(DateTimeOffset value) => Int(value.UtcTicks).Int((long)value.Offset.TotalMinutes);

        public Writer Map(Dictionary<string, string>? map)
        {
            if (map is null)
            {
                return Byte(0);
            }

            Byte(1).Int(map.Count);
            foreach (var key in map.Keys.Order(StringComparer.Ordinal))
            {
                String(key).String(map[key]);
            }

            return this;
        }

        public Writer Log(LogProtocol.LogInput? entry) =>
            entry is null ? Byte(0) : Byte(1).Time(entry.Timestamp).Int((int)entry.Severity).String(entry.Message).Map(entry.Metadata).String(entry.CheckpointMarker);

        public Writer Event(EventProtocol.EventInput? e) =>
            e is null ? Byte(0) : Byte(1).Time(e.Timestamp).Int((int)e.Priority).Bytes(e.Payload).Map(e.Metadata).String(e.CheckpointMarker);

        public byte[] Finish() => _hash.GetCurrentHash();
    }
}
