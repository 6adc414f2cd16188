using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Shards.Logs;

/// <summary>Checkpoints, replay, topic policies (retention, legal hold, residency) and the retention sweep.</summary>
public sealed partial class LogShardHandler
{
    private const byte ReservedHigh = 0xFF;
    private const byte PolicyTag = 0xFF;
    private const byte MarkerTag = 0xFE;
    private const string ChangedByKey = "changed_by";

    private static readonly RetentionPlanner Planner = new(MaxSweepEntries);

    private static byte[] PolicyKey(byte[] token)
    {
        var key = new byte[RecordKeys.TokenLength + 2];
        token.CopyTo(key, 0);
        key[RecordKeys.TokenLength] = ReservedHigh;
        key[RecordKeys.TokenLength + 1] = PolicyTag;
        return key;
    }

    private static byte[] MarkerKey(byte[] token, ShardContext context, string marker)
    {
        var key = new byte[RecordKeys.TokenLength + 2 + RecordKeys.TokenLength];
        token.CopyTo(key, 0);
        key[RecordKeys.TokenLength] = ReservedHigh;
        key[RecordKeys.TokenLength + 1] = MarkerTag;

        // Markers are free text from entries: blind-indexed like topics, under a prefix no topic has.
        context.Security.BlindIndex("\u0000forgeone.logs.marker\u0000" + marker).CopyTo(key, RecordKeys.TokenLength + 2);
        return key;
    }

    private static LogTopicPolicy? LoadPolicy(IReadTransaction txn, byte[] token, ShardContext context)
    {
        var key = PolicyKey(token);
        if (txn.Get(Tables.Checkpoints, key) is not { } value)
        {
            return null;
        }

        var info = TopicInfo.Decode(context.Security.Decrypt(Tables.Checkpoints, key, value));
        return new LogTopicPolicy(info.Name, info.Retention, info.LegalHold, info.ResidencyZone, info.CreatedAt, info.Metadata.TryGetValue(ChangedByKey, out var by) ? by : "");
    }

    private static LogTopicPolicy WritePolicy(IWriteTransaction txn, SetLogTopicPolicy set, Principal principal, ShardContext context)
    {
        // A topic's policy lives with its data, in its zone's shards: the router picks the
        // region from the message's zone, so a policy naming another zone reached the wrong place.
        if (!string.Equals(set.Zone, context.Zone, StringComparison.Ordinal))
        {
            throw new ForgeOneException(ErrorCodes.ResidencyMismatch,
                $"A policy placing topic '{set.Topic}' in zone '{set.Zone ?? "default"}' must be stored by that zone's shards, not zone '{context.Zone ?? "default"}'s.");
        }

        var token = Token(context, set.Topic);
        var now = context.Time.GetUtcNow();
        var info = new TopicInfo(set.Topic, now, set.Retention, set.Zone, 0, set.LegalHold,
            new Dictionary<string, string>(StringComparer.Ordinal) { [ChangedByKey] = principal.Id });
        var key = PolicyKey(token);
        txn.Put(Tables.Checkpoints, key, context.Security.Encrypt(Tables.Checkpoints, key, info.Encode()));
        return new LogTopicPolicy(set.Topic, set.Retention, set.LegalHold, set.Zone, now, principal.Id);
    }

    private static LogCheckpoint WriteCheckpoint(IWriteTransaction txn, CreateCheckpoint create, Principal principal, ShardContext context)
    {
        var token = Token(context, create.Topic);
        RecordId position;
        if (create.Position is { } id)
        {
            var stored = id.Shard == context.ShardNumber ? LoadStored(txn, RecordKeys.Primary(id), context) : null;
            if (stored is null || !string.Equals(stored.Topic, create.Topic, StringComparison.Ordinal))
            {
                throw new ForgeOneException(ErrorCodes.NotFound, $"Topic '{create.Topic}' has no entry {id} to place checkpoint '{create.Name}' at.");
            }

            position = id;
        }
        else
        {
            // "now": the topic's newest entry; an empty topic checkpoints its very beginning (0).
            position = default;
            foreach (var indexKey in IndexKeys(txn, context, TopicStart(token), TopicEnd(token), reverse: true, limit: 1))
            {
                position = RecordKeys.ParseTopicIndex(indexKey).Id;
            }
        }

        var version = 1L;
        var prefix = RecordKeys.CheckpointPrefix(token, create.Name);
        foreach (var (key, _) in txn.Scan(Tables.Checkpoints, prefix, RecordKeys.PrefixEnd(prefix), reverse: true, limit: 1))
        {
            version = RecordKeys.ParseCheckpoint(key).Version + 1;
        }

        var checkpoint = new Checkpoint(create.Name, version, create.Topic, position, context.Time.GetUtcNow(), principal.Id);
        var checkpointKey = RecordKeys.Checkpoint(token, create.Name, version);
        txn.Put(Tables.Checkpoints, checkpointKey, context.Security.Encrypt(Tables.Checkpoints, checkpointKey, checkpoint.Encode()));
        return ToProtocol(checkpoint);
    }

    private static LogCheckpoint ToProtocol(Checkpoint c) => new(c.Topic, c.Name, c.Version, c.Position, c.CreatedAt, c.CreatedBy);

    private static IEnumerable<LogCheckpoint> LoadCheckpoints(IReadTransaction txn, string topic, string? name, ShardContext context)
    {
        var token = Token(context, topic);
        var from = name is null ? token : RecordKeys.CheckpointPrefix(token, name);
        foreach (var (key, value) in txn.Scan(Tables.Checkpoints, from, RecordKeys.PrefixEnd(from)))
        {
            if (key.Length > RecordKeys.TokenLength && key[RecordKeys.TokenLength] == ReservedHigh)
            {
                continue; // policy and marker entries share the table
            }

            yield return ToProtocol(Checkpoint.Decode(context.Security.Decrypt(Tables.Checkpoints, key, value)));
        }
    }

    private static LogReplayPage Replay(IReadTransaction txn, ReplayLogs replay, Principal principal, ShardContext context)
    {
        var token = Token(context, replay.Topic);
        var end = TopicEnd(token);
        byte[] from;
        if (replay.Checkpoint is { } name)
        {
            var checkpoint = LoadCheckpoints(txn, replay.Topic, name, context).LastOrDefault()
                ?? throw new ForgeOneException(ErrorCodes.NotFound, $"Topic '{replay.Topic}' has no checkpoint '{name}'.");
            from = TopicStart(token);
            if (checkpoint.Position.Value != 0 && LoadStored(txn, RecordKeys.Primary(checkpoint.Position), context) is { } at)
            {
                from = RecordKeys.After(RecordKeys.TopicIndex(token, at.Timestamp, at.Id));
            }
        }
        else
        {
            var markerKey = MarkerKey(token, context, replay.Marker!);
            var indexKey = txn.Get(Tables.Checkpoints, markerKey) is { } value ? context.Security.Decrypt(Tables.Checkpoints, markerKey, value) : null;
            if (indexKey is null || txn.Get(Tables.LogIndex, indexKey) is not { } entry || !IndexEntries.Verify(context.Security, Tables.LogIndex, indexKey, entry))
            {
                throw new ForgeOneException(ErrorCodes.NotFound, $"Topic '{replay.Topic}' has no entry with checkpoint marker '{replay.Marker}' (never written, or swept by retention).");
            }

            from = indexKey;
        }

        if (replay.ContinuationToken is not null)
        {
            from = RecordKeys.After(OpenToken(replay.ContinuationToken, context, Scope("replay", token, 0), TopicStart(token), end));
        }

        var readable = Readable(context, principal, replay.Topic);
        var entries = new List<LogEntry>(Math.Min(replay.Limit, 1024));
        byte[]? last = null;
        var more = false;
        foreach (var indexKey in IndexKeys(txn, context, from, end))
        {
            if (entries.Count == replay.Limit)
            {
                more = true;
                break;
            }

            last = indexKey;
            var (key, stored) = LoadIndexed(txn, indexKey, context);
            entries.Add(Reveal(stored, key, readable, context, verify: true));
        }

        return new LogReplayPage(replay.Topic, [.. entries], more ? ContinuationToken.Create(last!, MacKey(context), Scope("replay", token, 0)) : null);
    }

    private static RetentionSwept Sweep(IWriteTransaction txn, SweepLogRetention sweep, ShardContext context)
    {
        var now = context.Time.GetUtcNow();
        var budget = sweep.MaxEntries;
        int deleted = 0, swept = 0, held = 0;
        var more = false;

        // Policies first (materialized): deleting while a scan of the same table is open is not allowed.
        var policies = new List<(byte[] Token, RetentionPolicy Policy)>();
        foreach (var (key, value) in txn.Scan(Tables.Checkpoints, [0x00], []))
        {
            if (key.Length == RecordKeys.TokenLength + 2 && key[RecordKeys.TokenLength] == ReservedHigh && key[RecordKeys.TokenLength + 1] == PolicyTag)
            {
                var info = TopicInfo.Decode(context.Security.Decrypt(Tables.Checkpoints, key, value));
                policies.Add((key[..RecordKeys.TokenLength], new RetentionPolicy(info.Retention, info.LegalHold)));
            }
        }

        foreach (var (token, policy) in policies)
        {
            if (policy.LegalHold)
            {
                held++;
                continue;
            }

            if (budget == 0)
            {
                more = true;
                break;
            }

            if (Planner.ScanRange(token, policy, now) is not { } range)
            {
                continue;
            }

            var keys = IndexKeys(txn, context, range.From, range.Until, limit: budget + 1).ToList();
            var batch = new RetentionPlanner(budget).Batches(token, keys, policy, now).FirstOrDefault() ?? [];
            foreach (var expired in batch)
            {
                txn.Delete(Tables.LogIndex, expired.IndexKey);
                txn.Delete(Tables.Logs, RecordKeys.Primary(expired.Id));
            }

            deleted += batch.Count;
            budget -= batch.Count;
            swept += batch.Count > 0 ? 1 : 0;
            more |= keys.Count > batch.Count;
        }

        return new RetentionSwept(context.ShardNumber, deleted, swept, held, more);
    }

    private static byte[] TopicStart(byte[] token)
    {
        var key = new byte[RecordKeys.TopicIndexLength];
        token.CopyTo(key, 0);
        return key;
    }

    private static byte[] TopicEnd(byte[] token) => RecordKeys.PrefixEnd(token);
}
