using System.Collections.Immutable;
using ForgeOne.Common;

namespace ForgeOne.Storage.Testing;

/// <summary>
/// An in-memory <see cref="IShardStore"/> for actor tests: same contract as
/// <see cref="ShardStore"/> (all-or-nothing writes, snapshot reads from any thread, byte-ordered
/// scans, envelopes with checksums, ownership fencing), no file. Not for production: every
/// table is an immutable sorted map, so a write costs O(log n) allocations.
/// </summary>
/// <remarks>
/// <see cref="HotCopy"/> is not supported (there is no file to copy). Tests can corrupt a
/// stored value through <see cref="CorruptValueForTest"/> to exercise read-side error paths.
/// </remarks>
public sealed class InMemoryShardStore : IShardStore
{
    private static readonly IComparer<byte[]> KeyOrder = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    // Committed state: swapped atomically by a commit, never mutated, so a reader that took a
    // reference has a consistent snapshot for as long as it likes.
    private ImmutableDictionary<string, ImmutableSortedDictionary<byte[], byte[]>> _committed;
    private readonly Lock _writeLock = new();

    // Read callbacks running on each thread, to refuse a Write inside a Read as ShardStore does.
    private readonly ThreadLocal<int> _readDepth = new();
    private ShardMeta _meta;
    private long _commitCount;
    private bool _disposed;

    /// <summary>Creates an empty store for shard <paramref name="shardNumber"/> of <paramref name="shardCount"/> of <paramref name="kind"/>.</summary>
    public InMemoryShardStore(ShardKind kind, int shardNumber = 0, int shardCount = 1)
    {
        _meta = new ShardMeta(kind, shardNumber, shardCount, ShardSchema.TargetVersion(ShardSchema.BuiltInMigrations), RecordEnvelope.CurrentFormat, Owner: null);
        _committed = Tables.For(kind).ToImmutableDictionary(t => t, _ => ImmutableSortedDictionary.Create<byte[], byte[]>(KeyOrder), StringComparer.Ordinal);
        FilePath = $"memory://{kind.FolderName()}/shard-{shardNumber:D4}";
        var history = new SchemaHistoryEntry(1, 0, _meta.SchemaVersion, $"created {kind.FolderName()} shard {shardNumber} of {shardCount} at schema version {_meta.SchemaVersion}", DateTimeOffset.UnixEpoch);
        var historyKey = KeyCodec.UInt64(1);
        _committed = WithMetaRow(_committed, _meta)
            .SetItem(Tables.SchemaHistory, _committed[Tables.SchemaHistory].SetItem(historyKey, RecordEnvelope.Wrap(historyKey, history.Encode())));
    }

    // shard_meta holds the same record as in a file, so readers of that table see the same bytes.
    private static ImmutableDictionary<string, ImmutableSortedDictionary<byte[], byte[]>> WithMetaRow(ImmutableDictionary<string, ImmutableSortedDictionary<byte[], byte[]>> state, ShardMeta meta)
    {
        var key = ShardMeta.Key.ToArray();
        return state.SetItem(Tables.ShardMeta, state[Tables.ShardMeta].SetItem(key, RecordEnvelope.Wrap(key, meta.Encode())));
    }

    /// <inheritdoc />
    public ShardMeta Meta => Volatile.Read(ref _meta);

    /// <summary>Always true: a memory store starts empty, and its schema steps are part of its creation.</summary>
    public bool CreatedByThisOpen => true;

    /// <inheritdoc />
    public string FilePath { get; }

    /// <inheritdoc />
    public long CommitCount => Interlocked.Read(ref _commitCount);

    /// <inheritdoc />
    public T Write<T>(Func<IWriteTransaction, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_writeLock.IsHeldByCurrentThread)
        {
            throw new InvalidOperationException("Write called inside a Write callback on the same store; put everything in one transaction instead.");
        }

        if (_readDepth.Value > 0)
        {
            throw new InvalidOperationException("Write called inside a Read callback on the same thread; finish the read first.");
        }

        lock (_writeLock)
        {
            ThrowIfDisposed();
            var txn = new Txn(this, Volatile.Read(ref _committed), writable: true);
            try
            {
                var result = work(txn);
                Volatile.Write(ref _committed, txn.State);
                Interlocked.Increment(ref _commitCount);
                return result;
            }
            finally
            {
                txn.Ended = true;
            }
        }
    }

    /// <inheritdoc />
    public T Read<T>(Func<IReadTransaction, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfDisposed();
        var txn = new Txn(this, Volatile.Read(ref _committed), writable: false);
        _readDepth.Value++;
        try
        {
            return work(txn);
        }
        finally
        {
            _readDepth.Value--;
            txn.Ended = true;
        }
    }

    /// <summary>Not supported: an in-memory store has no file.</summary>
    public void HotCopy(string destinationPath) => throw new NotSupportedException("InMemoryShardStore has no file to copy");

    /// <inheritdoc />
    public IntegrityReport CheckIntegrity() => CheckIntegrity(null);

    /// <inheritdoc />
    public IntegrityReport CheckIntegrity(IRecordCheck? deep) => Read(reader => CheckIntegrity(reader, deep));

    private IntegrityReport CheckIntegrity(IReadTransaction reader, IRecordCheck? deep)
    {
        var snapshot = Volatile.Read(ref _committed);
        var tables = new List<TableIntegrity>();
        var errors = new List<IntegrityError>();
        foreach (var name in Tables.For(_meta.Kind))
        {
            long corrupt = 0;
            foreach (var (key, stored) in snapshot[name])
            {
                var error = RecordEnvelope.Verify(key, stored) is { } problem
                    ? new IntegrityError(name, KeyCodec.ToHex(key), problem.Code, problem.Reason)
                    : deep?.Check(reader, name, key, stored.AsSpan(RecordEnvelope.HeaderSize));
                if (error is not null)
                {
                    corrupt++;
                    if (errors.Count < IntegrityReport.MaxErrors)
                    {
                        errors.Add(error);
                    }
                }
            }

            tables.Add(new TableIntegrity(name, snapshot[name].Count, corrupt));
        }

        errors.AddRange((deep?.Finish(reader) ?? []).Take(IntegrityReport.MaxErrors - errors.Count));
        return new IntegrityReport(FilePath, tables, errors);
    }

    /// <inheritdoc />
    public void ClaimOwnership(string nodeAddress, long epoch)
    {
        if (string.IsNullOrWhiteSpace(nodeAddress))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, "the owner's node address is empty");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        lock (_writeLock)
        {
            ThrowIfDisposed();
            var meta = _meta;
            if (meta.Owner is { } owner && (epoch < owner.Epoch || (epoch == owner.Epoch && owner.NodeAddress != nodeAddress)))
            {
                throw new ForgeOneException(ErrorCodes.StorageStaleOwner, $"{FilePath} is owned by {owner.NodeAddress} at epoch {owner.Epoch}; a claim by {nodeAddress} at epoch {epoch} is stale");
            }

            var claimed = meta with { Owner = new ShardOwner(nodeAddress, epoch) };
            Volatile.Write(ref _committed, WithMetaRow(_committed, claimed));
            Volatile.Write(ref _meta, claimed);
            Interlocked.Increment(ref _commitCount);
        }
    }

    /// <inheritdoc />
    public string Name => $"{_meta.Kind.FolderName()}-{_meta.ShardNumber:D4}";

    /// <inheritdoc />
    public IRecordAuthenticator? Authenticator { get; private set; }

    /// <inheritdoc />
    /// <remarks>In memory nobody edits the records behind the store's back: the MAC is only attached.</remarks>
    public void UseAuthenticator(IRecordAuthenticator mac) => Authenticator = mac ?? throw new ArgumentNullException(nameof(mac));

    /// <inheritdoc />
    public bool Migrate(IMigration migration, Action<IWriteTransaction, AppliedMigration>? record = null)
    {
        ArgumentNullException.ThrowIfNull(migration);
        if (_meta.SchemaVersion != migration.FromVersion)
        {
            return false;
        }

        var applied = new AppliedMigration(migration.FromVersion, migration.ToVersion, migration.Description, DateTimeOffset.UtcNow);
        Write(txn =>
        {
            migration.Apply(txn);
            record?.Invoke(txn, applied);
            return 0;
        });
        lock (_writeLock)
        {
            var migrated = _meta with { SchemaVersion = migration.ToVersion };
            Volatile.Write(ref _committed, WithMetaRow(_committed, migrated));
            Volatile.Write(ref _meta, migrated);
        }

        return true;
    }

    /// <inheritdoc />
    public void TagStoreRecords(IWriteTransaction txn)
    {
    }

    /// <summary>Flips one payload bit of a stored record so the next read fails its checksum (tests only).</summary>
    public void CorruptValueForTest(string table, ReadOnlySpan<byte> key)
    {
        lock (_writeLock)
        {
            var rows = _committed[table];
            var k = key.ToArray();
            var stored = (byte[])rows[k].Clone();
            stored[^1] ^= 0x01;
            _committed = _committed.SetItem(table, rows.SetItem(k, stored));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_writeLock)
        {
            _disposed = true;
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private sealed class Txn(InMemoryShardStore store, ImmutableDictionary<string, ImmutableSortedDictionary<byte[], byte[]>> state, bool writable) : IWriteTransaction
    {
        public ImmutableDictionary<string, ImmutableSortedDictionary<byte[], byte[]>> State { get; private set; } = state;

        public bool Ended { get; set; }

        public byte[]? Get(string table, ReadOnlySpan<byte> key) =>
            Rows(table).TryGetValue(key.ToArray(), out var stored) ? RecordEnvelope.Unwrap(table, key, stored).ToArray() : null;

        public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive, bool reverse = false, int limit = int.MaxValue)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(limit);
            var result = new List<KeyValuePair<byte[], byte[]>>();
            IEnumerable<KeyValuePair<byte[], byte[]>> rows = Rows(table);
            if (reverse)
            {
                rows = rows.Reverse();
            }

            foreach (var (key, stored) in rows)
            {
                if (result.Count >= limit)
                {
                    break;
                }

                var belowFrom = !fromInclusive.IsEmpty && key.AsSpan().SequenceCompareTo(fromInclusive) < 0;
                var atOrAboveTo = !toExclusive.IsEmpty && key.AsSpan().SequenceCompareTo(toExclusive) >= 0;
                if (reverse ? belowFrom : atOrAboveTo)
                {
                    break;
                }

                if (!belowFrom && !atOrAboveTo)
                {
                    result.Add(new((byte[])key.Clone(), RecordEnvelope.Unwrap(table, key, stored).ToArray()));
                }
            }

            return result;
        }

        public long Count(string table) => Rows(table).Count;

        public byte[]? Last(string table)
        {
            var rows = Rows(table);
            return rows.IsEmpty ? null : (byte[])rows.Keys.Last().Clone();
        }

        public void Put(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            var rows = WritableRows(table, key);
            var k = key.ToArray();
            State = State.SetItem(table, rows.SetItem(k, RecordEnvelope.Wrap(k, value)));
        }

        public void PutWrapped(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> envelope)
        {
            var rows = WritableRows(table, key);
            RecordEnvelope.CheckSealed(envelope);
            State = State.SetItem(table, rows.SetItem(key.ToArray(), envelope.ToArray()));
        }

        public bool Delete(string table, ReadOnlySpan<byte> key)
        {
            var rows = WritableRows(table, key);
            var k = key.ToArray();
            if (!rows.ContainsKey(k))
            {
                return false;
            }

            State = State.SetItem(table, rows.Remove(k));
            return true;
        }

        private ImmutableSortedDictionary<byte[], byte[]> Rows(string table)
        {
            if (Ended)
            {
                throw new InvalidOperationException("The transaction has ended: use it only inside the Read/Write callback.");
            }

            return State.TryGetValue(table, out var rows)
                ? rows
                : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"table '{table}' does not exist in a {store.Meta.Kind.FolderName()} shard");
        }

        private ImmutableSortedDictionary<byte[], byte[]> WritableRows(string table, ReadOnlySpan<byte> key)
        {
            if (!writable)
            {
                throw new InvalidOperationException("read transactions cannot write");
            }

            var rows = Rows(table);
            if (Tables.IsStoreManaged(table))
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"table '{table}' is maintained by the store and cannot be written directly");
            }

            if (key.IsEmpty || key.Length > KeyCodec.MaxKeyLength)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"key of {key.Length} bytes for '{table}' is empty or longer than {KeyCodec.MaxKeyLength} bytes");
            }

            return rows;
        }
    }
}
