using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using System.Text;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Shards.Logs;

/// <summary>
/// Logs on a log shard, in the record formats and key layouts of <c>ForgeOne.Storage.Records</c>:
/// <code>
///   logs       RecordKeys.Primary(id)                        -> RecordCipher(StoredLogEntry)
///   log_index  RecordKeys.TopicIndex(blind(topic), ts, id)   -> empty
/// </code>
/// The index key starts with the blind index of the topic so a topic's entries are one
/// contiguous, time-ordered key range, and no plaintext topic appears in a key. Today the whole
/// record is encrypted under the shard's data key; per-field-class encryption of message and
/// metadata (FieldCipher, redaction) is the data-services work (issue 5) and slots into
/// <see cref="ToStored"/> / <see cref="FromStored"/>.
/// </summary>
public sealed class LogShardHandler : IShardHandler
{
    /// <summary>Permission to append.</summary>
    public const string WritePermission = Permissions.LogsWrite;

    /// <summary>Permission to read.</summary>
    public const string ReadPermission = Permissions.LogsRead;

    /// <summary>The most entries one range read returns.</summary>
    public const int MaxRangeLimit = 10_000;

    /// <inheritdoc />
    public ShardKind Kind => ShardKind.Logs;

    /// <inheritdoc />
    public Admission Admit(IShardOperation operation, ShardContext context)
    {
        var now = context.Time.GetUtcNow();
        switch (operation)
        {
            case AppendLog append:
            {
                var action = "logs.append";
                var resource = $"{context.ResourcePrefix}/topic:{Safe(append.Topic)}";
                var error = append.Entry is null
                    ? new ForgeOneError(ErrorCodes.InvalidArgument, "An entry is required.")
                    : Validate(append.Topic, append.Entry, now, context.Limits);
                return error is not null
                    ? Admission.Reject(action, resource, error)
                    : Authorize(context, append.Caller, WritePermission, append.Topic, action, resource, "count=1");
            }

            case AppendLogBatch batch:
            {
                var action = "logs.append_batch";
                var resource = $"{context.ResourcePrefix}/topic:{Safe(batch.Topic)}";
                var error = ValidateBatch(batch, now, context.Limits);
                return error is not null
                    ? Admission.Reject(action, resource, error)
                    : Authorize(context, batch.Caller, WritePermission, batch.Topic, action, resource, $"count={batch.Entries.Length}");
            }

            case GetLog get:
            {
                var action = "logs.get";
                var resource = $"{context.ResourcePrefix}/id:{get.Id}";
                return get.Id.Shard != context.ShardNumber
                    ? Admission.Reject(action, resource, new ForgeOneError(ErrorCodes.StorageWrongShard, $"Id {get.Id} belongs to shard {get.Id.Shard}, not {context.ShardNumber}."))
                    : Authorize(context, get.Caller, ReadPermission, null, action, resource);
            }

            case ReadLogRange range:
            {
                var action = "logs.read_range";
                var resource = $"{context.ResourcePrefix}/topic:{Safe(range.Topic)}";
                var error = Common.Validation.Validate.Topic(range.Topic, context.Limits)
                    ?? (range.From >= range.To ? new ForgeOneError(ErrorCodes.InvalidArgument, "From must be before To.") : null)
                    ?? (range.Limit is < 1 or > MaxRangeLimit ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Limit must be 1..{MaxRangeLimit}.") : null);
                return error is not null
                    ? Admission.Reject(action, resource, error)
                    : Authorize(context, range.Caller, ReadPermission, range.Topic, action, resource);
            }

            default:
                return Admission.Reject("logs.unknown", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, $"{operation.GetType().Name} is not a log operation."));
        }
    }

    /// <inheritdoc />
    public object Apply(IWriteTransaction txn, IShardCommand command, ShardContext context) =>
        command switch
        {
            AppendLog append => new LogAppended(append.Topic, Write(txn, append.Topic, append.Entry, context)),
            AppendLogBatch batch => new LogBatchAppended(batch.Topic, WriteBatch(txn, batch, context)),
            _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{command.GetType().Name} is not a log command."),
        };

    /// <inheritdoc />
    public object Read(IReadTransaction txn, IShardQuery query, ShardContext context)
    {
        switch (query)
        {
            case GetLog get:
            {
                var entry = Load(txn, get.Id, context);
                return entry is null
                    ? new LogFailed(new ForgeOneError(ErrorCodes.NotFound, $"No log entry {get.Id}."))
                    : new LogFound(entry);
            }

            case ReadLogRange range:
            {
                var blind = context.Security.BlindIndex(range.Topic);
                var entries = new List<LogEntry>();
                foreach (var (key, _) in txn.Scan(Tables.LogIndex, RecordKeys.TopicIndexFrom(blind, range.From), RecordKeys.TopicIndexUntil(blind, range.To), limit: range.Limit))
                {
                    var (_, id) = RecordKeys.ParseTopicIndex(key);
                    var entry = Load(txn, id, context)
                        ?? throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, $"log_index names {id} but logs has no such entry.");
                    entries.Add(entry);
                }

                return new LogRange(range.Topic, [.. entries]);
            }

            default:
                return new LogFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"{query.GetType().Name} is not a log query."));
        }
    }

    /// <inheritdoc />
    public object Fail(ForgeOneError error) => new LogFailed(error);

    private static RecordId[] WriteBatch(IWriteTransaction txn, AppendLogBatch batch, ShardContext context)
    {
        var ids = new RecordId[batch.Entries.Length];
        var blind = context.Security.BlindIndex(batch.Topic);
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = Write(txn, batch.Topic, batch.Entries[i], context, blind);
        }

        return ids;
    }

    private static RecordId Write(IWriteTransaction txn, string topic, LogInput input, ShardContext context, byte[]? blind = null)
    {
        var id = context.Ids.Next();
        var metadata = input.Metadata ?? [];
        var hash = ContentHashes.ForLog(topic, input.Timestamp, input.Severity, input.Message, metadata, input.CheckpointMarker);
        var entry = new LogEntry(id, topic, input.Timestamp, input.Severity, input.Message, metadata, input.CheckpointMarker, hash);
        var key = RecordKeys.Primary(id);
        txn.Put(Tables.Logs, key, context.Security.Encrypt(Tables.Logs, key, ToStored(entry).Encode()));
        txn.Put(Tables.LogIndex, RecordKeys.TopicIndex(blind ?? context.Security.BlindIndex(topic), input.Timestamp, id), []);
        return id;
    }

    private static LogEntry? Load(IReadTransaction txn, RecordId id, ShardContext context)
    {
        var key = RecordKeys.Primary(id);
        var value = txn.Get(Tables.Logs, key);
        return value is null ? null : FromStored(StoredLogEntry.Decode(context.Security.Decrypt(Tables.Logs, key, value)));
    }

    private static StoredLogEntry ToStored(LogEntry entry) =>
        new(entry.Id, entry.Topic, entry.Timestamp, entry.Severity, Encoding.UTF8.GetBytes(entry.Message), MetadataCodec.Encode(entry.Metadata), entry.CheckpointMarker, entry.ContentHash);

    private static LogEntry FromStored(StoredLogEntry stored) =>
        new(stored.Id, stored.Topic, stored.Timestamp, stored.Severity, Encoding.UTF8.GetString(stored.Message), MetadataCodec.Decode(stored.Metadata), stored.CheckpointMarker, stored.ContentHash);

    private static ForgeOneError? Validate(string topic, LogInput entry, DateTimeOffset now, Limits limits) =>
        ModelValidation.Log(topic, entry.Timestamp, entry.Message, entry.Metadata, entry.CheckpointMarker, now, limits)
        ?? (Enum.IsDefined(entry.Severity) ? null : new ForgeOneError(ErrorCodes.InvalidArgument, $"Severity {(int)entry.Severity} is unknown."));

    private static ForgeOneError? ValidateBatch(AppendLogBatch batch, DateTimeOffset now, Limits limits)
    {
        if (batch.Entries is null || batch.Entries.Length == 0)
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, "A batch needs at least one entry.");
        }

        if (batch.Entries.Length > limits.MaxBatchEntries)
        {
            return new ForgeOneError(ErrorCodes.BatchTooLarge, $"A batch holds at most {limits.MaxBatchEntries} entries; got {batch.Entries.Length}.");
        }

        for (var i = 0; i < batch.Entries.Length; i++)
        {
            var error = batch.Entries[i] is null
                ? new ForgeOneError(ErrorCodes.InvalidArgument, "null entry")
                : Validate(batch.Topic, batch.Entries[i], now, limits);
            if (error is not null)
            {
                return error with { Message = $"entry {i}: {error.Message}" };
            }
        }

        return null;
    }

    private static Admission Authorize(ShardContext context, Caller caller, string permission, string? topic, string action, string resource, string detail = "")
    {
        if (caller is null)
        {
            return Admission.Deny(action, resource, "no principal");
        }

        var decision = context.Security.Authorize(caller, permission, new ShardResource("logs", caller.Tenant, topic, null));
        return decision.Allowed ? Admission.Allow(action, resource, detail) : Admission.Deny(action, resource, decision.Reason);
    }

    // Topics are validated before they reach an audit resource, but refusals may carry garbage:
    // keep the audit trail printable and bounded.
    private static string Safe(string? topic) =>
        topic is null ? "<null>" : new string([.. topic.Take(200).Select(c => char.IsControl(c) ? '?' : c)]);
}
