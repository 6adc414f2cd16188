using System.Runtime.CompilerServices;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.BlobProtocol;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Client;

/// <summary>The actor client acting as one principal, as an <see cref="IForgeOneClient"/> (from <see cref="ForgeOneActorClient.As"/>).</summary>
public sealed class ActorClientSession : IForgeOneClient
{
    private readonly ForgeOneActorClient _client;
    private readonly Caller _caller;

    internal ActorClientSession(ForgeOneActorClient client, Caller caller)
    {
        _client = client;
        _caller = caller;
    }

    private BlobClient Blobs => new(_client.Cluster.Region(ShardKind.Blobs), _client.Cluster.Regions.Counts.Of(ShardKind.Blobs), _caller, _client.Timeout);

    /// <inheritdoc />
    public Task<RecordId> AppendLogAsync(string topic, LogInput entry, CancellationToken cancellationToken = default) =>
        _client.AppendLogAsync(_caller, topic, entry, cancellationToken);

    /// <inheritdoc />
    public Task<RecordId[]> AppendLogBatchAsync(string topic, LogInput[] entries, CancellationToken cancellationToken = default) =>
        _client.AppendLogBatchAsync(_caller, topic, entries, cancellationToken);

    /// <inheritdoc />
    public Task<LogEntry> GetLogAsync(RecordId id, CancellationToken cancellationToken = default) =>
        _client.GetLogAsync(_caller, id, cancellationToken);

    /// <inheritdoc />
    public async Task<LogPage> QueryLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Severity minSeverity = Severity.Trace, int limit = 1000, string? continuation = null, CancellationToken cancellationToken = default) =>
        Expect<LogPage>(await _client.Ask(new QueryLogs(_caller, topic, from, to, minSeverity, limit, continuation), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task<long> CountLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        Expect<LogCount>(await _client.Ask(new CountLogs(_caller, topic, from, to), cancellationToken).ConfigureAwait(false)).Count;

    /// <inheritdoc />
    public Task<TopicDescription> CreateTopicAsync(string topic, TopicSettings settings, CancellationToken cancellationToken = default) =>
        _client.CreateTopicAsync(_caller, topic, settings);

    /// <inheritdoc />
    public Task<TopicDescription> DescribeTopicAsync(string topic, CancellationToken cancellationToken = default) =>
        _client.DescribeTopicAsync(_caller, topic);

    /// <inheritdoc />
    public Task<RecordId> PublishAsync(string topic, EventInput e, CancellationToken cancellationToken = default) =>
        _client.PublishAsync(_caller, topic, e);

    /// <inheritdoc />
    public Task<RecordId[]> PublishBatchAsync(string topic, EventInput[] events, CancellationToken cancellationToken = default) =>
        _client.PublishBatchAsync(_caller, topic, events);

    /// <inheritdoc />
    public Task<EventPage> QueryEventsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Priority? minPriority = null, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default) =>
        _client.QueryEventsAsync(new QueryEvents(_caller, topic, from, to, minPriority, limit, continuation));

    /// <inheritdoc />
    public Task CommitOffsetAsync(string group, string topic, RecordId position, bool force = false, CancellationToken cancellationToken = default) =>
        _client.CommitOffsetAsync(_caller, group, topic, position, force);

    /// <inheritdoc />
    public Task<CurrentConsumerOffset> GetOffsetAsync(string group, string topic, CancellationToken cancellationToken = default) =>
        _client.GetOffsetAsync(_caller, group, topic);

    /// <inheritdoc />
    public async IAsyncEnumerable<EventRecord> SubscribeAsync(string topic, SubscriptionStart? start = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (region, error) = _client.Cluster.ResolveRegion(ShardKind.Events, topic, _caller, null);
        if (error is not null)
        {
            throw new ForgeOneException(error);
        }

        await using var subscription = SubscriptionChannel.Start(_client.System, region!, _caller, topic, start ?? SubscriptionStart.Beginning, new EventSubscriptionSettings());
        await subscription.Started.WaitAsync(cancellationToken).ConfigureAwait(false);
        while (await subscription.Events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (subscription.Events.TryRead(out var e))
            {
                yield return e;
                // The caller asked for the next one: this one is handled.
                subscription.Ack(e.Id);
            }
        }
    }

    /// <inheritdoc />
    public Task<BlobMetadata> UploadBlobAsync(Stream source, string name, string contentType, IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default) =>
        Blobs.UploadAsync(source, name, contentType, metadata, cancellationToken: cancellationToken);

    /// <inheritdoc />
    public Task<BlobMetadata> DownloadBlobAsync(RecordId id, Stream destination, CancellationToken cancellationToken = default) =>
        Blobs.DownloadAsync(id, destination, cancellationToken);

    /// <inheritdoc />
    public Task<BlobMetadata> GetBlobAsync(RecordId id, CancellationToken cancellationToken = default) =>
        Blobs.GetAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task<int> DeleteBlobAsync(RecordId id, CancellationToken cancellationToken = default) =>
        Blobs.DeleteAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task<BlobLookupPage> FindBlobsAsync(BlobLookupKind by, string value, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default) =>
        Blobs.FindAsync(by, value, limit, continuation, cancellationToken);

    private static T Expect<T>(object reply) =>
        reply switch
        {
            T ok => ok,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply {reply.GetType().Name}."),
        };
}
