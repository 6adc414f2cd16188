using System.Buffers;
using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage;

public sealed partial class ShardStore
{
    // Growing the map (mdb_env_set_mapsize) is only safe while no transaction of this process
    // is open, readers included. Every transaction holds the gate shared; growth takes it
    // exclusively, so it waits for running readers and briefly holds back new ones. Recursion
    // is allowed so a Read may run inside a Write callback on the same thread.
    private readonly ReaderWriterLockSlim _gate = new(LockRecursionPolicy.SupportsRecursion);

    // The thread currently inside a Write callback. A nested Write on that thread would
    // deadlock on LMDB's writer mutex, so it is refused instead.
    private int _writerThread;

    private const long GrowthStepCeiling = 1L << 30;

    /// <inheritdoc />
    /// <remarks>
    /// Runs <paramref name="work"/> on the calling thread. Concurrent calls from several threads
    /// are serialized by LMDB's writer lock. A nested Write on the same thread throws.
    /// </remarks>
    public T Write<T>(Func<IWriteTransaction, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return WriteCore(work, storeManaged: false);
    }

    // storeManaged: true for the store's own writes to shard_meta and schema_history.
    private T WriteCore<T>(Func<IWriteTransaction, T> work, bool storeManaged)
    {
        ThrowIfDisposed();
        if (Volatile.Read(ref _writerThread) == Environment.CurrentManagedThreadId)
        {
            throw new InvalidOperationException("Write called inside a Write callback on the same store; put everything in one transaction instead.");
        }

        if (_gate.IsReadLockHeld)
        {
            // Growing the map needs the gate exclusively, which this thread could never get
            // while its own Read holds it shared.
            throw new InvalidOperationException("Write called inside a Read callback or hot copy on the same thread; finish the read first.");
        }

        while (true)
        {
            if (TryWriteOnce(work, storeManaged, out var result))
            {
                return result;
            }

            GrowMap();
        }
    }

    /// <returns>False when the map filled up; the transaction was aborted and the map must grow before a retry.</returns>
    private bool TryWriteOnce<T>(Func<IWriteTransaction, T> work, bool storeManaged, out T result)
    {
        _gate.EnterReadLock();
        try
        {
            using var txn = BeginOrThrow(TransactionBeginFlags.None);
            var writer = new WriteTransaction(this, txn) { AllowStoreManagedTables = storeManaged };
            Volatile.Write(ref _writerThread, Environment.CurrentManagedThreadId);
            try
            {
                result = work(writer);
            }
            catch (Exception) when (writer.MapFull)
            {
                // The callback saw (and maybe wrapped) our map-full signal. Nothing is kept.
                txn.Abort();
                result = default!;
                return false;
            }
            catch
            {
                txn.Abort();
                throw;
            }
            finally
            {
                writer.End();
                Volatile.Write(ref _writerThread, 0);
            }

            if (writer.MapFull)
            {
                // The callback swallowed the failure; LMDB has poisoned the transaction anyway.
                txn.Abort();
                return false;
            }

            // mdb_txn_commit frees the transaction whatever it returns: no Abort after it.
            var rc = txn.Commit();
            if (rc == MDBResultCode.MapFull)
            {
                return false;
            }

            LmdbErrors.ThrowOnError(rc, $"committing to {FilePath}");
            Interlocked.Increment(ref _commitCount);
            return true;
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    private void GrowMap()
    {
        _gate.EnterWriteLock();
        try
        {
            ThrowIfDisposed();
            var current = _env.Info.MapSize;
            var wanted = current < GrowthStepCeiling ? current * 2 : current + GrowthStepCeiling;
            try
            {
                _env.MapSize = wanted;
            }
            catch (LightningException e)
            {
                throw LmdbErrors.ToForgeOne(LmdbErrors.StatusOf(e), $"growing the map of {FilePath} to {wanted} bytes", e);
            }

            // Without this check a failed resize (address space exhausted, say) would make
            // Write retry forever.
            if (_env.Info.MapSize < wanted)
            {
                throw new ForgeOneException(ErrorCodes.StorageIo, $"could not grow the map of {FilePath} from {current} to {wanted} bytes");
            }
        }
        finally
        {
            _gate.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public T Read<T>(Func<IReadTransaction, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ThrowIfDisposed();
        _gate.EnterReadLock();
        try
        {
            using var txn = BeginOrThrow(TransactionBeginFlags.ReadOnly);
            var reader = new ReadTransaction(this, txn);
            try
            {
                return work(reader);
            }
            finally
            {
                reader.End();
            }
        }
        finally
        {
            _gate.ExitReadLock();
        }
    }

    private LightningTransaction BeginOrThrow(TransactionBeginFlags flags)
    {
        ThrowIfDisposed();
        try
        {
            return _env.BeginTransaction(flags);
        }
        catch (LightningException e)
        {
            throw LmdbErrors.ToForgeOne(LmdbErrors.StatusOf(e), $"beginning a transaction on {FilePath}", e);
        }
    }

    private LightningDatabase Table(string table) =>
        _tables.TryGetValue(table, out var db)
            ? db
            : throw new ForgeOneException(ErrorCodes.InvalidArgument, $"table '{table}' does not exist in a {_options.Kind.FolderName()} shard");

    /// <summary>Reads over one LMDB transaction. Every method copies out of the map before returning.</summary>
    private class ReadTransaction(ShardStore store, LightningTransaction txn) : IReadTransaction
    {
        private bool _ended;

        protected ShardStore Store { get; } = store;

        public LightningTransaction Txn { get; } = txn;

        public virtual void End() => _ended = true;

        protected void ThrowIfEnded()
        {
            if (_ended)
            {
                throw new InvalidOperationException("The transaction has ended: use it only inside the Read/Write callback.");
            }
        }

        public byte[]? Get(string table, ReadOnlySpan<byte> key)
        {
            ThrowIfEnded();
            var (rc, _, value) = Txn.Get(Store.Table(table), key);
            if (rc == MDBResultCode.NotFound)
            {
                return null;
            }

            LmdbErrors.ThrowOnError(rc, $"reading '{table}' in {Store.FilePath}");
            return RecordEnvelope.Unwrap(Store.Name, table, key, value.AsSpan()).ToArray();
        }

        public bool TryGet(string table, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
        {
            ThrowIfEnded();
            var (rc, _, stored) = Txn.Get(Store.Table(table), key);
            if (rc == MDBResultCode.NotFound)
            {
                value = default;
                return false;
            }

            LmdbErrors.ThrowOnError(rc, $"reading '{table}' in {Store.FilePath}");
            value = RecordEnvelope.Unwrap(Store.Name, table, key, stored.AsSpan());
            return true;
        }

        /// <summary>
        /// Lazy: each record is read from the cursor when the caller asks for it, so a caller
        /// that takes a page holds a page, whatever the range. The write side materializes
        /// instead (<see cref="WriteTransaction.Scan"/>), because its callers write between steps.
        /// </summary>
        public virtual IEnumerable<KeyValuePair<byte[], byte[]>> Scan(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive, bool reverse = false, int limit = int.MaxValue)
        {
            ThrowIfEnded();
            ArgumentOutOfRangeException.ThrowIfNegative(limit);
            var db = Store.Table(table);
            return limit == 0 ? [] : Stream(table, db, fromInclusive.ToArray(), toExclusive.ToArray(), reverse, limit);
        }

        private IEnumerable<KeyValuePair<byte[], byte[]>> Stream(string table, LightningDatabase db, byte[] fromInclusive, byte[] toExclusive, bool reverse, int limit)
        {
            // Checked on every step: an enumeration carried out of its Read callback would read
            // a transaction that has ended.
            ThrowIfEnded();
            using var cursor = Txn.CreateCursor(db);
            var (rc, key, value) = reverse ? SeekLastBelow(cursor, toExclusive) : SeekFirstFrom(cursor, fromInclusive);
            var returned = 0;
            while (rc == MDBResultCode.Success)
            {
                var (k, v) = Copy(Store.Name, table, key, value, fromInclusive, toExclusive, reverse);
                if (k is null)
                {
                    break;
                }

                yield return new(k, v!);
                ThrowIfEnded();
                if (++returned == limit)
                {
                    break;
                }

                (rc, key, value) = reverse ? cursor.Previous() : cursor.Next();
            }

            if (rc is not (MDBResultCode.Success or MDBResultCode.NotFound))
            {
                LmdbErrors.ThrowOnError(rc, $"scanning '{table}' in {Store.FilePath}");
            }
        }

        // Spans cannot live across a yield: the range check and the copies happen here.
        private static (byte[]? Key, byte[]? Value) Copy(string store, string table, MDBValue key, MDBValue value, byte[] fromInclusive, byte[] toExclusive, bool reverse)
        {
            var k = key.AsSpan();
            var inRange = reverse
                ? fromInclusive.Length == 0 || k.SequenceCompareTo(fromInclusive) >= 0
                : toExclusive.Length == 0 || k.SequenceCompareTo(toExclusive) < 0;
            return inRange ? (k.ToArray(), RecordEnvelope.Unwrap(store, table, k, value.AsSpan()).ToArray()) : (null, null);
        }

        public long CountRange(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive)
        {
            ThrowIfEnded();
            using var cursor = Txn.CreateCursor(Store.Table(table));
            var (rc, key, _) = SeekFirstFrom(cursor, fromInclusive);
            long n = 0;
            while (rc == MDBResultCode.Success && (toExclusive.IsEmpty || key.AsSpan().SequenceCompareTo(toExclusive) < 0))
            {
                n++;
                (rc, key, _) = cursor.Next();
            }

            if (rc is not (MDBResultCode.Success or MDBResultCode.NotFound))
            {
                LmdbErrors.ThrowOnError(rc, $"counting '{table}' in {Store.FilePath}");
            }

            return n;
        }

        private static (MDBResultCode, MDBValue, MDBValue) SeekFirstFrom(LightningCursor cursor, ReadOnlySpan<byte> from)
        {
            if (from.IsEmpty)
            {
                return cursor.First();
            }

            var rc = cursor.SetRange(from);
            return rc == MDBResultCode.Success ? cursor.GetCurrent() : (rc, default, default);
        }

        private static (MDBResultCode, MDBValue, MDBValue) SeekLastBelow(LightningCursor cursor, ReadOnlySpan<byte> toExclusive)
        {
            if (toExclusive.IsEmpty)
            {
                return cursor.Last();
            }

            // SetRange lands on the first key >= the bound, which is excluded: step back one.
            // No such key means every key is below the bound: start from the last.
            var rc = cursor.SetRange(toExclusive);
            return rc == MDBResultCode.Success ? cursor.Previous() : cursor.Last();
        }

        public long Count(string table)
        {
            ThrowIfEnded();
            return Txn.GetEntriesCount(Store.Table(table));
        }

        public byte[]? Last(string table)
        {
            ThrowIfEnded();
            using var cursor = Txn.CreateCursor(Store.Table(table));
            var (rc, key, _) = cursor.Last();
            return rc == MDBResultCode.Success ? key.CopyToNewArray() : null;
        }
    }

    /// <summary>
    /// The write side. Envelopes are built in one pooled buffer per transaction (LMDB copies
    /// the value during the put), so a put allocates nothing.
    /// </summary>
    private sealed class WriteTransaction(ShardStore store, LightningTransaction txn) : ReadTransaction(store, txn), IWriteTransaction
    {
        private byte[]? _envelope;

        /// <summary>Set when LMDB reported MDB_MAP_FULL; the whole transaction is then retried after growth.</summary>
        public bool MapFull { get; private set; }

        // Internal writes (shard_meta, schema_history) pass through the store-managed guard.
        public bool AllowStoreManagedTables { get; set; }

        /// <summary>Materialized: write callbacks put and delete between the steps of a scan.</summary>
        public override IEnumerable<KeyValuePair<byte[], byte[]>> Scan(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive, bool reverse = false, int limit = int.MaxValue) =>
            base.Scan(table, fromInclusive, toExclusive, reverse, limit).ToList();

        public override void End()
        {
            base.End();
            if (_envelope is not null)
            {
                ArrayPool<byte>.Shared.Return(_envelope);
                _envelope = null;
            }
        }

        public void Put(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            ThrowIfEnded();
            var db = WritableTable(table, key);
            var length = RecordEnvelope.WrappedLength(value.Length);
            if (_envelope is null || _envelope.Length < length)
            {
                if (_envelope is not null)
                {
                    ArrayPool<byte>.Shared.Return(_envelope);
                }

                _envelope = ArrayPool<byte>.Shared.Rent(Math.Max(length, 4096));
            }

            var envelope = _envelope.AsSpan(0, length);
            RecordEnvelope.Wrap(key, value, envelope);
            Check(Txn.Put(db, key, envelope, PutOptions.None), table, key);
        }

        public void PutWrapped(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> envelope)
        {
            ThrowIfEnded();
            var db = WritableTable(table, key);
            RecordEnvelope.CheckSealed(envelope);
            Check(Txn.Put(db, key, envelope, PutOptions.None), table, key);
        }

        public bool Delete(string table, ReadOnlySpan<byte> key)
        {
            ThrowIfEnded();
            var rc = Txn.Delete(WritableTable(table, key), key);
            if (rc == MDBResultCode.NotFound)
            {
                return false;
            }

            Check(rc, table, key);
            return true;
        }

        private LightningDatabase WritableTable(string table, ReadOnlySpan<byte> key)
        {
            // LMDB 1.0 accepts a zero-length key (and, with 4 KiB pages, keys over 511 bytes), but an empty bound means "open end" in Scan,
            // so an empty key could never be addressed by a range: refuse it up front.
            if (key.IsEmpty || key.Length > KeyCodec.MaxKeyLength)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"key of {key.Length} bytes for '{table}' is empty or longer than {KeyCodec.MaxKeyLength} bytes");
            }

            if (!AllowStoreManagedTables && Tables.IsStoreManaged(table))
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"table '{table}' is maintained by the store and cannot be written directly");
            }

            return Store.Table(table);
        }

        private void Check(MDBResultCode rc, string table, ReadOnlySpan<byte> key)
        {
            if (rc == MDBResultCode.Success)
            {
                return;
            }

            if (rc == MDBResultCode.MapFull)
            {
                MapFull = true;
                throw new MapFullException();
            }

            if (rc == MDBResultCode.BadValSize)
            {
                throw new ForgeOneException(ErrorCodes.InvalidArgument, $"key of {key.Length} bytes for '{table}' is empty or longer than LMDB's {Store._env.MaxKeySize}-byte limit");
            }

            throw LmdbErrors.ToForgeOne(rc, $"writing '{table}' key {KeyCodec.ToHex(key)} in {Store.FilePath}");
        }
    }

    /// <summary>Unwinds a write callback when the map is full; the store grows the map and re-runs the callback.</summary>
    private sealed class MapFullException : Exception
    {
        public MapFullException()
            : base("LMDB map is full; the store grows it and retries the transaction")
        {
        }
    }
}
