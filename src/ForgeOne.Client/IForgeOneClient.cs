using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.BlobProtocol;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Client;

/// <summary>
/// The operations the HTTP client (<see cref="Http.ForgeOneHttpClient"/>) and the actor client
/// (<see cref="ForgeOneActorClient.As(ForgeOne.Security.PrincipalToken)"/>) share, with the same types, so code written against one
/// runs against the other. Every failure is a <see cref="ForgeOneException"/> whose
/// <see cref="ForgeOneException.Code"/> is the stable error code. Writes are retried on transient
/// failures and applied exactly once (a request id travels with each).
/// </summary>
public interface IForgeOneClient
{
    /// <summary>Appends one entry; its id once committed.</summary>
    Task<RecordId> AppendLogAsync(string topic, LogInput entry, CancellationToken cancellationToken = default);

    /// <summary>Appends a batch to one topic (one transaction, all or nothing); the ids in order.</summary>
    Task<RecordId[]> AppendLogBatchAsync(string topic, LogInput[] entries, CancellationToken cancellationToken = default);

    /// <summary>One entry by id.</summary>
    Task<LogEntry> GetLogAsync(RecordId id, CancellationToken cancellationToken = default);

    /// <summary>One page of a topic's entries with <paramref name="from"/> &lt;= timestamp &lt; <paramref name="to"/> and severity &gt;= <paramref name="minSeverity"/>.</summary>
    Task<LogPage> QueryLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Severity minSeverity = Severity.Trace, int limit = 1000, string? continuation = null, CancellationToken cancellationToken = default);

    /// <summary>Number of a topic's entries in a time range.</summary>
    Task<long> CountLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default);

    /// <summary>Creates an events topic (events:admin).</summary>
    Task<TopicDescription> CreateTopicAsync(string topic, TopicSettings settings, CancellationToken cancellationToken = default);

    /// <summary>An events topic's settings.</summary>
    Task<TopicDescription> DescribeTopicAsync(string topic, CancellationToken cancellationToken = default);

    /// <summary>Publishes one event; its id once committed.</summary>
    Task<RecordId> PublishAsync(string topic, EventInput e, CancellationToken cancellationToken = default);

    /// <summary>Publishes a batch (all or nothing); the ids in order.</summary>
    Task<RecordId[]> PublishBatchAsync(string topic, EventInput[] events, CancellationToken cancellationToken = default);

    /// <summary>One page of a topic's events in a time range, by (timestamp, id).</summary>
    Task<EventPage> QueryEventsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Priority? minPriority = null, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default);

    /// <summary>Commits a consumer group's position (forward only unless <paramref name="force"/>).</summary>
    Task CommitOffsetAsync(string group, string topic, RecordId position, bool force = false, CancellationToken cancellationToken = default);

    /// <summary>A consumer group's committed position.</summary>
    Task<CurrentConsumerOffset> GetOffsetAsync(string group, string topic, CancellationToken cancellationToken = default);

    /// <summary>
    /// The topic's events from <paramref name="start"/> (default: the beginning): catch-up, then
    /// live, in id order, each once, resuming by itself after a lost connection or a moved
    /// shard. Back-pressure: the next events are requested only as this is enumerated.
    /// </summary>
    IAsyncEnumerable<EventRecord> SubscribeAsync(string topic, SubscriptionStart? start = null, CancellationToken cancellationToken = default);

    /// <summary>Streams <paramref name="source"/> to its end into a new blob; the committed metadata.</summary>
    Task<BlobMetadata> UploadBlobAsync(Stream source, string name, string contentType, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default);

    /// <summary>Streams a blob into <paramref name="destination"/>, verifying its checksum; its metadata.</summary>
    Task<BlobMetadata> DownloadBlobAsync(RecordId id, Stream destination, CancellationToken cancellationToken = default);

    /// <summary>A blob's metadata.</summary>
    Task<BlobMetadata> GetBlobAsync(RecordId id, CancellationToken cancellationToken = default);

    /// <summary>Deletes a blob (its chunks destroyed, a tombstone kept); the chunks destroyed.</summary>
    Task<int> DeleteBlobAsync(RecordId id, CancellationToken cancellationToken = default);

    /// <summary>One page of the blobs with exactly this name or content type.</summary>
    Task<BlobLookupPage> FindBlobsAsync(BlobLookupKind by, string value, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default);
}
