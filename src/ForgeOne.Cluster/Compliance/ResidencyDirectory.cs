using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.SystemProtocol;

namespace ForgeOne.Cluster.Compliance;

/// <summary>
/// The residency directory as the system shard stores it: one versioned document (key
/// <see cref="StoreKey"/> in <c>metadata</c>, so every change keeps the previous version in the
/// setting history and is one audited write). Format: version byte, then
/// <code>
///   directoryVersion (8) | count (4) | count x [ scope (1) | entryVersion (8) | changedAtMs (8) | name | zone | changedBy ]
///   (strings: length (4) | UTF-8)
/// </code>
/// A document rather than one key per entry because setting keys are blind-indexed (they cannot
/// be listed) and every node loads the whole directory at start; <see cref="MaxEntries"/> bounds
/// what one change rewrites.
/// </summary>
public sealed class ResidencyDocument
{
    /// <summary>The <c>metadata</c> key of the document.</summary>
    public const string StoreKey = "cluster/residency_directory";

    /// <summary>First byte of an encoded document.</summary>
    public const byte FormatVersion = 1;

    /// <summary>Most entries a directory holds.</summary>
    public const int MaxEntries = 10_000;

    private ResidencyDocument(long version, ImmutableSortedDictionary<string, ResidencyEntry> entries)
    {
        Version = version;
        Entries = entries;
    }

    /// <summary>The directory before its first change.</summary>
    public static ResidencyDocument Empty { get; } = new(0, ImmutableSortedDictionary.Create<string, ResidencyEntry>(StringComparer.Ordinal));

    /// <summary>Version of the directory: the number of changes made to it.</summary>
    public long Version { get; }

    /// <summary>Live entries by <see cref="ResidencyResolver.Key"/>.</summary>
    public ImmutableSortedDictionary<string, ResidencyEntry> Entries { get; }

    /// <summary>
    /// The directory after setting (or, with <paramref name="zone"/> null, clearing) one entry,
    /// and that entry as changed (its version is the new directory version).
    /// </summary>
    public (ResidencyDocument Document, ResidencyEntry Entry) With(ResidencyScope scope, string name, string? zone, DateTimeOffset at, string by)
    {
        var key = ResidencyResolver.Key(scope, name);
        var entry = new ResidencyEntry(scope, name, zone, Version + 1, at, by);
        if (zone is not null && !Entries.ContainsKey(key) && Entries.Count >= MaxEntries)
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"The residency directory holds at most {MaxEntries} entries; clear unused ones first.");
        }

        var entries = zone is null ? Entries.Remove(key) : Entries.SetItem(key, entry);
        return (new ResidencyDocument(Version + 1, entries), entry);
    }

    /// <summary>Encodes the document (<see cref="FormatVersion"/> first).</summary>
    public byte[] Encode()
    {
        using var buffer = new MemoryStream();
        Span<byte> scratch = stackalloc byte[8];
        buffer.WriteByte(FormatVersion);
        BinaryPrimitives.WriteInt64BigEndian(scratch, Version);
        buffer.Write(scratch);
        BinaryPrimitives.WriteInt32BigEndian(scratch, Entries.Count);
        buffer.Write(scratch[..4]);
        foreach (var e in Entries.Values)
        {
            buffer.WriteByte((byte)e.Scope);
            BinaryPrimitives.WriteInt64BigEndian(scratch, e.Version);
            buffer.Write(scratch);
            BinaryPrimitives.WriteInt64BigEndian(scratch, e.ChangedAt.ToUnixTimeMilliseconds());
            buffer.Write(scratch);
            WriteString(buffer, e.Name);
            WriteString(buffer, e.Zone!);
            WriteString(buffer, e.ChangedBy);
        }

        return buffer.ToArray();
    }

    /// <summary>Decodes a document; a malformed one is a <see cref="ErrorCodes.StorageCorruptRecord"/> error.</summary>
    public static ResidencyDocument Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            if (bytes.Length < 13 || bytes[0] != FormatVersion)
            {
                throw Corrupt($"unknown format {(bytes.Length > 0 ? bytes[0] : -1)} or too short");
            }

            var version = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
            var count = BinaryPrimitives.ReadInt32BigEndian(bytes[9..]);
            if (count < 0 || count > MaxEntries)
            {
                throw Corrupt($"entry count {count}");
            }

            var at = 13;
            var entries = ImmutableSortedDictionary.CreateBuilder<string, ResidencyEntry>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var scope = (ResidencyScope)bytes[at];
                var entryVersion = BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 1)..]);
                var changedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(bytes[(at + 9)..]));
                at += 17;
                var name = ReadString(bytes, ref at);
                var zone = ReadString(bytes, ref at);
                var by = ReadString(bytes, ref at);
                if (!Enum.IsDefined(scope))
                {
                    throw Corrupt($"scope {(int)scope}");
                }

                entries[ResidencyResolver.Key(scope, name)] = new ResidencyEntry(scope, name, zone, entryVersion, changedAt, by);
            }

            return at == bytes.Length ? new ResidencyDocument(version, entries.ToImmutable()) : throw Corrupt("trailing bytes");
        }
        catch (ArgumentOutOfRangeException)
        {
            throw Corrupt("truncated");
        }
    }

    private static void WriteString(MemoryStream buffer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        buffer.Write(length);
        buffer.Write(bytes);
    }

    private static string ReadString(ReadOnlySpan<byte> bytes, ref int at)
    {
        var length = BinaryPrimitives.ReadInt32BigEndian(bytes[at..]);
        if (length < 0 || length > bytes.Length - at - 4)
        {
            throw Corrupt("string length");
        }

        var value = Encoding.UTF8.GetString(bytes.Slice(at + 4, length));
        at += 4 + length;
        return value;
    }

    private static ForgeOneException Corrupt(string what) =>
        new(ErrorCodes.StorageCorruptRecord, $"The residency directory document is malformed ({what}).");
}

/// <summary>
/// How the router picks a message's zone from the directory, without Akka types so it is tested
/// as a plain function. The topic's entry wins over its caller's tenant's; a zone the message
/// declares must agree with the one the directory gives, and is used as-is when the directory
/// has no entry (the behaviour before the directory existed) or the message names no topic.
/// </summary>
public static class ResidencyResolver
{
    /// <summary>Directory key of an entry (also the key of the replicated cache).</summary>
    public static string Key(ResidencyScope scope, string name) => $"{(int)scope}:{name}";

    /// <summary>The directory scope of a topic of <paramref name="kind"/> (null: the kind has no topics).</summary>
    public static ResidencyScope? TopicScope(ShardKind kind) => kind switch
    {
        ShardKind.Logs => ResidencyScope.LogTopic,
        ShardKind.Events => ResidencyScope.EventTopic,
        _ => null,
    };

    /// <summary>
    /// The zone to route to (null: the default region), where it came from (for error messages),
    /// or a <see cref="ErrorCodes.ResidencyMismatch"/> error.
    /// </summary>
    /// <param name="declared">The zone the message names, if any.</param>
    /// <param name="topic">The message's topic, if it has one.</param>
    /// <param name="topicZone">The directory's zone of that topic, if any.</param>
    /// <param name="tenant">The caller's tenant, if any.</param>
    /// <param name="tenantZone">The directory's zone of that tenant, if any.</param>
    public static (string? Zone, string? Source, ForgeOneError? Error) Resolve(string? declared, string? topic, string? topicZone, string? tenant, string? tenantZone)
    {
        // A message without a topic (get by id, a shard's topic list) reads one zone's shard: a
        // tenant's topic may be pinned elsewhere by its own entry, which the id does not name,
        // so the zone the request names is where it reads. Every write names its topic.
        if (topic is null && declared is not null)
        {
            return (declared, "the zone the request declares", null);
        }

        var (zone, source) = topicZone is not null
            ? (topicZone, $"the residency directory entry of topic '{topic}'")
            : tenantZone is not null
                ? (tenantZone, $"the residency directory entry of tenant '{tenant}'")
                : ((string?)null, (string?)null);
        if (zone is null)
        {
            return (declared, declared is null ? null : "the zone the request declares", null);
        }

        if (declared is not null && !string.Equals(declared, zone, StringComparison.Ordinal))
        {
            return (null, source, new ForgeOneError(ErrorCodes.ResidencyMismatch,
                $"The request declares residency zone '{declared}', but {source} says '{zone}'; it was refused rather than sent to either zone. Drop the zone from the request or change the directory entry."));
        }

        return (zone, source, null);
    }
}

/// <summary>
/// This node's view of the residency directory: an immutable snapshot swapped atomically, so the
/// router reads it on any thread without a lock. Entries meet from several sources (the store at
/// start, this node's own changes, replication from other nodes); the higher entry version wins
/// each time, so an older copy never overwrites a newer one whatever the arrival order.
/// </summary>
public sealed class ResidencyCache
{
    private ImmutableDictionary<string, (long Version, string? Zone)> _entries = ImmutableDictionary.Create<string, (long, string?)>(StringComparer.Ordinal);

    /// <summary>The zone of <paramref name="name"/> in <paramref name="scope"/>, or null.</summary>
    public string? ZoneOf(ResidencyScope scope, string name) =>
        Volatile.Read(ref _entries).TryGetValue(ResidencyResolver.Key(scope, name), out var e) ? e.Zone : null;

    /// <summary>True when the directory has no entry at all (routing needs no lookup).</summary>
    public bool IsEmpty => Volatile.Read(ref _entries).IsEmpty;

    /// <summary>Number of live entries (zone set).</summary>
    public int Count => Volatile.Read(ref _entries).Count(e => e.Value.Zone is not null);

    /// <summary>Raised after entries were merged (on the merging thread), so a waiter needs no polling.</summary>
    public event EventHandler? Changed;

    /// <summary>Merges entries by key (cleared ones keep their version as a tombstone).</summary>
    public void Apply(IEnumerable<(string Key, long Version, string? Zone)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToList();
        ImmutableInterlocked.Update(ref _entries, current =>
        {
            var builder = current.ToBuilder();
            foreach (var (key, version, zone) in list)
            {
                if (!builder.TryGetValue(key, out var known) || known.Version < version)
                {
                    builder[key] = (version, zone);
                }
            }

            return builder.ToImmutable();
        });
        Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>Merges protocol entries.</summary>
    public void Apply(IEnumerable<ResidencyEntry> entries) =>
        Apply(entries.Select(e => (ResidencyResolver.Key(e.Scope, e.Name), e.Version, e.Zone)));
}
