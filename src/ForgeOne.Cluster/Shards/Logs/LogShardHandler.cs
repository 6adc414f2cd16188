using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Common.Validation;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Shards.Logs;

/// <summary>
/// Logs on a log shard. Layout (key shapes from <see cref="RecordKeys"/>):
/// <code>
///   logs         id (8)                                     -> Encrypt(StoredLogEntry) with message
///                                                              and metadata field-encrypted inside
///   log_index    topicToken (16) | ts (8) | id (8)          -> empty
///   checkpoints  topicToken | nameLen (2) | name | ver (8)  -> Encrypt(Checkpoint)
///                topicToken | FF FF                         -> Encrypt(TopicInfo): the topic's policy
///                topicToken | FF FE | markerToken (16)      -> log_index key of the newest entry
///                                                              carrying that checkpoint marker
/// </code>
/// The index key starts with the blind index of the topic so a topic's entries are one
/// contiguous, time-ordered key range, and no plaintext topic appears in a key. The reserved
/// checkpoint keys can never collide with a checkpoint's: a name is at most 400 bytes, so its
/// length prefix never reaches FF FE.
/// </summary>
public sealed partial class LogShardHandler : IShardHandler
{
    /// <summary>Permission to append.</summary>
    public const string WritePermission = Permissions.LogsWrite;

    /// <summary>Permission to read.</summary>
    public const string ReadPermission = Permissions.LogsRead;

    /// <summary>The most entries one range read, query or replay page returns.</summary>
    public const int MaxRangeLimit = 10_000;

    /// <summary>The most index entries one query page examines (severity filtering may skip many).</summary>
    public const int MaxScanPerPage = 50_000;

    /// <summary>
    /// About the most bytes of entries one query page carries: a page must fit one remoting frame
    /// (8 MiB), so a page of large entries ends early with a continuation token.
    /// </summary>
    public const int MaxPageBytes = 4 * 1024 * 1024;

    /// <summary>The most entries one retention sweep deletes.</summary>
    public const int MaxSweepEntries = 10_000;

    /// <inheritdoc />
    public ShardKind Kind => ShardKind.Logs;

    /// <inheritdoc />
    public Admission Admit(IShardOperation operation, Principal principal, ShardContext context)
    {
        var now = context.Time.GetUtcNow();
        switch (operation)
        {
            case AppendLog append:
                {
                    var action = "logs.append";
                    var resource = TopicResource(context, append.Topic);
                    var error = append.Entry is null
                        ? new ForgeOneError(ErrorCodes.InvalidArgument, "An entry is required.")
                        : Validate(append.Topic, append.Entry, now, context.Limits);
                    return Check(error, context, principal, operation, append.Topic, action, resource, "count=1");
                }

            case AppendLogBatch batch:
                return Check(ValidateBatch(batch, now, context.Limits), context, principal, operation, batch.Topic, "logs.append_batch", TopicResource(context, batch.Topic), $"count={batch.Entries?.Length ?? 0}");

            case GetLog get:
                {
                    var action = "logs.get";
                    var resource = $"{context.ResourcePrefix}/id:{get.Id}";
                    return get.Id.Shard != context.ShardNumber
                        ? Admission.Reject(action, resource, new ForgeOneError(ErrorCodes.StorageWrongShard, $"Id {get.Id} belongs to shard {get.Id.Shard}, not {context.ShardNumber}."))
                        : Check(null, context, principal, operation, null, action, resource);
                }

            case ReadLogRange range:
                return Check(ValidateRange(range.Topic, range.From, range.To, range.Limit, context.Limits), context, principal, operation, range.Topic, "logs.read_range", TopicResource(context, range.Topic));

            case QueryLogs query:
                return Check(
                    ValidateRange(query.Topic, query.From, query.To, query.Limit, context.Limits)
                        ?? (Enum.IsDefined(query.MinSeverity) ? null : new ForgeOneError(ErrorCodes.InvalidArgument, $"Severity {(int)query.MinSeverity} is unknown.")),
                    context, principal, operation, query.Topic, "logs.query", TopicResource(context, query.Topic), $"min_severity={query.MinSeverity}");

            case CountLogs count:
                return Check(ValidateRange(count.Topic, count.From, count.To, 1, context.Limits), context, principal, operation, count.Topic, "logs.count", TopicResource(context, count.Topic));

            case CreateCheckpoint create:
                return Check(
                    Common.Validation.Validate.Topic(create.Topic, context.Limits) ?? ValidateCheckpointName(create.Name),
                    context, principal, operation, create.Topic, "logs.checkpoint_create", TopicResource(context, create.Topic), $"name={Printable.Text(create.Name)}");

            case ListCheckpoints list:
                return Check(
                    Common.Validation.Validate.Topic(list.Topic, context.Limits) ?? (list.Name is null ? null : ValidateCheckpointName(list.Name)),
                    context, principal, operation, list.Topic, "logs.checkpoint_list", TopicResource(context, list.Topic));

            case ReplayLogs replay:
                return Check(
                    Common.Validation.Validate.Topic(replay.Topic, context.Limits)
                        ?? ((replay.Checkpoint is null) == (replay.Marker is null) ? new ForgeOneError(ErrorCodes.InvalidArgument, "Replay needs exactly one of a checkpoint name or a checkpoint marker.") : null)
                        ?? (replay.Checkpoint is not null ? ValidateCheckpointName(replay.Checkpoint) : Common.Validation.Validate.CheckpointMarker(replay.Marker, context.Limits))
                        ?? (replay.Limit is < 1 or > MaxRangeLimit ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Limit must be 1..{MaxRangeLimit}.") : null),
                    context, principal, operation, replay.Topic, "logs.replay", TopicResource(context, replay.Topic), replay.Checkpoint is not null ? $"checkpoint={Printable.Text(replay.Checkpoint)}" : $"marker={Printable.Text(replay.Marker)}");

            case SetLogTopicPolicy policy:
                return Check(
                    Common.Validation.Validate.Topic(policy.Topic, context.Limits)
                        ?? (policy.Retention is { } r && r <= TimeSpan.Zero ? new ForgeOneError(ErrorCodes.InvalidArgument, "A retention period must be positive (null keeps entries forever).") : null),
                    context, principal, operation, policy.Topic, "logs.topic_policy", TopicResource(context, policy.Topic),
                    $"retention={policy.Retention?.ToString() ?? "forever"} legal_hold={policy.LegalHold} zone={policy.Zone ?? "default"}");

            case GetLogTopicPolicy get:
                return Check(Common.Validation.Validate.Topic(get.Topic, context.Limits), context, principal, operation, get.Topic, "logs.topic_policy_get", TopicResource(context, get.Topic));

            case SweepLogRetention sweep:
                return Check(
                    sweep.MaxEntries is < 1 or > MaxSweepEntries ? new ForgeOneError(ErrorCodes.InvalidArgument, $"A sweep deletes 1..{MaxSweepEntries} entries.") : null,
                    context, principal, operation, null, "logs.retention_sweep", context.ResourcePrefix);

            default:
                return Admission.Reject("logs.unknown", context.ResourcePrefix, new ForgeOneError(ErrorCodes.InvalidArgument, $"{operation.GetType().Name} is not a log operation."));
        }
    }

    /// <inheritdoc />
    public object Apply(IWriteTransaction txn, IShardCommand command, Principal principal, ShardContext context) =>
        command switch
        {
            AppendLog append => new LogAppended(append.Topic, WriteBatch(txn, append.Topic, [append.Entry], context)[0]),
            AppendLogBatch batch => new LogBatchAppended(batch.Topic, WriteBatch(txn, batch.Topic, batch.Entries, context)),
            CreateCheckpoint create => new CheckpointCreated(WriteCheckpoint(txn, create, principal, context)),
            SetLogTopicPolicy policy => new LogTopicPolicySet(WritePolicy(txn, policy, principal, context)),
            SweepLogRetention sweep => Sweep(txn, sweep, context),
            _ => throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{command.GetType().Name} is not a log command."),
        };

    /// <inheritdoc />
    public object Read(IReadTransaction txn, IShardQuery query, Principal principal, ShardContext context)
    {
        switch (query)
        {
            case GetLog get:
                {
                    var key = RecordKeys.Primary(get.Id);
                    var stored = LoadStored(txn, key, context);
                    return stored is null
                        ? new LogFailed(new ForgeOneError(ErrorCodes.NotFound, $"No log entry {get.Id}."))
                        : new LogFound(Reveal(stored, key, Readable(context, principal, stored.Topic), context, verify: false));
                }

            case ReadLogRange range:
                {
                    var page = Query(txn, new QueryLogs(range.Token, range.Topic, range.From, range.To, Severity.Trace, range.Limit), principal, context);
                    return new LogRange(range.Topic, page.Entries);
                }

            case QueryLogs q:
                return Query(txn, q, principal, context);

            case CountLogs count:
                {
                    var token = Token(context, count.Topic);
                    // Counted from the keys alone (no value read): a count reveals nothing and acts on
                    // nothing, and the scrubber checks every entry's record MAC.
                    return new LogCount(count.Topic, txn.CountRange(Tables.LogIndex, RecordKeys.TopicIndexFrom(token, count.From), RecordKeys.TopicIndexUntil(token, count.To)));
                }

            case ListCheckpoints list:
                return new CheckpointList(list.Topic, [.. LoadCheckpoints(txn, list.Topic, list.Name, context)]);

            case ReplayLogs replay:
                return Replay(txn, replay, principal, context);

            case GetLogTopicPolicy get:
                return new CurrentLogTopicPolicy(get.Topic, LoadPolicy(txn, Token(context, get.Topic), context));

            default:
                return new LogFailed(new ForgeOneError(ErrorCodes.InvalidArgument, $"{query.GetType().Name} is not a log query."));
        }
    }

    /// <inheritdoc />
    public object Fail(ForgeOneError error) => new LogFailed(error);

    private static RecordId[] WriteBatch(IWriteTransaction txn, string topic, LogInput[] inputs, ShardContext context)
    {
        var token = Token(context, topic);
        var policy = LoadPolicy(txn, token, context);
        var retention = policy is null ? RetentionPolicy.KeepForever : new RetentionPolicy(policy.Retention, policy.LegalHold);
        var now = context.Time.GetUtcNow();

        // Checked inside the transaction because the policy lives in the store, and for every
        // entry before the first write: a refused batch leaves nothing written (all-or-nothing)
        // and the transaction untouched, so the group commit fails this command alone instead
        // of re-running its neighbours.
        for (var i = 0; i < inputs.Length; i++)
        {
            if (retention.CheckWrite(inputs[i].Timestamp, now) is { } expired)
            {
                throw new ForgeOneException(expired with { Message = inputs.Length > 1 ? $"entry {i}: {expired.Message}" : expired.Message });
            }
        }

        var ids = new RecordId[inputs.Length];
        for (var i = 0; i < inputs.Length; i++)
        {
            ids[i] = Write(txn, topic, token, inputs[i], context);
        }

        return ids;
    }

    private static RecordId Write(IWriteTransaction txn, string topic, byte[] token, LogInput input, ShardContext context)
    {
        var id = context.Ids.Next();
        var metadata = input.Metadata ?? [];
        var hash = ContentHashes.ForLog(topic, input.Timestamp, input.Severity, input.Message, metadata, input.CheckpointMarker);
        var key = RecordKeys.Primary(id);
        var security = context.Security;
        var stored = new StoredLogEntry(
            id,
            topic,
            input.Timestamp,
            input.Severity,
            EncryptMessage(security, key, input.Message),
            // No metadata is stored as an empty field rather than an encrypted empty map: the
            // ciphertext's length would say it is empty anyway, and it saves an AES-GCM call on
            // the ingest path. The record cipher still authenticates the empty slot.
            metadata.Count == 0 ? [] : security.EncryptField(FieldClass.LogMetadata, Tables.Logs, key, MetadataCodec.Encode(metadata)),
            input.CheckpointMarker,
            hash);
        PutEncrypted(txn, Tables.Logs, key, stored.Encode(), security);
        var indexKey = RecordKeys.TopicIndex(token, input.Timestamp, id);
        IndexEntries.Put(txn, security, Tables.LogIndex, indexKey, []);
        if (input.CheckpointMarker is not null)
        {
            var markerKey = MarkerKey(token, context, input.CheckpointMarker);
            txn.Put(Tables.Checkpoints, markerKey, security.Encrypt(Tables.Checkpoints, markerKey, indexKey));
        }

        return id;
    }

    // Hot path helpers (once per appended entry): pooled scratch instead of per-entry arrays.
    private static byte[] EncryptMessage(IShardSecurity security, byte[] key, string message)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(message.Length));
        try
        {
            var n = Encoding.UTF8.GetBytes(message, scratch);
            return security.EncryptField(FieldClass.LogMessage, Tables.Logs, key, scratch.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static void PutEncrypted(IWriteTransaction txn, string table, byte[] key, ReadOnlySpan<byte> plaintext, IShardSecurity security)
    {
        var sealedValue = ArrayPool<byte>.Shared.Rent(RecordCipher.GetCiphertextLength(plaintext.Length));
        try
        {
            var n = security.Encrypt(table, key, plaintext, sealedValue);
            txn.Put(table, key, sealedValue.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(sealedValue);
        }
    }

    private static StoredLogEntry? LoadStored(IReadTransaction txn, byte[] key, ShardContext context) =>
        txn.Get(Tables.Logs, key) is { } value ? StoredLogEntry.Decode(context.Security.Decrypt(Tables.Logs, key, value)) : null;

    /// <summary>
    /// The entry a reader sees: sensitive fields decrypted only for the classes it may read,
    /// otherwise the redaction marker. With <paramref name="verify"/> the content hash is
    /// recomputed over the full plaintext first (replay).
    /// </summary>
    private static LogEntry Reveal(StoredLogEntry stored, byte[] key, IReadOnlySet<FieldClass> readable, ShardContext context, bool verify)
    {
        var security = context.Security;
        if (verify)
        {
            var message = Encoding.UTF8.GetString(security.RevealField(FieldClass.LogMessage, Tables.Logs, key, stored.Message, FieldClasses.All)!);
            var metadata = stored.Metadata.Length == 0
                ? MetadataCodec.Empty
                : MetadataCodec.Decode(security.RevealField(FieldClass.LogMetadata, Tables.Logs, key, stored.Metadata, FieldClasses.All)!);
            var hash = ContentHashes.ForLog(stored.Topic, stored.Timestamp, stored.Severity, message, metadata, stored.CheckpointMarker);
            if (!CryptographicOperations.FixedTimeEquals(hash, stored.ContentHash))
            {
                throw new ForgeOneException(ErrorCodes.ChecksumMismatch,
                    $"Log entry {stored.Id} of shard {context.ResourcePrefix} does not match its content hash: the stored record was modified. Replay stopped.");
            }
        }

        var text = security.RevealField(FieldClass.LogMessage, Tables.Logs, key, stored.Message, readable) is { } m
            ? Encoding.UTF8.GetString(m)
            : FieldClass.LogMessage.RedactionMarker();
        var meta = !readable.Contains(FieldClass.LogMetadata) ? RedactedMetadata
            : stored.Metadata.Length == 0 ? MetadataCodec.Empty
            : MetadataCodec.Decode(security.RevealField(FieldClass.LogMetadata, Tables.Logs, key, stored.Metadata, readable)!);
        return new LogEntry(stored.Id, stored.Topic, stored.Timestamp, stored.Severity, text, meta, stored.CheckpointMarker, stored.ContentHash);
    }

    // What a reader without log.metadata sees instead of the entry's metadata: one marker, so a
    // client can tell "redacted" from "no metadata".
    private static readonly IReadOnlyDictionary<string, string> RedactedMetadata =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["redacted"] = FieldClass.LogMetadata.RedactionMarker() };

    private static IReadOnlySet<FieldClass> Readable(ShardContext context, Principal principal, string? topic) =>
        context.Security.Authorize(principal, ReadPermission, TopicDescriptor(context, principal, topic)).ReadableFields;

    private static LogPage Query(IReadTransaction txn, QueryLogs q, Principal principal, ShardContext context)
    {
        var token = Token(context, q.Topic);
        var from = RecordKeys.TopicIndexFrom(token, q.From);
        var until = RecordKeys.TopicIndexUntil(token, q.To);
        var scope = Scope("query", token, q.From.ToUnixTimeMilliseconds(), q.To.ToUnixTimeMilliseconds(), (long)q.MinSeverity);
        if (q.ContinuationToken is not null)
        {
            from = RecordKeys.After(OpenToken(q.ContinuationToken, context, scope, from, until));
        }

        var readable = Readable(context, principal, q.Topic);
        var entries = new List<LogEntry>(Math.Min(q.Limit, 1024));
        byte[]? last = null;
        var scanned = 0;
        var more = false;
        long bytes = 0;

        // The index is read as the page fills (Scan streams), so a page costs O(page) memory and,
        // with a continuation, O(log n) to find its start: paging through a topic is linear.
        foreach (var indexKey in IndexKeys(txn, context, from, until))
        {
            if (entries.Count == q.Limit || scanned == MaxScanPerPage || bytes >= MaxPageBytes)
            {
                more = true;
                break;
            }

            scanned++;
            last = indexKey;
            var (key, stored) = LoadIndexed(txn, indexKey, context);
            if (stored.Severity >= q.MinSeverity)
            {
                var entry = Reveal(stored, key, readable, context, verify: false);
                entries.Add(entry);
                bytes += 256 + (2L * entry.Message.Length) + entry.Metadata.Sum(m => 2L * (m.Key.Length + m.Value.Length));
            }
        }

        return new LogPage(q.Topic, [.. entries], more && last is not null ? ContinuationToken.Create(last, MacKey(context), scope) : null);
    }

    private static (byte[] Key, StoredLogEntry Entry) LoadIndexed(IReadTransaction txn, byte[] indexKey, ShardContext context)
    {
        var (timestamp, id) = RecordKeys.ParseTopicIndex(indexKey);
        var key = RecordKeys.Primary(id);
        var stored = LoadStored(txn, key, context)
            ?? throw new ForgeOneException(new ForgeOneError(ErrorCodes.StorageCorruptRecord, $"log_index names {id} but logs has no such entry.").At(context.Security.ChainId, Tables.LogIndex, KeyCodec.ToHex(indexKey)));
        if (IndexMismatch(indexKey, timestamp, stored, context) is { } mismatch)
        {
            throw new ForgeOneException(new ForgeOneError(ErrorCodes.StorageCorruptRecord, $"log_index entry does not match log {id}: {mismatch}").At(context.Security.ChainId, Tables.LogIndex, KeyCodec.ToHex(indexKey)));
        }

        return (key, stored);
    }

    /// <summary>Why a (tag-verified) index entry does not describe the entry it points at, or null.</summary>
    internal static string? IndexMismatch(ReadOnlySpan<byte> indexKey, DateTimeOffset timestamp, StoredLogEntry stored, ShardContext context) =>
        stored.Timestamp.ToUnixTimeMilliseconds() != timestamp.ToUnixTimeMilliseconds() ? $"its time is {timestamp:O}, the entry's {stored.Timestamp:O}"
        : !indexKey[..RecordKeys.TokenLength].SequenceEqual(Token(context, stored.Topic)) ? "it is filed under another topic"
        : null;

    /// <summary>Keys of the topic index in a range, each entry's record MAC verified (<c>crypto.tampered</c> otherwise).</summary>
    private static IEnumerable<byte[]> IndexKeys(IReadTransaction txn, ShardContext context, byte[] from, byte[] until, bool reverse = false, int limit = int.MaxValue)
    {
        foreach (var (key, value) in txn.Scan(Tables.LogIndex, from, until, reverse, limit))
        {
            IndexEntries.Open(context.Security, Tables.LogIndex, key, value);
            yield return key;
        }
    }

    internal static byte[] Token(ShardContext context, string topic) => context.Security.BlindIndex(topic);

    // Keyed by the shard's blind-index key under a name no topic can have (topics are validated:
    // no control characters), so tokens are unforgeable without any new key material.
    private static byte[] MacKey(ShardContext context) => context.Security.BlindIndex("\u0000forgeone.logs.continuation");

    private static byte[] Scope(string kind, byte[] token, params long[] values)
    {
        var scope = new byte[kind.Length + token.Length + (8 * values.Length)];
        Encoding.ASCII.GetBytes(kind, scope);
        token.CopyTo(scope, kind.Length);
        for (var i = 0; i < values.Length; i++)
        {
            KeyCodec.WriteInt64(scope.AsSpan(kind.Length + token.Length + (8 * i)), values[i]);
        }

        return scope;
    }

    private static byte[] OpenToken(string token, ShardContext context, byte[] scope, byte[] from, byte[] until)
    {
        var last = ContinuationToken.Open(token, MacKey(context), scope);
        if (last.AsSpan().SequenceCompareTo(from) < 0 || last.AsSpan().SequenceCompareTo(until) >= 0)
        {
            throw new ForgeOneException(ErrorCodes.InvalidContinuationToken, "The continuation token is not valid for this query.");
        }

        return last;
    }

    private static ForgeOneError? Validate(string topic, LogInput entry, DateTimeOffset now, Limits limits) =>
        ModelValidation.Log(topic, entry.Timestamp, entry.Message, entry.Metadata, entry.CheckpointMarker, now, limits)
        ?? (Enum.IsDefined(entry.Severity) ? null : new ForgeOneError(ErrorCodes.InvalidArgument, $"Severity {(int)entry.Severity} is unknown."));

    private static ForgeOneError? ValidateRange(string topic, DateTimeOffset from, DateTimeOffset to, int limit, Limits limits) =>
        Common.Validation.Validate.Topic(topic, limits)
        ?? (from >= to ? new ForgeOneError(ErrorCodes.InvalidArgument, "From must be before To.") : null)
        ?? (limit is < 1 or > MaxRangeLimit ? new ForgeOneError(ErrorCodes.InvalidArgument, $"Limit must be 1..{MaxRangeLimit}.") : null);

    private static ForgeOneError? ValidateCheckpointName(string? name) =>
        string.IsNullOrWhiteSpace(name) || Encoding.UTF8.GetByteCount(name) > RecordKeys.MaxCheckpointNameBytes || name.Any(char.IsControl)
            ? new ForgeOneError(ErrorCodes.InvalidName, $"A checkpoint name is 1..{RecordKeys.MaxCheckpointNameBytes} UTF-8 bytes without control characters.")
            : null;

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

    private static Admission Check(ForgeOneError? error, ShardContext context, Principal principal, IShardOperation operation, string? topic, string action, string resource, string detail = "") =>
        ShardAccess.Admit(
            context,
            principal,
            operation,
            MessagePermissions.PermissionOf(operation) == Permissions.SystemWrite ? new ResourceDescriptor("system", ResidencyZone: context.Zone) : TopicDescriptor(context, principal, topic),
            action,
            resource,
            detail,
            error);

    private static ResourceDescriptor TopicDescriptor(ShardContext context, Principal principal, string? topic) =>
        new("logs", principal.Tenant, topic, context.Zone);

    private static string TopicResource(ShardContext context, string? topic) => $"{context.ResourcePrefix}/topic:{Printable.Text(topic)}";
}
