using System.Text.Json;
using System.Text.Json.Serialization;
using ForgeOne.Common.Model;

namespace ForgeOne.Common.Api;

// The HTTP API's JSON shapes (`/v1`), shared by the edge that serves them and the HTTP client
// that reads them, so the two cannot drift. Ids are the 16-hex-digit RecordId form, hashes and
// checksums lower-case hex, byte payloads base64, durations in seconds, times ISO 8601.

/// <summary>An RFC 9457 problem (<c>application/problem+json</c>) with ForgeOne's stable <paramref name="Code"/>.</summary>
/// <param name="Type">URI naming the problem type (<c>https://forgeone.dev/problems/{code}</c>).</param>
/// <param name="Title">Short summary of the type.</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="Detail">What went wrong with this request.</param>
/// <param name="Instance">The request path.</param>
/// <param name="Code">The stable error code (<see cref="ErrorCodes"/>), what clients branch on.</param>
public sealed record Problem(string Type, string Title, int Status, string? Detail, string? Instance, string Code)
{
    /// <summary>The members of a problem document that RFC 9457 and ForgeOne define; no extension member may take one of these names.</summary>
    public static readonly IReadOnlySet<string> StandardMembers = new HashSet<string>(["type", "title", "status", "detail", "instance", "code"], StringComparer.Ordinal);

    /// <summary>
    /// RFC 9457 extension members, written next to the standard ones: the error's machine-readable
    /// facts (<see cref="ForgeOneError.Details"/>), e.g. <c>store</c>, <c>table</c>, <c>key</c>
    /// and <c>seq</c> where stored data failed a check. Null when there are none. (Settable, not
    /// init: source-generated deserialization binds init properties like constructor parameters,
    /// which extension data cannot be.)
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extensions { get; set; }

    /// <summary>The problem for <paramref name="error"/>: its details become extension members (a detail named like a standard member is left out).</summary>
    public static Problem Of(ForgeOneError error, string type, string title, int status, string? instance)
    {
        Dictionary<string, JsonElement>? extensions = null;
        foreach (var (name, value) in error.Details ?? EmptyDetails)
        {
            if (!StandardMembers.Contains(name))
            {
                (extensions ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal))[name] = JsonSerializer.SerializeToElement(value, ApiJsonContext.Default.String);
            }
        }

        return new Problem(type, title, status, error.Message, instance, error.Code) { Extensions = extensions };
    }

    /// <summary>The string-valued extension members (the error's details as the edge sent them), or null when there are none.</summary>
    public IReadOnlyDictionary<string, string>? Details()
    {
        Dictionary<string, string>? details = null;
        foreach (var (name, value) in Extensions ?? EmptyExtensions)
        {
            if (value.ValueKind == JsonValueKind.String && !StandardMembers.Contains(name))
            {
                (details ??= new Dictionary<string, string>(StringComparer.Ordinal))[name] = value.GetString()!;
            }
        }

        return details;
    }

    private static readonly Dictionary<string, string> EmptyDetails = [];
    private static readonly Dictionary<string, JsonElement> EmptyExtensions = [];
}

/// <summary>One log entry to append; <paramref name="Timestamp"/> defaults to the edge's clock.</summary>
public sealed record LogEntryInput(Severity Severity, string Message, DateTimeOffset? Timestamp = null, Dictionary<string, string>? Metadata = null, string? CheckpointMarker = null);

/// <summary>One line of an NDJSON bulk append: an entry and the topic it goes to.</summary>
public sealed record BulkLogLine(string Topic, Severity Severity, string Message, DateTimeOffset? Timestamp = null, Dictionary<string, string>? Metadata = null, string? CheckpointMarker = null);

/// <summary>The entry was committed under <paramref name="Id"/>.</summary>
public sealed record LogAppended(string Topic, string Id);

/// <summary>The batch was committed; ids in input order.</summary>
public sealed record LogBatchAppended(string Topic, string[] Ids);

/// <summary>The outcome of one bulk line: <paramref name="Status"/> 201 with an id, or an error.</summary>
public sealed record BulkItemResult(int Status, string? Topic, string? Id, Problem? Error);

/// <summary>Per-line results of a bulk append, in input order; <paramref name="Errors"/> is true when any line failed.</summary>
public sealed record BulkResult(bool Errors, int Accepted, int Failed, BulkItemResult[] Items);

/// <summary>A stored log entry.</summary>
public sealed record LogEntryView(string Id, string Topic, DateTimeOffset Timestamp, Severity Severity, string Message, IReadOnlyDictionary<string, string> Metadata, string? CheckpointMarker, string ContentHash);

/// <summary>A page of entries; pass <paramref name="Continuation"/> back for the next (null: the last page).</summary>
public sealed record LogPage(string Topic, LogEntryView[] Entries, string? Continuation);

/// <summary>Number of entries in a range.</summary>
public sealed record LogCount(string Topic, long Count);

/// <summary>Creates a new version of checkpoint <paramref name="Name"/> at <paramref name="Position"/> (null: the topic's newest entry).</summary>
public sealed record CheckpointInput(string Name, string? Position = null);

/// <summary>One version of a named checkpoint.</summary>
public sealed record CheckpointView(string Topic, string Name, long Version, string Position, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>Checkpoint versions of a topic, by name then version.</summary>
public sealed record CheckpointList(string Topic, CheckpointView[] Checkpoints);

/// <summary>A log topic's compliance policy as set (<paramref name="RetentionSeconds"/> null: keep forever).</summary>
public sealed record LogTopicPolicyInput(long? RetentionSeconds, bool LegalHold);

/// <summary>A log topic's compliance policy; <paramref name="ChangedAt"/> null when none was ever set.</summary>
public sealed record LogTopicPolicyView(string Topic, long? RetentionSeconds, bool LegalHold, string? Zone, DateTimeOffset? ChangedAt, string? ChangedBy);

/// <summary>An events topic to create.</summary>
public sealed record TopicInput(string Name, long? RetentionSeconds = null, string? ResidencyZone = null, int Classification = 0, bool LegalHold = false, Dictionary<string, string>? Metadata = null);

/// <summary>An events topic.</summary>
public sealed record TopicView(string Name, DateTimeOffset CreatedAt, long? RetentionSeconds, string? ResidencyZone, int Classification, bool LegalHold, IReadOnlyDictionary<string, string> Metadata);

/// <summary>A page of topics; pass <paramref name="Continuation"/> back for the next (null: done).</summary>
public sealed record TopicList(TopicView[] Topics, string? Continuation);

/// <summary>Places or lifts a topic's legal hold.</summary>
public sealed record LegalHoldInput(bool LegalHold);

/// <summary>One event to publish; <paramref name="Payload"/> is base64 in JSON.</summary>
public sealed record EventInput(byte[] Payload, Priority Priority = Priority.Normal, DateTimeOffset? Timestamp = null, Dictionary<string, string>? Metadata = null, string? CheckpointMarker = null);

/// <summary>The event was committed under <paramref name="Id"/>.</summary>
public sealed record EventPublished(string Topic, string Id);

/// <summary>The batch was committed; ids in input order.</summary>
public sealed record EventsPublished(string Topic, string[] Ids);

/// <summary>An event as the caller may see it: a field class it may not read is null and named in <paramref name="Redacted"/>.</summary>
public sealed record EventView(string Id, string Topic, DateTimeOffset Timestamp, Priority Priority, byte[]? Payload, IReadOnlyDictionary<string, string>? Metadata, string? CheckpointMarker, string[] Redacted);

/// <summary>A page of a query; pass <paramref name="Continuation"/> back for the next (null: no more).</summary>
public sealed record EventPage(string Topic, EventView[] Events, string? Continuation);

/// <summary>Commits a consumer group's position (forward only unless <paramref name="Force"/>).</summary>
public sealed record OffsetInput(string Position, bool Force = false);

/// <summary>A consumer group's position; <paramref name="Position"/> null when it never committed.</summary>
public sealed record OffsetView(string Group, string Topic, string? Position, long Version, DateTimeOffset? CommittedAt);

/// <summary>A stored blob; <paramref name="Checksum"/> (hex) is the value of the download's <c>ETag</c>.</summary>
public sealed record BlobView(string Id, string Name, string ContentType, long Size, DateTimeOffset CreatedAt, string CreatedBy, string Checksum, string ChecksumAlgorithm, bool Encrypted, bool Compressed, int ChunkCount, IReadOnlyDictionary<string, string> Metadata);

/// <summary>A page of a blob lookup; pass <paramref name="Continuation"/> back for the next (null: no more).</summary>
public sealed record BlobList(BlobView[] Blobs, string? Continuation);

/// <summary>The blob's chunks are destroyed; a tombstone remains.</summary>
public sealed record BlobDeleted(string Id, int ChunksDestroyed);

/// <summary>A new version of a setting or metadata key: UTF-8 <paramref name="Value"/> or raw <paramref name="ValueBase64"/> (exactly one).</summary>
/// <param name="Value">Text value.</param>
/// <param name="ValueBase64">Binary value.</param>
/// <param name="ExpectedVersion">When set, refused with 409 unless the current version matches (0: must not exist).</param>
public sealed record SettingInput(string? Value = null, byte[]? ValueBase64 = null, long? ExpectedVersion = null);

/// <summary>One version of a key; <paramref name="Value"/> is null when the bytes are not UTF-8.</summary>
public sealed record SettingView(string Key, long Version, string? Value, byte[] ValueBase64, DateTimeOffset ChangedAt, string ChangedBy);

/// <summary>Every version of a key, oldest first.</summary>
public sealed record SettingHistory(string Key, SettingView[] Versions);

/// <summary>Sets (or, <paramref name="Zone"/> null, clears) a residency directory entry.</summary>
public sealed record ResidencyInput(string? Zone, string? Reason = null);

/// <summary>One residency directory entry; <paramref name="Scope"/> is <c>tenant</c>, <c>log-topic</c> or <c>event-topic</c>.</summary>
public sealed record ResidencyEntryView(string Scope, string Name, string? Zone, long Version, DateTimeOffset ChangedAt, string ChangedBy);

/// <summary>The residency directory at <paramref name="Version"/>.</summary>
public sealed record ResidencyDirectoryView(long Version, ResidencyEntryView[] Entries);

/// <summary>Rotates every shard's data key now.</summary>
public sealed record RotateKeysInput(string? Reason = null);

/// <summary>The outcome of a rotation across all shards.</summary>
public sealed record KeyRotationView(int Rotated, int Checked, string[] Failures);

/// <summary>The cluster-wide key event history (<c>time shard event</c>), oldest first.</summary>
public sealed record KeyEventsView(string[] Events);

/// <summary>A shard's committed audit chain head; <paramref name="Hash"/> hex.</summary>
public sealed record AuditHeadView(string Shard, long Sequence, string Hash);

/// <summary>Every shard's audit head; <paramref name="Missing"/> lists shards that did not answer.</summary>
public sealed record AuditHeadsView(AuditHeadView[] Heads, string[] Missing);

/// <summary>A signed audit seal over every shard's head.</summary>
public sealed record SealView(long Number, DateTimeOffset Time, string MerkleRoot, string PrevSealHash, string Signature, AuditHeadView[] Heads);

/// <summary>The newest seals (at most the requested number), oldest first.</summary>
public sealed record SealList(SealView[] Seals, long Total);

/// <summary>A seal was just written.</summary>
public sealed record SealWritten(long Number, DateTimeOffset Time, int Heads);

/// <summary>
/// The verification of the seal history under the audit public key: <paramref name="Valid"/>, or
/// the <paramref name="Failure"/> kind and the first bad seal number.
/// </summary>
public sealed record SealVerificationView(bool Valid, string Failure, long? FirstBadNumber, string Message, int Checked, string PublicKeyFingerprint);

/// <summary>One cluster member as this edge node sees it; <paramref name="Version"/> is its application version (Akka's app-version).</summary>
public sealed record MemberView(string Address, string Status, string[] Roles, bool Reachable, string? Version = null);

/// <summary>The cluster as this edge node sees it.</summary>
public sealed record ClusterView(string Self, string? Leader, MemberView[] Members);

/// <summary>Shards of one region (kind, optionally zone) hosted by one node.</summary>
public sealed record ShardPlacementView(string Region, string Node, int[] Shards);

/// <summary>Where every region's shards run.</summary>
public sealed record ShardPlacementsView(ShardPlacementView[] Placements, string[] Failures);

/// <summary>One shard's counters.</summary>
public sealed record ShardStatsView(string Shard, string Node, long Commits, long CommandsApplied, long AuditSequence);

/// <summary>Readiness: every check and whether it passed.</summary>
public sealed record Readiness(bool Ready, Dictionary<string, string> Checks);

/// <summary>The policy document in force: its version, canonical hash and JSON.</summary>
public sealed record PolicyView(long Version, string Hash, string Document);
