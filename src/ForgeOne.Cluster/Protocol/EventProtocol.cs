using Akka.Actor;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// Operations on event shards. Everything about a topic routes by the topic name (a topic lives
/// in exactly one events shard); listing topics asks each shard by number; get-by-id goes to the
/// shard encoded in the id.
/// Residency: a topic created with a zone lives in that zone's shards; every message about it
/// carries <c>Zone</c> (<see cref="IZoned"/>) so the router sends it to that zone's region.
/// </summary>
/// <remarks>
/// Publishing to a topic that was never created is refused with <c>storage.not_found</c>: a
/// topic's retention, residency zone and classification are compliance decisions, so they are
/// made explicitly by <see cref="CreateTopic"/> (an <c>events:admin</c> operation), never
/// defaulted by the first writer.
/// </remarks>
public static class EventProtocol
{
    /// <summary>The settings a topic is created with.</summary>
    /// <param name="Retention">Events older than this expire (null: kept forever). Writes already past it are refused.</param>
    /// <param name="ResidencyZone">Residency zone of the topic's data (null: any region).</param>
    /// <param name="Classification">Data classification; a caller needs clearance &gt;= it for every operation on the topic.</param>
    /// <param name="LegalHold">While set, the retention sweeper deletes nothing in the topic.</param>
    /// <param name="Metadata">Free key-value metadata.</param>
    public sealed record TopicSettings(TimeSpan? Retention = null, string? ResidencyZone = null, int Classification = 0, bool LegalHold = false, Dictionary<string, string>? Metadata = null);

    /// <summary>A topic as described to a caller.</summary>
    public sealed record TopicDescription(string Name, DateTimeOffset CreatedAt, TimeSpan? Retention, string? ResidencyZone, int Classification, bool LegalHold, Dictionary<string, string> Metadata);

    /// <summary>Creates a topic. Reply: <see cref="TopicCreated"/>, or <see cref="EventFailed"/> (<c>storage.conflict</c> when it exists).</summary>
    public sealed record CreateTopic(PrincipalToken Token, string Topic, TopicSettings Settings, string? Zone = null) : IShardCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>Describes one topic. Reply: <see cref="TopicDescribed"/> or <see cref="EventFailed"/> (<c>storage.not_found</c>).</summary>
    public sealed record DescribeTopic(PrincipalToken Token, string Topic, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// One page of the topics of one events shard (the caller may see), in blind-token order.
    /// <see cref="Client.EventTopics"/> gathers the pages of every shard. Reply: <see cref="TopicPage"/>.
    /// </summary>
    public sealed record ListTopics(PrincipalToken Token, int Shard, int Limit = 100, string? Continuation = null, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>
    /// Places or lifts a topic's legal hold (while held, the retention sweep deletes nothing in
    /// it). Reply: <see cref="TopicDescribed"/> with the new state, or <see cref="EventFailed"/>.
    /// </summary>
    public sealed record SetTopicLegalHold(PrincipalToken Token, string Topic, bool LegalHold, string? Zone = null) : IShardCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Deletes at most <paramref name="MaxEntries"/> expired events (with both index keys) of events
    /// shard <paramref name="Shard"/> in one transaction, skipping topics under legal hold; one
    /// audit record per sweep. Reply: <see cref="EventRetentionSwept"/> (<c>More</c> = send again).
    /// </summary>
    public sealed record SweepEventRetention(PrincipalToken Token, int Shard, int MaxEntries = 1000, string? Zone = null) : IShardCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Shard;
    }

    /// <summary>A sweep's result: events deleted, topics skipped for a legal hold, and whether expired events remain.</summary>
    public sealed record EventRetentionSwept(int Shard, int Deleted, int HeldTopics, bool More) : IReply;

    /// <summary>The topic was created.</summary>
    public sealed record TopicCreated(TopicDescription Topic) : IReply;

    /// <summary>The topic.</summary>
    public sealed record TopicDescribed(TopicDescription Topic) : IReply;

    /// <summary>A page of one shard's topics; <see cref="Continuation"/> is null on the shard's last page.</summary>
    public sealed record TopicPage(int Shard, TopicDescription[] Topics, string? Continuation) : IReply;

    /// <summary>One event as a client submits it; the shard assigns the id.</summary>
    public sealed record EventInput(DateTimeOffset Timestamp, Priority Priority, byte[] Payload, Dictionary<string, string>? Metadata = null, string? CheckpointMarker = null);

    /// <summary>
    /// Publishes one event. Reply: <see cref="EventPublished"/> (after commit) or <see cref="EventFailed"/>.
    /// With a <paramref name="RequestId"/> a retry returns the first attempt's id and writes nothing.
    /// </summary>
    public sealed record PublishEvent(PrincipalToken Token, string Topic, EventInput Event, string? Zone = null, RequestId? RequestId = null) : IIdempotentCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Publishes a batch to one topic as one operation: validated as a whole (one bad entry refuses
    /// all), one transaction, one audit record. Reply: <see cref="EventsPublished"/> or <see cref="EventFailed"/>.
    /// With a <paramref name="RequestId"/> a retry returns the first attempt's ids and writes nothing.
    /// </summary>
    public sealed record PublishEvents(PrincipalToken Token, string Topic, EventInput[] Events, string? Zone = null, RequestId? RequestId = null) : IIdempotentCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>The event was committed under <paramref name="Id"/> (<paramref name="Replayed"/>: by an earlier attempt of the same request).</summary>
    public sealed record EventPublished(string Topic, RecordId Id, bool Replayed = false) : IWriteOutcome
    {
        /// <inheritdoc />
        public IReadOnlyList<RecordId> OutcomeIds => [Id];
    }

    /// <summary>The batch was committed; ids in input order (<paramref name="Replayed"/>: by an earlier attempt of the same request).</summary>
    public sealed record EventsPublished(string Topic, RecordId[] Ids, bool Replayed = false) : IWriteOutcome
    {
        /// <inheritdoc />
        public IReadOnlyList<RecordId> OutcomeIds => Ids;
    }

    /// <summary>
    /// An event as a reader sees it. A field class the reader may not read comes back null and is
    /// named in <see cref="Redacted"/> (e.g. <c>event.payload</c>); nothing of it was decrypted.
    /// </summary>
    public sealed record EventRecord(RecordId Id, string Topic, DateTimeOffset Timestamp, Priority Priority, byte[]? Payload, Dictionary<string, string>? Metadata, string? CheckpointMarker, string[] Redacted);

    /// <summary>
    /// Events of a topic with <paramref name="From"/> &lt;= timestamp &lt; <paramref name="To"/> and
    /// priority &gt;= <paramref name="MinPriority"/> (all when null), ordered by (timestamp, id), at
    /// most <paramref name="Limit"/> per page. Reply: <see cref="EventPage"/>.
    /// </summary>
    public sealed record QueryEvents(PrincipalToken Token, string Topic, DateTimeOffset From, DateTimeOffset To, Priority? MinPriority = null, int Limit = 100, string? Continuation = null, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>A page of a query; pass <see cref="Continuation"/> back unchanged for the next page (null: no more).</summary>
    public sealed record EventPage(string Topic, EventRecord[] Events, string? Continuation) : IReply;

    /// <summary>Gets one event by id. Reply: <see cref="EventFound"/> or <see cref="EventFailed"/> (<c>storage.not_found</c>).</summary>
    public sealed record GetEvent(PrincipalToken Token, RecordId Id, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Id.Shard;
    }

    /// <summary>The event.</summary>
    public sealed record EventFound(EventRecord Event) : IReply;

    /// <summary>
    /// Commits a consumer group's position in a topic (the id of the last event it processed).
    /// Positions only move forward: an older position than the stored one is refused with
    /// <c>events.offset_regression</c> unless <paramref name="Force"/> (a rewind, which needs
    /// <c>events:write</c>). Reply: <see cref="ConsumerOffsetCommitted"/> or <see cref="EventFailed"/>.
    /// </summary>
    public sealed record CommitConsumerOffset(PrincipalToken Token, string Group, string Topic, RecordId Position, bool Force = false, string? Zone = null) : IShardCommand, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>Reads a consumer group's position in a topic. Reply: <see cref="CurrentConsumerOffset"/>.</summary>
    public sealed record GetConsumerOffset(PrincipalToken Token, string Group, string Topic, string? Zone = null) : IShardQuery, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>The committed position; <paramref name="Version"/> counts commits.</summary>
    public sealed record ConsumerOffsetCommitted(string Group, string Topic, RecordId Position, long Version) : IReply;

    /// <summary>The group's position; <see cref="Position"/> is null when the group never committed (start from the beginning).</summary>
    public sealed record CurrentConsumerOffset(string Group, string Topic, RecordId? Position, long Version, DateTimeOffset? CommittedAt) : IReply;

    /// <summary>Where a subscription starts: after an id, from the beginning (both null/false), or from now.</summary>
    public sealed record SubscriptionStart(RecordId? After, bool FromNow)
    {
        /// <summary>Every event of the topic.</summary>
        public static readonly SubscriptionStart Beginning = new(null, false);

        /// <summary>Only events committed from now on.</summary>
        public static readonly SubscriptionStart Now = new(null, true);

        /// <summary>Events after <paramref name="id"/> (exclusive).</summary>
        public static SubscriptionStart AfterId(RecordId id) => new(id, false);
    }

    /// <summary>
    /// Opens a subscription on the topic's shard. The shard starts a source that sends
    /// <see cref="SubscriptionStarted"/> and then <see cref="SubscriptionEvents"/> to
    /// <paramref name="Subscriber"/>: catch-up from the store, then live events pushed after each
    /// commit, in id (= commit) order, never more than <paramref name="Window"/> unacknowledged.
    /// <paramref name="Attempt"/> tells a stale attempt's source from the current one.
    /// </summary>
    public sealed record Subscribe(PrincipalToken Token, string Topic, SubscriptionStart Start, int Window, IActorRef Subscriber, string SubscriptionId, int Attempt, string? Zone = null) : IShardOperation, IShardStreamRequest, IZoned
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Events;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// The source is running; acknowledge to it directly and watch it (it dies with its shard).
    /// <paramref name="StartAfter"/> is the position it starts after (for a "from now" start: the
    /// topic's last id then), so a re-subscription can resume exactly there.
    /// </summary>
    public sealed record SubscriptionStarted(string SubscriptionId, int Attempt, IActorRef Source, RecordId? StartAfter) : IReply;

    /// <summary>Events for a subscriber, in id order, each after the previous one sent.</summary>
    public sealed record SubscriptionEvents(string SubscriptionId, EventRecord[] Events) : IReply;

    /// <summary>Cumulative acknowledgement: every event up to and including <paramref name="UpTo"/> is processed.</summary>
    public sealed record SubscriptionAck(string SubscriptionId, RecordId UpTo) : IForgeOneMessage;

    /// <summary>Stops a source.</summary>
    public sealed record CancelSubscription(string SubscriptionId) : IForgeOneMessage;

    /// <summary>The operation failed or was refused; nothing was written.</summary>
    public sealed record EventFailed(ForgeOneError Error) : IFailureReply;
}
