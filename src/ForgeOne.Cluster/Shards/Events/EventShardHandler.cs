using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Shards.Events;

/// <summary>
/// Topics, events, consumer offsets and subscriptions on an events shard. Layout:
/// <code>
///   topics       topicToken (16)                  -> Encrypt(TopicInfo)
///   topics       groupToken (16) | topicToken (16) -> Encrypt(ConsumerOffset)
///   events       id (8)                           -> Encrypt(StoredEventMessage{payload, metadata field-encrypted})
///   event_index  topicToken | ts | id             -> [priority]   (time index: queries)
///   event_index  seqToken   | idTime | id         -> [priority]   (sequence index: subscriptions)
/// </code>
/// Tokens are blind-index HMACs (<c>topic</c>, <c>"seq:" + topic</c>, <c>"group:" + group</c>;
/// ':' never occurs in a valid topic, so the token spaces cannot collide): no plaintext topic or
/// group name is in any key. The sequence index exists because client timestamps do not follow
/// commit order: a subscription resumes "after id X" and must neither skip an event published
/// later with an earlier timestamp nor decrypt every event of the shard to find its topic's.
/// Its time field is the id's own assigned time, so key order is id order.
/// </summary>
/// <remarks>
/// Authorization is two-step: <see cref="Admit"/> checks the role, tenant and (for creation)
/// the requested classification and zone; the topic's stored classification and zone are checked
/// again where the topic record is read (Apply/Read), because Admit may not touch the store. A
/// refusal there is <c>auth.forbidden</c> and nothing is written.
/// </remarks>
public sealed partial class EventShardHandler : IShardHandler, IShardStreamHandler
{
    /// <summary>Create topics (a governance decision: retention, residency, classification).</summary>
    public const string AdminPermission = Permissions.EventsAdmin;

    /// <summary>Publish, rewind a consumer group.</summary>
    public const string WritePermission = Permissions.EventsWrite;

    /// <summary>Read events and topics, subscribe, commit consumer offsets.</summary>
    public const string ReadPermission = Permissions.EventsRead;

    /// <summary>The most events or topics one page returns.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>The most events one retention sweep deletes (one transaction).</summary>
    public const int MaxSweepEntries = 10_000;

    /// <summary>The largest subscription window.</summary>
    public const int MaxWindow = 10_000;

    /// <inheritdoc />
    public ShardKind Kind => ShardKind.Events;

    /// <inheritdoc />
    public Props StreamProps(ShardContext context, IActorRef shard) => EventFeed.Props(context, shard);

    /// <inheritdoc />
    public Admission Admit(IShardOperation operation, Principal principal, ShardContext context)
    {
        var now = context.Time.GetUtcNow();
        var limits = context.Limits;
        switch (operation)
        {
            case CreateTopic create:
                {
                    var (action, resource) = ("events.topic_create", TopicResource(context, create.Topic));
                    var error = Validate.Topic(create.Topic, limits)
                        ?? ValidateSettings(create.Settings, limits)
                        ?? (!string.Equals(create.Settings.ResidencyZone, context.Zone, StringComparison.Ordinal)
                            // The router picks the region from the message's zone: a topic of another
                            // zone reached shards that may not hold its data.
                            ? new ForgeOneError(ErrorCodes.ResidencyMismatch, $"Topic '{create.Topic}' of zone '{create.Settings.ResidencyZone ?? "default"}' must be created by that zone's shards (send it with Zone = '{create.Settings.ResidencyZone}'), not zone '{context.Zone ?? "default"}'s.")
                            : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, create.Topic, create.Settings.ResidencyZone, create.Settings.Classification, action, resource);
                }

            case SetTopicLegalHold hold:
                {
                    var (action, resource) = ("events.topic_legal_hold", TopicResource(context, hold.Topic));
                    var error = Validate.Topic(hold.Topic, limits);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, hold.Topic, null, 0, action, resource, $"legal_hold={hold.LegalHold}");
                }

            case SweepEventRetention sweep:
                {
                    var (action, resource) = ("events.retention_sweep", context.ResourcePrefix);
                    var error = sweep.MaxEntries is < 1 or > MaxSweepEntries ? new ForgeOneError(ErrorCodes.InvalidArgument, $"MaxEntries must be 1..{MaxSweepEntries}.") : null;
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, null, null, 0, action, resource, $"max={sweep.MaxEntries}");
                }

            case DescribeTopic describe:
                {
                    var (action, resource) = ("events.topic_describe", TopicResource(context, describe.Topic));
                    var error = Validate.Topic(describe.Topic, limits);
                    return error is not null ? Admission.Reject(action, resource, error) : Authorize(context, principal, operation, describe.Topic, null, 0, action, resource);
                }

            case ListTopics list:
                {
                    var (action, resource) = ("events.topic_list", context.ResourcePrefix);
                    var error = list.Limit is < 1 or > MaxPageSize ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Limit must be 1..{MaxPageSize}.") : null;
                    return error is not null ? Admission.Reject(action, resource, error) : Authorize(context, principal, operation, null, null, 0, action, resource);
                }

            case PublishEvent publish:
                {
                    var (action, resource) = ("events.publish", TopicResource(context, publish.Topic));
                    var error = publish.Event is null
                        ? new ForgeOneError(ErrorCodes.InvalidArgument, "An event is required.")
                        : ValidateEvent(publish.Topic, publish.Event, now, limits);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, publish.Topic, null, 0, action, resource, $"count=1 priority={publish.Event!.Priority}");
                }

            case PublishEvents batch:
                {
                    var (action, resource) = ("events.publish_batch", TopicResource(context, batch.Topic));
                    var error = ValidateBatch(batch, now, limits);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, batch.Topic, null, 0, action, resource, $"count={batch.Events.Length}");
                }

            case QueryEvents query:
                {
                    var (action, resource) = ("events.query", TopicResource(context, query.Topic));
                    var error = Validate.Topic(query.Topic, limits)
                        ?? (query.From >= query.To ? new ForgeOneError(ErrorCodes.InvalidArgument, "From must be before To.") : null)
                        ?? (query.Limit is < 1 or > MaxPageSize ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Limit must be 1..{MaxPageSize}.") : null)
                        ?? (query.MinPriority is { } p && !Enum.IsDefined(p) ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Priority {(int)p} is unknown.") : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, query.Topic, null, 0, action, resource, query.MinPriority is { } min ? $"min_priority={min}" : "");
                }

            case GetEvent get:
                {
                    var (action, resource) = ("events.get", $"{context.ResourcePrefix}/id:{get.Id}");
                    return get.Id.Shard != context.ShardNumber
                        ? Admission.Reject(action, resource, new ForgeOneError(ErrorCodes.StorageWrongShard, $"Id {get.Id} belongs to shard {get.Id.Shard}, not {context.ShardNumber}."))
                        : Authorize(context, principal, operation, null, null, 0, action, resource);
                }

            case CommitConsumerOffset commit:
                {
                    var (action, resource) = ("events.offset_commit", $"{TopicResource(context, commit.Topic)}/group:{Printable.Text(commit.Group)}");
                    var error = Validate.Topic(commit.Topic, limits)
                        ?? ValidateGroup(commit.Group, limits)
                        ?? (commit.Position.Shard != context.ShardNumber
                            ? new ForgeOneError(ErrorCodes.InvalidId, $"Position {commit.Position} is an id of shard {commit.Position.Shard}; events of '{commit.Topic}' live in shard {context.ShardNumber}.")
                            : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, commit.Topic, null, 0, action, resource, $"position={commit.Position} force={commit.Force}");
                }

            case GetConsumerOffset offset:
                {
                    var (action, resource) = ("events.offset_get", $"{TopicResource(context, offset.Topic)}/group:{Printable.Text(offset.Group)}");
                    var error = Validate.Topic(offset.Topic, limits) ?? ValidateGroup(offset.Group, limits);
                    return error is not null ? Admission.Reject(action, resource, error) : Authorize(context, principal, operation, offset.Topic, null, 0, action, resource);
                }

            case Subscribe subscribe:
                {
                    var (action, resource) = ("events.subscribe", TopicResource(context, subscribe.Topic));
                    var error = Validate.Topic(subscribe.Topic, limits)
                        ?? (subscribe.Window is < 1 or > MaxWindow ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Window must be 1..{MaxWindow}.") : null)
                        ?? (subscribe.Subscriber is null || subscribe.Subscriber.IsNobody() ? new ForgeOneError(ErrorCodes.InvalidArgument, "A subscriber is required.") : null)
                        ?? (subscribe.Start is null ? new ForgeOneError(ErrorCodes.InvalidArgument, "A start position is required.") : null)
                        ?? (string.IsNullOrEmpty(subscribe.SubscriptionId) || subscribe.SubscriptionId.Length > 128 ? new ForgeOneError(ErrorCodes.InvalidArgument, "A subscription id of 1..128 characters is required.") : null);
                    return error is not null
                        ? Admission.Reject(action, resource, error)
                        : Authorize(context, principal, operation, subscribe.Topic, null, 0, action, resource, $"subscription={subscribe.SubscriptionId} window={subscribe.Window}");
                }

            default:
                return Admission.Reject("events.unknown", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, $"{operation.GetType().Name} is not an events operation."));
        }
    }

    /// <inheritdoc />
    public object Fail(ForgeOneError error) => new EventFailed(error);

    private static ForgeOneError? ValidateSettings(TopicSettings? settings, Limits limits)
    {
        if (settings is null)
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, "Topic settings are required.");
        }

        if (settings.Retention is { } retention && retention <= TimeSpan.Zero)
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, $"A retention period must be positive; got {retention}. Leave it unset to keep events forever.");
        }

        if (settings.Classification < 0)
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, "Classification must be 0 or more.");
        }

        if (settings.ResidencyZone is { } zone && (zone.Length is 0 or > 64 || !zone.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, "A residency zone is 1..64 characters of a-z, 0-9 and '-'.");
        }

        return Validate.Metadata(settings.Metadata, limits);
    }

    private static ForgeOneError? ValidateGroup(string? group, Limits limits) =>
        Validate.Topic(group, limits) is { } error
            ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Consumer group: {error.Message}")
            : null;

    private static ForgeOneError? ValidateEvent(string topic, EventInput e, DateTimeOffset now, Limits limits) =>
        e.Payload is null
            ? new ForgeOneError(ErrorCodes.InvalidArgument, "A payload is required (it may be empty).")
            : ModelValidation.Event(topic, e.Timestamp, e.Priority, e.Payload, e.Metadata, e.CheckpointMarker, now, limits);

    private static ForgeOneError? ValidateBatch(PublishEvents batch, DateTimeOffset now, Limits limits)
    {
        if (batch.Events is null || batch.Events.Length == 0)
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, "A batch needs at least one event.");
        }

        if (batch.Events.Length > limits.MaxBatchEntries)
        {
            return new ForgeOneError(ErrorCodes.BatchTooLarge, $"A batch holds at most {limits.MaxBatchEntries} events; got {batch.Events.Length}.");
        }

        for (var i = 0; i < batch.Events.Length; i++)
        {
            var error = batch.Events[i] is null
                ? new ForgeOneError(ErrorCodes.InvalidArgument, "null event")
                : ValidateEvent(batch.Topic, batch.Events[i], now, limits);
            if (error is not null)
            {
                return error with { Message = $"event {i}: {error.Message}" };
            }
        }

        return null;
    }

    private static Admission Authorize(ShardContext context, Principal principal, IShardOperation operation, string? topic, string? zone, int classification, string action, string resource, string detail = "") =>
        ShardAccess.Admit(
            context,
            principal,
            operation,
            MessagePermissions.PermissionOf(operation) == Permissions.SystemWrite
                ? new ResourceDescriptor("system", ResidencyZone: context.Zone)
                : new ResourceDescriptor("events", principal.Tenant, topic, zone, classification),
            action,
            resource,
            detail);

    private static string TopicResource(ShardContext context, string? topic) => $"{context.ResourcePrefix}/topic:{Printable.Text(topic)}";}
