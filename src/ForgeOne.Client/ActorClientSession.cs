using System.Runtime.CompilerServices;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.BlobProtocol;
using static ForgeOne.Cluster.Protocol.EventProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Client;

/// <summary>
/// The actor client acting as one principal, the one whose tokens <see cref="Tokens"/> gives, as
/// an <see cref="IForgeOneClient"/> (from <see cref="ForgeOneActorClient.As(IPrincipalTokenSource)"/>).
/// </summary>
public sealed class ActorClientSession : IForgeOneClient
{
    private readonly ForgeOneActorClient _client;

    internal ActorClientSession(ForgeOneActorClient client, IPrincipalTokenSource tokens)
    {
        _client = client;
        Tokens = tokens;
    }

    /// <summary>The tokens this session's requests carry.</summary>
    public IPrincipalTokenSource Tokens { get; }

    private PrincipalToken Token => Tokens.Current;

    private BlobClient Blobs => new(_client.Cluster.Region(ShardKind.Blobs), _client.Cluster.Regions.Counts.Of(ShardKind.Blobs), Tokens, _client.Timeout);

    /// <inheritdoc />
    public async Task<RecordId> AppendLogAsync(string topic, LogInput entry, CancellationToken cancellationToken = default) =>
        Expect<LogAppended>(await _client.SendSingleWriteAsync(new AppendLog(Token, topic, entry, RequestId: _client.NextRequestId()), cancellationToken).ConfigureAwait(false)).Id;

    /// <inheritdoc />
    public async Task<RecordId[]> AppendLogBatchAsync(string topic, LogInput[] entries, CancellationToken cancellationToken = default) =>
        Expect<LogBatchAppended>(await _client.Ask(new AppendLogBatch(Token, topic, entries, RequestId: _client.NextRequestId()), cancellationToken).ConfigureAwait(false)).Ids;

    /// <inheritdoc />
    public async Task<LogEntry> GetLogAsync(RecordId id, CancellationToken cancellationToken = default) =>
        Expect<LogFound>(await _client.Ask(new GetLog(Token, id), cancellationToken).ConfigureAwait(false)).Entry;

    /// <inheritdoc />
    public async Task<LogPage> QueryLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Severity minSeverity = Severity.Trace, int limit = 1000, string? continuation = null, CancellationToken cancellationToken = default) =>
        Expect<LogPage>(await _client.Ask(new QueryLogs(Token, topic, from, to, minSeverity, limit, continuation), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task<long> CountLogsAsync(string topic, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        Expect<LogCount>(await _client.Ask(new CountLogs(Token, topic, from, to), cancellationToken).ConfigureAwait(false)).Count;

    /// <inheritdoc />
    public async Task<TopicDescription> CreateTopicAsync(string topic, TopicSettings settings, CancellationToken cancellationToken = default) =>
        Expect<TopicCreated>(await _client.Ask(new CreateTopic(Token, topic, settings, settings.ResidencyZone), cancellationToken).ConfigureAwait(false)).Topic;

    /// <inheritdoc />
    public async Task<TopicDescription> DescribeTopicAsync(string topic, CancellationToken cancellationToken = default) =>
        Expect<TopicDescribed>(await _client.Ask(new DescribeTopic(Token, topic), cancellationToken).ConfigureAwait(false)).Topic;

    /// <inheritdoc />
    public async Task<RecordId> PublishAsync(string topic, EventInput e, CancellationToken cancellationToken = default) =>
        Expect<EventPublished>(await _client.SendSingleWriteAsync(new PublishEvent(Token, topic, e, RequestId: _client.NextRequestId()), cancellationToken).ConfigureAwait(false)).Id;

    /// <inheritdoc />
    public async Task<RecordId[]> PublishBatchAsync(string topic, EventInput[] events, CancellationToken cancellationToken = default) =>
        Expect<EventsPublished>(await _client.Ask(new PublishEvents(Token, topic, events, RequestId: _client.NextRequestId()), cancellationToken).ConfigureAwait(false)).Ids;

    /// <inheritdoc />
    public async Task<EventPage> QueryEventsAsync(string topic, DateTimeOffset from, DateTimeOffset to, Priority? minPriority = null, int limit = 100, string? continuation = null, CancellationToken cancellationToken = default) =>
        Expect<EventPage>(await _client.Ask(new QueryEvents(Token, topic, from, to, minPriority, limit, continuation), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task CommitOffsetAsync(string group, string topic, RecordId position, bool force = false, CancellationToken cancellationToken = default) =>
        Expect<ConsumerOffsetCommitted>(await _client.Ask(new CommitConsumerOffset(Token, group, topic, position, force), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task<CurrentConsumerOffset> GetOffsetAsync(string group, string topic, CancellationToken cancellationToken = default) =>
        Expect<CurrentConsumerOffset>(await _client.Ask(new GetConsumerOffset(Token, group, topic), cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async IAsyncEnumerable<EventRecord> SubscribeAsync(string topic, SubscriptionStart? start = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var tenant = PrincipalTokenCodec.TryDecode(Token.Value, out var claims, out _) ? claims!.Principal.Tenant : null;
        var (region, error) = _client.Cluster.ResolveRegion(ShardKind.Events, topic, tenant, null);
        if (error is not null)
        {
            throw new ForgeOneException(error);
        }

        await using var subscription = SubscriptionChannel.Start(_client.System, region!, Tokens, topic, start ?? SubscriptionStart.Beginning, new EventSubscriptionSettings());
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
