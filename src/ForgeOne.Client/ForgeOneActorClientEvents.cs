using Akka.Actor;
using ForgeOne.Cluster.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Client;

/// <summary>
/// Events operations of <see cref="ForgeOneActorClient"/>. Every call goes through the cluster's
/// residency router, so a topic of zone Z (registered in the residency directory, or named with
/// <c>zone</c>) reaches only zone Z's shards.
/// </summary>
public static class ForgeOneActorClientEvents
{
    /// <summary>Creates a topic (an <c>events:admin</c> decision); returns it as stored.</summary>
    public static async Task<TopicDescription> CreateTopicAsync(this ForgeOneActorClient client, string topic, TopicSettings settings) =>
        Expect<TopicCreated>(await Ask(client, new CreateTopic(client.Tokens.Current, topic, settings, settings.ResidencyZone)).ConfigureAwait(false)).Topic;

    /// <summary>Describes a topic.</summary>
    public static async Task<TopicDescription> DescribeTopicAsync(this ForgeOneActorClient client, string topic, string? zone = null) =>
        Expect<TopicDescribed>(await Ask(client, new DescribeTopic(client.Tokens.Current, topic, zone)).ConfigureAwait(false)).Topic;

    /// <summary>One page of the topics of every events shard (of <paramref name="zone"/>); pass the continuation back for the next.</summary>
    public static Task<TopicListPage> ListTopicsAsync(this ForgeOneActorClient client, int limit = 100, string? continuation = null, string? zone = null) =>
        EventTopics.ListAsync(Region(client, zone), client.Cluster.Regions.Counts.Of(ShardKind.Events), client.Tokens.Current, limit, continuation, client.Timeout, zone);

    /// <summary>
    /// Publishes one event; returns its id once committed. Retried and coalesced with other
    /// single writes to the same shard; published exactly once (<paramref name="requestId"/>: see
    /// <see cref="ForgeOneActorClient.AppendLogAsync"/>).
    /// </summary>
    public static async Task<RecordId> PublishAsync(this ForgeOneActorClient client, string topic, EventInput e, string? zone = null, RequestId? requestId = null) =>
        Expect<EventPublished>(await client.SendSingleWriteAsync(new PublishEvent(client.Tokens.Current, topic, e, zone, requestId ?? client.NextRequestId()), CancellationToken.None).ConfigureAwait(false)).Id;

    /// <summary>Publishes a batch (all-or-nothing, one audit record); returns the ids in order once committed. Retried; published exactly once.</summary>
    public static async Task<RecordId[]> PublishBatchAsync(this ForgeOneActorClient client, string topic, EventInput[] events, string? zone = null, RequestId? requestId = null) =>
        Expect<EventsPublished>(await Ask(client, new PublishEvents(client.Tokens.Current, topic, events, zone, requestId ?? client.NextRequestId())).ConfigureAwait(false)).Ids;

    /// <summary>One page of a topic's events in a time range, ordered by (timestamp, id).</summary>
    public static async Task<EventPage> QueryEventsAsync(this ForgeOneActorClient client, QueryEvents query) =>
        Expect<EventPage>(await Ask(client, query).ConfigureAwait(false));

    /// <summary>Commits a consumer group's position (forward only unless <paramref name="force"/>).</summary>
    public static async Task<ConsumerOffsetCommitted> CommitOffsetAsync(this ForgeOneActorClient client, string group, string topic, RecordId position, bool force = false, string? zone = null) =>
        Expect<ConsumerOffsetCommitted>(await Ask(client, new CommitConsumerOffset(client.Tokens.Current, group, topic, position, force, zone)).ConfigureAwait(false));

    /// <summary>A consumer group's position (null position: never committed).</summary>
    public static async Task<CurrentConsumerOffset> GetOffsetAsync(this ForgeOneActorClient client, string group, string topic, string? zone = null) =>
        Expect<CurrentConsumerOffset>(await Ask(client, new GetConsumerOffset(client.Tokens.Current, group, topic, zone)).ConfigureAwait(false));

    /// <summary>
    /// Starts an <see cref="EventSubscription"/> delivering <paramref name="topic"/> to
    /// <paramref name="consumer"/> (which acknowledges each <see cref="EventSubscription.Delivered"/>
    /// with <see cref="EventSubscription.Ack"/>); stop it with <see cref="EventSubscription.Stop"/>.
    /// </summary>
    public static IActorRef Subscribe(this ForgeOneActorClient client, string topic, IActorRef consumer, SubscriptionStart? start = null, EventSubscriptionSettings? settings = null) =>
        client.System.ActorOf(EventSubscription.Props(TopicRegion(client, topic, settings?.Zone), client.Tokens, topic, consumer, start, settings));

    // The topic's zone from the residency directory (or the declared one), like every request.
    private static IActorRef TopicRegion(ForgeOneActorClient client, string topic, string? zone)
    {
        var (region, error) = client.Cluster.ResolveRegion(ShardKind.Events, topic, client.Principal?.Tenant, zone);
        return region ?? throw new ForgeOneException(error!);
    }

    private static IActorRef Region(ForgeOneActorClient client, string? zone) =>
        zone is null
            ? client.Cluster.Region(ShardKind.Events)
            : client.Cluster.ZoneRegions.TryGetValue((ShardKind.Events, zone), out var region)
                ? region
                : throw new ForgeOneException(ErrorCodes.ResidencyUnavailable, $"Residency zone '{zone}' is not served by this cluster.");

    private static Task<object> Ask(ForgeOneActorClient client, IShardMessage message) => client.Ask(message);

    private static T Expect<T>(object reply) =>
        reply switch
        {
            T ok => ok,
            IFailureReply failed => throw new ForgeOneException(failed.Error),
            _ => throw new ForgeOneException(ErrorCodes.Unavailable, $"Unexpected reply {reply.GetType().Name}."),
        };
}
