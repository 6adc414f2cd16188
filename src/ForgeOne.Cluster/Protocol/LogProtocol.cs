using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Operations on log shards. Logs route by topic; get-by-id by the shard inside the id.</summary>
public static class LogProtocol
{
    /// <summary>One entry as a client submits it; the shard assigns id and content hash.</summary>
    public sealed record LogInput(DateTimeOffset Timestamp, Severity Severity, string Message, Dictionary<string, string>? Metadata = null, string? CheckpointMarker = null);

    /// <summary>
    /// Appends one entry. Reply: <see cref="LogAppended"/> (after commit) or <see cref="LogFailed"/>.
    /// With a <paramref name="RequestId"/> a retry returns the first attempt's id and writes nothing.
    /// </summary>
    public sealed record AppendLog(PrincipalToken Token, string Topic, LogInput Entry, string? Zone = null, RequestId? RequestId = null) : IIdempotentCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Appends a batch to one topic as one operation: one transaction, all-or-nothing, one audit
    /// record. Reply: <see cref="LogBatchAppended"/> or <see cref="LogFailed"/>. With a
    /// <paramref name="RequestId"/> a retry returns the first attempt's ids and writes nothing.
    /// </summary>
    public sealed record AppendLogBatch(PrincipalToken Token, string Topic, LogInput[] Entries, string? Zone = null, RequestId? RequestId = null) : IIdempotentCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>Gets one entry by id. Reply: <see cref="LogFound"/> or <see cref="LogFailed"/> (storage.not_found).</summary>
    public sealed record GetLog(PrincipalToken Token, RecordId Id, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Id.Shard;
    }

    /// <summary>Entries of a topic with <paramref name="From"/> &lt;= timestamp &lt; <paramref name="To"/>, oldest first. Reply: <see cref="LogRange"/>.</summary>
    public sealed record ReadLogRange(PrincipalToken Token, string Topic, DateTimeOffset From, DateTimeOffset To, int Limit = 1000, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// One page of a topic's entries with <paramref name="From"/> &lt;= timestamp &lt; <paramref name="To"/> and
    /// severity &gt;= <paramref name="MinSeverity"/>, oldest first. Pass the previous page's
    /// continuation token to go on. Reply: <see cref="LogPage"/>.
    /// </summary>
    public sealed record QueryLogs(PrincipalToken Token, string Topic, DateTimeOffset From, DateTimeOffset To, Severity MinSeverity = Severity.Trace, int Limit = 1000, string? ContinuationToken = null, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>Counts a topic's entries with <paramref name="From"/> &lt;= timestamp &lt; <paramref name="To"/> (index only, nothing decrypted). Reply: <see cref="LogCount"/>.</summary>
    public sealed record CountLogs(PrincipalToken Token, string Topic, DateTimeOffset From, DateTimeOffset To, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Creates version n+1 of checkpoint <paramref name="Name"/> of a topic at entry
    /// <paramref name="Position"/> (null = "now": the topic's newest entry). Earlier versions are
    /// kept. Reply: <see cref="CheckpointCreated"/>.
    /// </summary>
    public sealed record CreateCheckpoint(PrincipalToken Token, string Topic, string Name, RecordId? Position = null, string? Zone = null) : IShardCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>Every version of every checkpoint of a topic (or of one <paramref name="Name"/>), by name then version. Reply: <see cref="CheckpointList"/>.</summary>
    public sealed record ListCheckpoints(PrincipalToken Token, string Topic, string? Name = null, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Replays a topic from the newest version of checkpoint <paramref name="Checkpoint"/>
    /// (entries after its position) or from the newest entry carrying checkpoint marker
    /// <paramref name="Marker"/> (that entry included), one bounded page per request; every
    /// entry's content hash is verified (<see cref="ErrorCodes.ChecksumMismatch"/> on a
    /// mismatch). Exactly one of the two must be set. Reply: <see cref="LogReplayPage"/>.
    /// </summary>
    public sealed record ReplayLogs(PrincipalToken Token, string Topic, string? Checkpoint = null, string? Marker = null, int Limit = 1000, string? ContinuationToken = null, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Sets a log topic's compliance policy: retention period (null = keep forever), legal hold
    /// and residency zone. Must be sent to the zone's shards (<paramref name="Zone"/> = the
    /// policy's zone). Reply: <see cref="LogTopicPolicySet"/>.
    /// </summary>
    public sealed record SetLogTopicPolicy(PrincipalToken Token, string Topic, TimeSpan? Retention, bool LegalHold, string? Zone = null) : IShardCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>The policy of a log topic. Reply: <see cref="CurrentLogTopicPolicy"/>.</summary>
    public sealed record GetLogTopicPolicy(PrincipalToken Token, string Topic, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Deletes at most <paramref name="MaxEntries"/> expired entries (and their index keys) of
    /// log shard <paramref name="Shard"/> in one transaction, skipping topics under legal hold;
    /// one audit record per sweep with the counts. Reply: <see cref="RetentionSwept"/>
    /// (<c>More</c> = send again).
    /// </summary>
    public sealed record SweepLogRetention(PrincipalToken Token, int Shard, int MaxEntries = 1000, string? Zone = null) : IShardCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>A version of a named checkpoint.</summary>
    public sealed record LogCheckpoint(string Topic, string Name, long Version, RecordId Position, DateTimeOffset CreatedAt, string CreatedBy);

    /// <summary>A log topic's compliance policy.</summary>
    public sealed record LogTopicPolicy(string Topic, TimeSpan? Retention, bool LegalHold, string? Zone, DateTimeOffset ChangedAt, string ChangedBy);

    /// <summary>A page of entries; <paramref name="ContinuationToken"/> is null on the last page.</summary>
    public sealed record LogPage(string Topic, LogEntry[] Entries, string? ContinuationToken) : IReply;

    /// <summary>Number of entries in the range.</summary>
    public sealed record LogCount(string Topic, long Count) : IReply;

    /// <summary>The checkpoint version was stored.</summary>
    public sealed record CheckpointCreated(LogCheckpoint Checkpoint) : IReply;

    /// <summary>Checkpoint versions, by name then version.</summary>
    public sealed record CheckpointList(string Topic, LogCheckpoint[] Checkpoints) : IReply;

    /// <summary>A page of a replay, every entry's content hash verified; <paramref name="ContinuationToken"/> is null when the replay reached the topic's end.</summary>
    public sealed record LogReplayPage(string Topic, LogEntry[] Entries, string? ContinuationToken) : IReply;

    /// <summary>The policy was stored.</summary>
    public sealed record LogTopicPolicySet(LogTopicPolicy Policy) : IReply;

    /// <summary>The topic's policy; null when none was set (keep forever, no hold, default zone).</summary>
    public sealed record CurrentLogTopicPolicy(string Topic, LogTopicPolicy? Policy) : IReply;

    /// <summary>One retention sweep of a shard.</summary>
    public sealed record RetentionSwept(int Shard, int Deleted, int TopicsSwept, int TopicsHeld, bool More) : IReply, IAuditDetail
    {
        /// <inheritdoc />
        public string AuditDetail => $"deleted={Deleted} topics={TopicsSwept} held={TopicsHeld} more={More}";
    }

    /// <summary>The entry was committed under <paramref name="Id"/> (<paramref name="Replayed"/>: by an earlier attempt of the same request).</summary>
    public sealed record LogAppended(string Topic, RecordId Id, bool Replayed = false) : IWriteOutcome
    {
        /// <inheritdoc />
        public IReadOnlyList<RecordId> OutcomeIds => [Id];
    }

    /// <summary>The batch was committed; ids in input order (<paramref name="Replayed"/>: by an earlier attempt of the same request).</summary>
    public sealed record LogBatchAppended(string Topic, RecordId[] Ids, bool Replayed = false) : IWriteOutcome
    {
        /// <inheritdoc />
        public IReadOnlyList<RecordId> OutcomeIds => Ids;
    }

    /// <summary>The entry, decrypted.</summary>
    public sealed record LogFound(LogEntry Entry) : IReply;

    /// <summary>Entries of a range query, oldest first.</summary>
    public sealed record LogRange(string Topic, LogEntry[] Entries) : IReply;

    /// <summary>The operation failed or was refused; nothing was written.</summary>
    public sealed record LogFailed(ForgeOneError Error) : IFailureReply;
}
