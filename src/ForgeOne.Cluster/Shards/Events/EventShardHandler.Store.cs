using System.Security.Cryptography;
using System.Text;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.Cluster.Shards.Events;

/// <content>Apply and Read: everything that touches the store.</content>
public sealed partial class EventShardHandler
{
    /// <inheritdoc />
    public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context)
    {
        var now = context.Time.GetUtcNow();
        switch (command)
        {
            case CreateTopic create:
                {
                    var key = TopicKey(context, create.Topic);
                    if (txn.Get(Tables.Topics, key) is not null)
                    {
                        throw new ForgeOneException(ErrorCodes.Conflict, $"Topic '{create.Topic}' already exists.");
                    }

                    var s = create.Settings;
                    var info = new TopicInfo(create.Topic, now, s.Retention, s.ResidencyZone, s.Classification, s.LegalHold, s.Metadata ?? []);
                    txn.Put(Tables.Topics, key, context.Security.Encrypt(Tables.Topics, key, info.Encode()));
                    return new TopicCreated(Describe(info));
                }

            case SetTopicLegalHold hold:
                {
                    var info = RequireTopic(txn, context, principal, AdminPermission, hold.Topic) with { LegalHold = hold.LegalHold };
                    var key = TopicKey(context, hold.Topic);
                    txn.Put(Tables.Topics, key, context.Security.Encrypt(Tables.Topics, key, info.Encode()));
                    return new TopicDescribed(Describe(info));
                }

            case SweepEventRetention sweep:
                return Sweep(txn, context, sweep, now);

            case PublishEvent publish:
                {
                    var topic = RequireTopic(txn, context, principal, WritePermission, publish.Topic);
                    return new EventPublished(publish.Topic, Write(txn, context, topic, publish.Event, now, TopicToken(context, publish.Topic), SeqToken(context, publish.Topic)));
                }

            case PublishEvents batch:
                {
                    var topic = RequireTopic(txn, context, principal, WritePermission, batch.Topic);
                    var (token, seq) = (TopicToken(context, batch.Topic), SeqToken(context, batch.Topic));

                    // Retention first, for every entry: a refusal must leave nothing written, and
                    // throwing before the first Put keeps the transaction clean as well.
                    var retention = RetentionPolicy.For(topic);
                    for (var i = 0; i < batch.Events.Length; i++)
                    {
                        if (retention.CheckWrite(batch.Events[i].Timestamp, now) is { } expired)
                        {
                            throw new ForgeOneException(expired with { Message = $"event {i}: {expired.Message}" });
                        }
                    }

                    var ids = new RecordId[batch.Events.Length];
                    for (var i = 0; i < ids.Length; i++)
                    {
                        ids[i] = Write(txn, context, topic, batch.Events[i], now, token, seq);
                    }

                    return new EventsPublished(batch.Topic, ids);
                }

            case CommitConsumerOffset commit:
                {
                    RequireTopic(txn, context, principal, commit.Force ? WritePermission : ReadPermission, commit.Topic);
                    var key = OffsetKey(context, commit.Group, commit.Topic);
                    var stored = LoadOffset(txn, context, key);
                    if (stored is not null && commit.Position < stored.Position && !commit.Force)
                    {
                        throw new ForgeOneException(ErrorCodes.OffsetRegression,
                            $"Group '{commit.Group}' is at {stored.Position} in '{commit.Topic}'; {commit.Position} is older. Commit with Force to rewind.");
                    }

                    var offset = new ConsumerOffset(commit.Group, commit.Topic, commit.Position, (stored?.Version ?? 0) + 1, now);
                    txn.Put(Tables.Topics, key, context.Security.Encrypt(Tables.Topics, key, offset.Encode()));
                    return new ConsumerOffsetCommitted(commit.Group, commit.Topic, commit.Position, offset.Version);
                }

            default:
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{command.GetType().Name} is not an events command.");
        }
    }

    /// <inheritdoc />
    public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context)
    {
        try
        {
            return query switch
            {
                DescribeTopic describe => new TopicDescribed(Describe(RequireTopic(txn, context, principal, ReadPermission, describe.Topic))),
                ListTopics list => ListPage(txn, context, list, principal),
                QueryEvents q => QueryPage(txn, context, q, principal),
                GetEvent get => GetOne(txn, context, get, principal),
                GetConsumerOffset offset => CurrentOffset(txn, context, offset, principal),
                _ => new EventFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"{query.GetType().Name} is not an events query.")),
            };
        }
        catch (ForgeOneException e)
        {
            return new EventFailed(e.Error);
        }
    }

    /// <summary>
    /// Up to <paramref name="limit"/> events of <paramref name="topic"/> after <paramref name="after"/>
    /// (null: from the first) in id order, as <paramref name="readable"/> may see them; and whether
    /// the topic ended before the limit. Used by subscription sources.
    /// </summary>
    internal static (EventRecord[] Events, bool ReachedEnd) ReadAfter(IReadTransaction txn, ShardContext context, string topic, RecordId? after, int limit, IReadOnlySet<FieldClass> readable)
    {
        var seq = SeqToken(context, topic);
        var from = after is { } a ? RecordKeys.After(RecordKeys.TopicIndex(seq, a.AssignedAt, a)) : PrefixStart(seq);
        var keys = IndexScan(txn, context, from, RecordKeys.PrefixEnd(seq), limit: limit);
        var events = new EventRecord[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var (_, id) = RecordKeys.ParseTopicIndex(keys[i].Key);
            events[i] = Load(txn, context, id, readable) ?? throw Dangling(id);
            if (events[i].Topic != topic)
            {
                throw Mismatch(context, keys[i].Key, $"it is filed under another topic than event {id}'s");
            }
        }

        return (events, keys.Count < limit);
    }

    /// <summary>The last id of <paramref name="topic"/>, or null when it has no events.</summary>
    internal static RecordId? Tail(IReadTransaction txn, ShardContext context, string topic)
    {
        var seq = SeqToken(context, topic);
        var last = IndexScan(txn, context, PrefixStart(seq), RecordKeys.PrefixEnd(seq), reverse: true, limit: 1);
        return last.Count == 0 ? null : RecordKeys.ParseTopicIndex(last[0].Key).Id;
    }

    /// <summary>The stored topic, or null.</summary>
    internal static TopicInfo? LoadTopic(IReadTransaction txn, ShardContext context, string topic)
    {
        var key = TopicKey(context, topic);
        return txn.Get(Tables.Topics, key) is { } value ? TopicInfo.Decode(context.Security.Decrypt(Tables.Topics, key, value)) : null;
    }

    /// <summary>The authoritative check against the topic's own classification and zone; returns what the principal may read.</summary>
    internal static AuthorizationDecision Decide(ShardContext context, Principal principal, string permission, TopicInfo topic) =>
        context.Security.Authorize(principal, permission, new ResourceDescriptor("events", principal.Tenant, topic.Name, topic.ResidencyZone ?? context.Zone, topic.Classification));

    /// <summary>A plaintext event as a reader with <paramref name="readable"/> sees it (for live pushes).</summary>
    internal static EventRecord Redact(EventRecord e, IReadOnlySet<FieldClass> readable)
    {
        var payload = readable.Contains(FieldClass.EventPayload);
        var metadata = readable.Contains(FieldClass.EventMetadata);
        return payload && metadata
            ? e
            : e with
            {
                Payload = payload ? e.Payload : null,
                Metadata = metadata ? e.Metadata : null,
                Redacted = RedactedNames(payload, metadata),
            };
    }

    private static EventRetentionSwept Sweep(IWriteTransaction txn, ShardContext context, SweepEventRetention sweep, DateTimeOffset now)
    {
        var planner = new RetentionPlanner(sweep.MaxEntries);
        var (deleted, held, more) = (0, 0, false);
        var topics = txn.Scan(Tables.Topics, [], []).Where(kv => kv.Key.Length == RecordKeys.TokenLength).ToList();
        foreach (var (key, value) in topics)
        {
            var topic = TopicInfo.Decode(context.Security.Decrypt(Tables.Topics, key, value));
            var policy = RetentionPolicy.For(topic);
            if (policy.LegalHold)
            {
                held++;
                continue; // a hold stops every deletion, whatever the period says
            }

            if (planner.ScanRange(key, policy, now) is not { } range)
            {
                continue;
            }

            // One more than we may delete tells whether the topic has more expired events; every
            // topic is visited (even with nothing left to delete) so the counts do not depend on
            // the order of the blind tokens.
            var remaining = sweep.MaxEntries - deleted;
            var keys = IndexScan(txn, context, range.From, range.Until, limit: remaining + 1).Select(kv => kv.Key).ToList();
            var seq = SeqToken(context, topic.Name);
            foreach (var batch in planner.Batches(key, keys.Take(remaining), policy, now))
            {
                foreach (var expired in batch)
                {
                    txn.Delete(Tables.EventIndex, expired.IndexKey);
                    txn.Delete(Tables.EventIndex, RecordKeys.TopicIndex(seq, expired.Id.AssignedAt, expired.Id));
                    txn.Delete(Tables.Events, RecordKeys.Primary(expired.Id));
                    deleted++;
                }
            }

            more |= keys.Count > remaining;
        }

        return new EventRetentionSwept(context.ShardNumber, deleted, held, more);
    }

    private static TopicInfo RequireTopic(IReadTransaction txn, ShardContext context, Principal principal, string permission, string topic)
    {
        var info = LoadTopic(txn, context, topic)
            ?? throw new ForgeOneException(ErrorCodes.NotFound, $"Topic '{topic}' does not exist. Topics are created explicitly (CreateTopic) with their retention, residency and classification.");
        var decision = Decide(context, principal, permission, info);
        return decision.Allowed ? info : throw new ForgeOneException(ErrorCodes.Forbidden, decision.Reason);
    }

    private static RecordId Write(IWriteTransaction txn, ShardContext context, TopicInfo topic, EventInput input, DateTimeOffset now, byte[] token, byte[] seq)
    {
        if (RetentionPolicy.For(topic).CheckWrite(input.Timestamp, now) is { } expired)
        {
            throw new ForgeOneException(expired);
        }

        var id = context.Ids.Next();
        var key = RecordKeys.Primary(id);
        var security = context.Security;
        var stored = new StoredEventMessage(
            id,
            topic.Name,
            input.Timestamp,
            input.Priority,
            security.EncryptField(FieldClass.EventPayload, Tables.Events, key, input.Payload),
            security.EncryptField(FieldClass.EventMetadata, Tables.Events, key, MetadataCodec.Encode(input.Metadata ?? [])),
            input.CheckpointMarker);
        txn.Put(Tables.Events, key, security.Encrypt(Tables.Events, key, stored.Encode()));

        // The index value is the priority, so a priority filter skips events without decrypting them.
        ReadOnlySpan<byte> priority = [(byte)input.Priority];
        IndexEntries.Put(txn, security, Tables.EventIndex, RecordKeys.TopicIndex(token, input.Timestamp, id), priority);
        IndexEntries.Put(txn, security, Tables.EventIndex, RecordKeys.TopicIndex(seq, id.AssignedAt, id), priority);
        return id;
    }

    private static EventRecord? Load(IReadTransaction txn, ShardContext context, RecordId id, IReadOnlySet<FieldClass> readable)
    {
        var key = RecordKeys.Primary(id);
        if (txn.Get(Tables.Events, key) is not { } value)
        {
            return null;
        }

        var stored = StoredEventMessage.Decode(context.Security.Decrypt(Tables.Events, key, value));
        var payload = context.Security.RevealField(FieldClass.EventPayload, Tables.Events, key, stored.Payload, readable);
        var metadata = context.Security.RevealField(FieldClass.EventMetadata, Tables.Events, key, stored.Metadata, readable);
        return new EventRecord(
            stored.Id,
            stored.Topic,
            stored.Timestamp,
            stored.Priority,
            payload,
            metadata is null ? null : new Dictionary<string, string>(MetadataCodec.Decode(metadata), StringComparer.Ordinal),
            stored.CheckpointMarker,
            RedactedNames(payload is not null, metadata is not null));
    }

    private static object QueryPage(IReadTransaction txn, ShardContext context, QueryEvents q, Principal principal)
    {
        var topic = RequireTopic(txn, context, principal, ReadPermission, q.Topic);
        var readable = Decide(context, principal, ReadPermission, topic).ReadableFields;
        var token = TopicToken(context, q.Topic);
        var scope = QueryScope(q);
        var macKey = PagingKey(context);
        var from = RecordKeys.TopicIndexFrom(token, q.From);
        var until = RecordKeys.TopicIndexUntil(token, q.To);
        if (q.Continuation is not null)
        {
            var last = ContinuationToken.Open(q.Continuation, macKey, scope);
            if (last.Length != RecordKeys.TopicIndexLength || !last.AsSpan().StartsWith(token))
            {
                throw new ForgeOneException(ErrorCodes.InvalidContinuationToken, "The continuation token is not valid for this query.");
            }

            from = RecordKeys.After(last);
        }

        // Scan in chunks: a priority filter may skip many keys, and Scan materializes its result.
        var chunk = Math.Min(Math.Max(q.Limit * 2, 64), 4096);
        var events = new List<EventRecord>(q.Limit);
        byte[]? lastKey = null;
        var full = false;
        while (!full)
        {
            var keys = IndexScan(txn, context, from, until, limit: chunk);
            foreach (var (key, priority) in keys)
            {
                lastKey = key;
                if (q.MinPriority is { } min && priority < (byte)min)
                {
                    continue;
                }

                var (timestamp, id) = RecordKeys.ParseTopicIndex(key);
                var loaded = Load(txn, context, id, readable) ?? throw Dangling(id);
                if (loaded.Topic != q.Topic || loaded.Timestamp.ToUnixTimeMilliseconds() != timestamp.ToUnixTimeMilliseconds() || (byte)loaded.Priority != priority)
                {
                    throw Mismatch(context, key, $"it does not describe event {id} (topic, time or priority differ)");
                }

                events.Add(loaded);
                if (events.Count == q.Limit)
                {
                    full = true;
                    break;
                }
            }

            if (full || keys.Count < chunk)
            {
                break;
            }

            from = RecordKeys.After(lastKey!);
        }

        // A full page may be followed by nothing: the next page is then empty, which is cheaper
        // than looking ahead one entry on every page.
        var continuation = full ? ContinuationToken.Create(lastKey!, macKey, scope) : null;
        return new EventPage(q.Topic, [.. events], continuation);
    }

    private static object ListPage(IReadTransaction txn, ShardContext context, ListTopics list, Principal principal)
    {
        var scope = Encoding.UTF8.GetBytes($"events.topics/{context.ShardNumber}");
        var macKey = PagingKey(context);
        var from = list.Continuation is null ? [] : RecordKeys.After(ContinuationToken.Open(list.Continuation, macKey, scope));
        var topics = new List<TopicDescription>();
        byte[]? lastKey = null;
        var full = false;
        while (!full)
        {
            var rows = txn.Scan(Tables.Topics, from, [], limit: 256).ToList();
            foreach (var (key, value) in rows)
            {
                lastKey = key;
                if (key.Length != RecordKeys.TokenLength)
                {
                    continue; // a consumer offset (group token | topic token)
                }

                var info = TopicInfo.Decode(context.Security.Decrypt(Tables.Topics, key, value));
                if (Decide(context, principal, ReadPermission, info).Allowed)
                {
                    topics.Add(Describe(info));
                    if (topics.Count == list.Limit)
                    {
                        full = true;
                        break;
                    }
                }
            }

            if (full || rows.Count < 256)
            {
                break;
            }

            from = RecordKeys.After(lastKey!);
        }

        return new TopicPage(context.ShardNumber, [.. topics], full ? ContinuationToken.Create(lastKey!, macKey, scope) : null);
    }

    private static object GetOne(IReadTransaction txn, ShardContext context, GetEvent get, Principal principal)
    {
        // Decide on the topic before revealing any field: load with nothing readable first.
        var shell = Load(txn, context, get.Id, FieldClasses.None) ?? throw new ForgeOneException(ErrorCodes.NotFound, $"No event {get.Id}.");
        var topic = RequireTopic(txn, context, principal, ReadPermission, shell.Topic);
        var readable = Decide(context, principal, ReadPermission, topic).ReadableFields;
        return new EventFound(Load(txn, context, get.Id, readable)!);
    }

    private static object CurrentOffset(IReadTransaction txn, ShardContext context, GetConsumerOffset get, Principal principal)
    {
        RequireTopic(txn, context, principal, ReadPermission, get.Topic);
        var offset = LoadOffset(txn, context, OffsetKey(context, get.Group, get.Topic));
        return new CurrentConsumerOffset(get.Group, get.Topic, offset?.Position, offset?.Version ?? 0, offset?.CommittedAt);
    }

    private static ConsumerOffset? LoadOffset(IReadTransaction txn, ShardContext context, byte[] key) =>
        txn.Get(Tables.Topics, key) is { } value ? ConsumerOffset.Decode(context.Security.Decrypt(Tables.Topics, key, value)) : null;

    private static TopicDescription Describe(TopicInfo info) =>
        new(info.Name, info.CreatedAt, info.Retention, info.ResidencyZone, info.Classification, info.LegalHold, new Dictionary<string, string>(info.Metadata, StringComparer.Ordinal));

    private static string[] RedactedNames(bool payload, bool metadata) =>
        (payload, metadata) switch
        {
            (true, true) => [],
            (false, true) => [FieldClass.EventPayload.Name()],
            (true, false) => [FieldClass.EventMetadata.Name()],
            _ => [FieldClass.EventPayload.Name(), FieldClass.EventMetadata.Name()],
        };

    internal static byte[] TopicToken(ShardContext context, string topic) => context.Security.BlindIndex(topic);

    internal static byte[] SeqToken(ShardContext context, string topic) => context.Security.BlindIndex("seq:" + topic);

    private static byte[] TopicKey(ShardContext context, string topic) => TopicToken(context, topic);

    private static byte[] OffsetKey(ShardContext context, string group, string topic) =>
        RecordKeys.ConsumerOffset(context.Security.BlindIndex("group:" + group), TopicToken(context, topic));

    // The paging MAC key: a keyed HMAC under the shard's index key, so it is secret, stable across
    // restarts and rotations, and needs no new key material. '#' never occurs in a topic.
    private static byte[] PagingKey(ShardContext context) => context.Security.BlindIndex("#continuation");

    // A token only opens for the query it was issued for (topic, range, filter).
    private static byte[] QueryScope(QueryEvents q) =>
        SHA256.HashData(Encoding.UTF8.GetBytes($"events.query\n{q.Topic}\n{q.From.ToUnixTimeMilliseconds()}\n{q.To.ToUnixTimeMilliseconds()}\n{(q.MinPriority is { } p ? (int)p : -1)}"));

    private static byte[] PrefixStart(byte[] token) => token;

    private static ForgeOneException Dangling(RecordId id) =>
        new(ErrorCodes.StorageCorruptRecord, $"event_index names {id} but events has no such event.");

    private static ForgeOneException Mismatch(ShardContext context, byte[] indexKey, string why) =>
        new(new ForgeOneError(ErrorCodes.StorageCorruptRecord, $"event_index entry {KeyCodec.ToHex(indexKey)}: {why}").At(context.Security.ChainId, Tables.EventIndex, KeyCodec.ToHex(indexKey)));

    /// <summary>
    /// Event index entries in a range with their priority byte, each entry's record MAC verified
    /// (<c>crypto.tampered</c> naming the entry otherwise). Materialized: the callers delete or
    /// load records while they go.
    /// </summary>
    internal static List<(byte[] Key, byte Priority)> IndexScan(IReadTransaction txn, ShardContext context, byte[] from, byte[] until, bool reverse = false, int limit = int.MaxValue)
    {
        var entries = new List<(byte[] Key, byte Priority)>();
        foreach (var (key, value) in txn.Scan(Tables.EventIndex, from, until, reverse, limit))
        {
            var priority = IndexEntries.Open(context.Security, Tables.EventIndex, key, value);
            if (priority.Length != 1)
            {
                throw IndexEntries.Tampered(context.Security, Tables.EventIndex, key);
            }

            entries.Add((key, priority[0]));
        }

        return entries;
    }
}
