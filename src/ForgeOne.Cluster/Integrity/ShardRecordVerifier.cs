using System.Buffers;
using System.Text;
using ForgeOne.Cluster.Shards;
using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Cluster.Shards.Events;
using ForgeOne.Cluster.Shards.Logs;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using ForgeOne.Storage.Records;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// The checks that need a shard's keys, record by record (docs/FORMATS.md "What is encrypted,
/// what is authenticated"):
/// <list type="bullet">
///   <item>every encrypted value authenticates (AES-GCM tag, associated data = store, table, key);</item>
///   <item>every index entry's record MAC verifies, and the entry points at a record that exists
///   and matches it (topic token, time, priority, blob name or content type);</item>
///   <item>the id high-water mark is tagged and not below the newest id;</item>
///   <item>the audit chain (<see cref="CheckChain"/>) verifies from the current incarnation's start
///   against the last sealed head.</item>
/// </list>
/// <c>shard_meta</c> and <c>schema_history</c> are the store's own (checked by the store once the
/// MAC is attached). One instance serves the deep <see cref="IShardStore.CheckIntegrity(IRecordCheck)"/>
/// and the scrubber, which calls <see cref="CheckRecord"/> on slices. Not thread-safe.
/// </summary>
public sealed class ShardRecordVerifier : IRecordCheck
{
    /// <summary>Key of the id high-water mark in the <c>keys</c> table.</summary>
    public static ReadOnlySpan<byte> HighWaterMarkKey => "id_high_water_mark"u8;

    /// <summary>Key of the keyring in the <c>keys</c> table (authenticated by its own key wraps at open).</summary>
    public static ReadOnlySpan<byte> KeyringKey => "keyring"u8;

    /// <summary>Key of the current incarnation's start in the <c>keys</c> table.</summary>
    public static ReadOnlySpan<byte> IncarnationKey => "incarnation"u8;

    private readonly ShardContext _context;

    /// <summary>A verifier for the shard of <paramref name="context"/>.</summary>
    /// <param name="context">The open shard (its security state holds the keys).</param>
    /// <param name="anchor">The shard's last sealed head, if any.</param>
    /// <param name="incarnation">The start of the shard's current incarnation, if it was ever rewound.</param>
    public ShardRecordVerifier(ShardContext context, ChainAnchor? anchor, ChainHead? incarnation)
    {
        _context = context;
        Anchor = anchor;
        Incarnation = incarnation;
    }

    /// <summary>
    /// False for a file still at schema 1 (before the authenticating migration): its index entries
    /// may be untagged; they are checked against their records instead.
    /// </summary>
    public bool Authenticated { get; init; } = true;

    /// <summary>The sealed head the chain is checked against.</summary>
    public ChainAnchor? Anchor { get; }

    /// <summary>Where the chain check starts (null: the genesis).</summary>
    public ChainHead? Incarnation { get; }

    /// <summary>The shard's chain id (the <c>store</c> of its findings).</summary>
    public string Store => _context.Security.ChainId;

    /// <summary>The shard's genesis head.</summary>
    public ChainHead Genesis => _context.Security.Genesis;

    /// <inheritdoc />
    IntegrityError? IRecordCheck.Check(IReadTransaction txn, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload) =>
        CheckRecord(txn, table, key, payload)?.ToIntegrityError();

    /// <inheritdoc />
    IEnumerable<IntegrityError> IRecordCheck.Finish(IReadTransaction txn) =>
        CheckChain(txn) is { } finding ? [finding.ToIntegrityError()] : [];

    /// <summary>The whole chain from the current incarnation's start against the sealed head; null when it verifies.</summary>
    public IntegrityFinding? CheckChain(IReadTransaction txn)
    {
        var result = AuditChainCheck.Verify(txn, _context.Security.Genesis, StartSeq, SealedHeads, int.MaxValue, out _);
        return result.IsValid ? null : IntegrityFinding.Chain(Store, result);
    }

    /// <summary>Where a whole-chain walk starts: the current incarnation's start, or 0 (the genesis).</summary>
    public long StartSeq => Math.Max(Incarnation?.Seq ?? 0, Anchor is { NewIncarnation: true } a ? a.Head.Seq : 0);

    /// <summary>The sealed heads the chain must contain.</summary>
    public IReadOnlyList<ChainHead> SealedHeads =>
        [.. new[] { Anchor?.Head, Incarnation is { Seq: > 0 } i ? i : null }.Where(h => h is not null).Cast<ChainHead>()];

    /// <summary>Checks one stored record (its envelope verified); null when it is sound.</summary>
    public IntegrityFinding? CheckRecord(IReadTransaction txn, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(txn);
        var keyBytes = key.ToArray();
        try
        {
            switch (table)
            {
                case Tables.Audit or Tables.SchemaHistory or Tables.ShardMeta:
                    return null;
                case Tables.Keys:
                    return CheckKeysEntry(txn, keyBytes, payload);
                case Tables.LogIndex or Tables.EventIndex or Tables.RequestExpiry:
                    return CheckTagged(txn, table, keyBytes, payload);
                case Tables.BlobIndex when key.Length > 0 && key[0] != BlobUpload.KeyKind:
                    return CheckTagged(txn, table, keyBytes, payload);
                default:
                    Authenticate(table, keyBytes, payload);
                    return null;
            }
        }
        catch (ForgeOneException e)
        {
            return IntegrityFinding.FromError(Store, table, KeyCodec.ToHex(key), e.Error);
        }
    }

    /// <summary>
    /// Whether an index entry's value (without its tag) describes the record it points at; null
    /// when it does. The authenticating migration runs this on entries written before tags
    /// existed, so it never tags a forged one.
    /// </summary>
    public IntegrityFinding? CrossCheck(IReadTransaction txn, string table, byte[] key, ReadOnlySpan<byte> value)
    {
        try
        {
            var problem = table switch
            {
                Tables.LogIndex => CrossCheckLog(txn, key, value),
                Tables.EventIndex => CrossCheckEvent(txn, key, value),
                Tables.BlobIndex => CrossCheckBlob(txn, key, value),
                Tables.RequestExpiry => value.Length == 0 && txn.Get(Tables.Requests, RequestKeys.LedgerKeyOf(key)) is { } outcome && Decrypted(Tables.Requests, RequestKeys.LedgerKeyOf(key).ToArray(), outcome)
                    ? null : "it names a request outcome that does not exist",
                _ => $"{table} is not an index",
            };
            return problem is null ? null : Mismatch(table, key, problem);
        }
        catch (ForgeOneException e)
        {
            return IntegrityFinding.FromError(Store, table, KeyCodec.ToHex(key), e.Error);
        }
    }

    private IntegrityFinding? CheckTagged(IReadTransaction txn, string table, byte[] key, ReadOnlySpan<byte> payload) =>
        TaggedValue.TryOpen(_context.Security.Mac, table, key, payload, out var value) ? CrossCheck(txn, table, key, value)
        : !Authenticated ? CrossCheck(txn, table, key, payload)
        : IntegrityFinding.FromError(Store, table, KeyCodec.ToHex(key), IndexEntries.Tampered(_context.Security, table, key).Error) with { Kind = "bad record MAC" };

    private IntegrityFinding? CheckKeysEntry(IReadTransaction txn, byte[] key, ReadOnlySpan<byte> payload)
    {
        if (key.AsSpan().SequenceEqual(HighWaterMarkKey))
        {
            if (!TaggedValue.TryOpen(_context.Security.Mac, Tables.Keys, key, payload, out var value) || value.Length != 8)
            {
                return IntegrityFinding.FromError(Store, Tables.Keys, KeyCodec.ToHex(key), IndexEntries.Tampered(_context.Security, Tables.Keys, key).Error) with { Kind = "bad record MAC" };
            }

            var hwm = new RecordId(KeyCodec.ReadUInt64(value));
            var newest = NewestId(txn);
            return newest is { } n && n.Value > hwm.Value
                ? Mismatch(Tables.Keys, key, $"the id high-water mark {hwm} is below the newest stored id {n}: an older value was put back")
                : null;
        }

        if (key.AsSpan().SequenceEqual(IncarnationKey))
        {
            return TaggedValue.TryOpen(_context.Security.Mac, Tables.Keys, key, payload, out _)
                ? null
                : IntegrityFinding.FromError(Store, Tables.Keys, KeyCodec.ToHex(key), IndexEntries.Tampered(_context.Security, Tables.Keys, key).Error) with { Kind = "bad record MAC" };
        }

        // The keyring authenticates itself (its metadata is bound into every key wrap): it was
        // checked when the shard opened.
        return null;
    }

    /// <summary>The newest record id of the shard's primary table, or null when it is empty.</summary>
    public RecordId? NewestId(IReadTransaction txn)
    {
        var table = _context.Kind switch
        {
            ShardKind.Logs => Tables.Logs,
            ShardKind.Events => Tables.Events,
            ShardKind.Blobs => Tables.BlobMetadata,
            _ => null,
        };
        return table is not null && txn.Last(table) is { Length: RecordKeys.IdLength } last ? RecordKeys.ParsePrimary(last) : null;
    }

    private string? CrossCheckLog(IReadTransaction txn, byte[] key, ReadOnlySpan<byte> value)
    {
        if (value.Length != 0)
        {
            return $"a log_index value is empty, this one has {value.Length} bytes";
        }

        var (timestamp, id) = RecordKeys.ParseTopicIndex(key);
        var primary = RecordKeys.Primary(id);
        if (txn.Get(Tables.Logs, primary) is not { } stored)
        {
            return $"it names log {id}, which does not exist";
        }

        var entry = StoredLogEntry.Decode(_context.Security.Decrypt(Tables.Logs, primary, stored));
        return LogShardHandler.IndexMismatch(key, timestamp, entry, _context) is { } why ? $"it does not describe log {id}: {why}" : null;
    }

    private string? CrossCheckEvent(IReadTransaction txn, byte[] key, ReadOnlySpan<byte> value)
    {
        if (value.Length != 1)
        {
            return $"an event_index value is one priority byte, this one has {value.Length} bytes";
        }

        var (timestamp, id) = RecordKeys.ParseTopicIndex(key);
        var primary = RecordKeys.Primary(id);
        if (txn.Get(Tables.Events, primary) is not { } stored)
        {
            return $"it names event {id}, which does not exist";
        }

        var e = StoredEventMessage.Decode(_context.Security.Decrypt(Tables.Events, primary, stored));
        var token = key.AsSpan(0, RecordKeys.TokenLength);
        var ms = timestamp.ToUnixTimeMilliseconds();
        var byTopic = token.SequenceEqual(EventShardHandler.TopicToken(_context, e.Topic)) && ms == e.Timestamp.ToUnixTimeMilliseconds();
        var bySequence = token.SequenceEqual(EventShardHandler.SeqToken(_context, e.Topic)) && ms == id.AssignedAt.ToUnixTimeMilliseconds();
        return !byTopic && !bySequence ? $"it does not describe event {id} (another topic or time)"
            : value[0] != (byte)e.Priority ? $"its priority {value[0]} is not event {id}'s {(byte)e.Priority}"
            : null;
    }

    private string? CrossCheckBlob(IReadTransaction txn, byte[] key, ReadOnlySpan<byte> value)
    {
        if (value.Length != 0)
        {
            return $"a blob_index value is empty, this one has {value.Length} bytes";
        }

        var id = RecordKeys.ParseBlobIndex(key);
        var primary = RecordKeys.Primary(id);
        if (txn.Get(Tables.BlobMetadata, primary) is not { } stored)
        {
            return $"it names blob {id}, which does not exist";
        }

        var meta = StoredBlobMetadata.Decode(_context.Security.Decrypt(Tables.BlobMetadata, primary, stored));
        var token = key.AsSpan(1, RecordKeys.TokenLength);
        var expected = key[0] == RecordKeys.BlobNameIndex(token, id)[0]
            ? BlobShardHandler.NameToken(_context, Encoding.UTF8.GetString(_context.Security.RevealField(FieldClass.BlobName, Tables.BlobMetadata, primary, meta.Name, FieldClasses.All)!))
            : BlobShardHandler.ContentTypeToken(_context, meta.ContentType);
        return token.SequenceEqual(expected) ? null : $"it does not describe blob {id} (another name or content type)";
    }

    private void Authenticate(string table, byte[] key, ReadOnlySpan<byte> ciphertext)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, RecordCipher.GetPlaintextLength(ciphertext.Length)));
        try
        {
            _context.Security.Decrypt(table, key, ciphertext, buffer);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    private bool Decrypted(string table, byte[] key, byte[] ciphertext)
    {
        Authenticate(table, key, ciphertext);
        return true;
    }

    private IntegrityFinding Mismatch(string table, byte[] key, string problem) =>
        new(Store, table, KeyCodec.ToHex(key), null, ErrorCodes.StorageCorruptRecord, "index mismatch", $"store {Store}, table '{table}', key {KeyCodec.ToHex(key)}: {problem}");
}
