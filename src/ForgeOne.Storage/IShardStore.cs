namespace ForgeOne.Storage;

/// <summary>
/// One shard's file: a set of ordered byte tables with all-or-nothing write transactions.
/// Keys are raw bytes in bytewise order; values are the caller's bytes, stored inside a
/// checksummed <see cref="RecordEnvelope"/> and verified on every read.
/// </summary>
/// <remarks>
/// Threading: <see cref="Write{T}"/> runs its callback synchronously on the calling thread
/// (LMDB write transactions are thread-affine) and write transactions are serialized.
/// <see cref="Read{T}"/> may be called from any thread, concurrently with a writer, and never
/// waits for the writer. A <see cref="Read{T}"/> may run inside a <see cref="Write{T}"/>
/// callback (it sees the last committed state, not the open write); a <see cref="Write{T}"/>
/// inside another Write or inside a Read callback on the same thread throws
/// <see cref="InvalidOperationException"/>.
/// </remarks>
public interface IShardStore : IDisposable
{
    /// <summary>Identity, versions and owner of the shard, as last committed.</summary>
    ShardMeta Meta { get; }

    /// <summary>The shard file's path.</summary>
    string FilePath { get; }

    /// <summary>Write transactions committed since the store was opened (for group-commit tests and metrics).</summary>
    long CommitCount { get; }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction and commits it. Everything it
    /// wrote is committed together, or, if it throws, nothing is. If the map fills up the
    /// transaction is aborted, the map grown and <paramref name="work"/> run again from the
    /// start, so it must not have side effects outside the transaction it cannot repeat.
    /// </summary>
    T Write<T>(Func<IWriteTransaction, T> work);

    /// <summary>
    /// Runs <paramref name="work"/> in a read transaction over a consistent snapshot. The
    /// transaction ends when <paramref name="work"/> returns: results must be materialized
    /// inside it (every method of <see cref="IReadTransaction"/> already returns copies).
    /// </summary>
    T Read<T>(Func<IReadTransaction, T> work);

    /// <summary>
    /// Writes a compacted, consistent copy of the file to <paramref name="destinationPath"/>
    /// while writes continue. The destination must not exist; the copy appears there only
    /// once complete.
    /// </summary>
    void HotCopy(string destinationPath);

    /// <summary>
    /// Runs <paramref name="work"/> over one consistent read snapshot: the transaction to read
    /// facts from, and the stream of the snapshot's pages written after transaction
    /// <paramref name="sinceTxnId"/> (0: every page). Writes continue meanwhile. A backup of
    /// the shard is this stream; <see cref="PageImage"/> turns a chain of them back into a file.
    /// </summary>
    /// <exception cref="NotSupportedException">The store is not an LMDB file.</exception>
    T Snapshot<T>(ulong sinceTxnId, Func<IReadTransaction, SnapshotPages, T> work) =>
        throw new NotSupportedException($"{GetType().Name} keeps no LMDB pages to back up.");

    /// <summary>Walks every table and verifies every record's envelope and checksum.</summary>
    IntegrityReport CheckIntegrity();

    /// <summary>
    /// The deep mode: the same walk, and every record whose envelope verified is also handed to
    /// <paramref name="deep"/> (which holds the shard's keys: it authenticates ciphertexts, index
    /// entries and the audit chain). Null is the plain walk.
    /// </summary>
    IntegrityReport CheckIntegrity(IRecordCheck? deep);

    /// <summary>The store's name in errors and findings (e.g. <c>logs-0003</c>).</summary>
    string Name { get; }

    /// <summary>The record MAC attached by <see cref="UseAuthenticator"/>, or null.</summary>
    IRecordAuthenticator? Authenticator { get; }

    /// <summary>
    /// Attaches the shard's record MAC (its keys are in the file, so they are loaded after open):
    /// verifies the tags of <c>shard_meta</c> and <c>schema_history</c> (<c>crypto.tampered</c> naming
    /// the table and key when one does not verify, or is missing in an authenticated file) and
    /// tags every later write of them.
    /// </summary>
    void UseAuthenticator(IRecordAuthenticator mac);

    /// <summary>
    /// Runs one schema step that needs the shard's keys, in one transaction with its
    /// <c>schema_history</c> row, the new version in <c>shard_meta</c> and <paramref name="record"/>
    /// (the caller's audit record). False when the file is already past it.
    /// </summary>
    bool Migrate(IMigration migration, Action<IWriteTransaction, AppliedMigration>? record = null);

    /// <summary>Re-tags <c>shard_meta</c> and every <c>schema_history</c> row inside <paramref name="txn"/> (the authenticating migration).</summary>
    void TagStoreRecords(IWriteTransaction txn);

    /// <summary>
    /// True when this open created the file: its keyed migrations are part of its creation and
    /// run at once, while an existing file's pending migrations wait for <c>schema migrate</c>.
    /// </summary>
    bool CreatedByThisOpen { get; }

    /// <summary>
    /// Records <paramref name="nodeAddress"/> as owner at <paramref name="epoch"/>. A claim
    /// with a lower epoch than the recorded one, or the same epoch by another node, throws
    /// <see cref="Common.ForgeOneException"/> with <see cref="Common.ErrorCodes.StorageStaleOwner"/>.
    /// </summary>
    void ClaimOwnership(string nodeAddress, long epoch);
}

/// <summary>
/// Checks that need the shard's keys, run by <see cref="IShardStore.CheckIntegrity(IRecordCheck)"/>
/// inside its read transaction.
/// </summary>
public interface IRecordCheck
{
    /// <summary>Checks one record (its envelope already verified); returns what is wrong, or null.</summary>
    IntegrityError? Check(IReadTransaction txn, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload);

    /// <summary>Checks that span records (the audit chain), after the walk.</summary>
    IEnumerable<IntegrityError> Finish(IReadTransaction txn);
}

/// <summary>Reads inside a transaction. Every returned array is a copy owned by the caller.</summary>
public interface IReadTransaction
{
    /// <summary>The value stored under <paramref name="key"/>, or null.</summary>
    byte[]? Get(string table, ReadOnlySpan<byte> key);

    /// <summary>
    /// The value under <paramref name="key"/> without copying it (checksum verified like
    /// <see cref="Get"/>): a view of the store's memory that is valid only until this transaction
    /// ends. For large values consumed inside the transaction (a blob chunk is decrypted
    /// straight from it). False when there is no such key.
    /// </summary>
    bool TryGet(string table, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        var copy = Get(table, key);
        value = copy;
        return copy is not null;
    }

    /// <summary>
    /// Records with <paramref name="fromInclusive"/> &lt;= key &lt; <paramref name="toExclusive"/>
    /// in key order (descending when <paramref name="reverse"/>), at most <paramref name="limit"/>.
    /// An empty bound is open: empty <paramref name="fromInclusive"/> starts at the first key,
    /// empty <paramref name="toExclusive"/> runs to the last. In a read transaction the records
    /// are read as the caller enumerates (a page costs a page, and a continuation O(log n) to
    /// find): enumerate inside the callback. In a write transaction the result is materialized,
    /// so the callback may write between steps.
    /// </summary>
    IEnumerable<KeyValuePair<byte[], byte[]>> Scan(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive, bool reverse = false, int limit = int.MaxValue);

    /// <summary>
    /// The number of records with <paramref name="fromInclusive"/> &lt;= key &lt; <paramref name="toExclusive"/>
    /// (empty bounds open), counted on a cursor without copying any record.
    /// </summary>
    long CountRange(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive) =>
        Scan(table, fromInclusive, toExclusive).LongCount();

    /// <summary>The number of records in <paramref name="table"/>.</summary>
    long Count(string table);

    /// <summary>The greatest key in <paramref name="table"/>, or null when it is empty.</summary>
    byte[]? Last(string table);
}

/// <summary>Reads and writes inside one all-or-nothing write transaction. Reads see the transaction's own writes.</summary>
public interface IWriteTransaction : IReadTransaction
{
    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing any previous value.</summary>
    void Put(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>
    /// Stores an envelope the caller completed with <see cref="RecordEnvelope.Seal"/> for the
    /// same <paramref name="key"/>: the same record as <see cref="Put"/> of its payload, without
    /// copying or checksumming the value on the writer's thread (for large values prepared
    /// elsewhere). Only the header's format is checked here; a checksum that does not match is
    /// refused by every read, like any corrupt record.
    /// </summary>
    void PutWrapped(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> envelope);

    /// <summary>Removes <paramref name="key"/>; returns whether it existed.</summary>
    bool Delete(string table, ReadOnlySpan<byte> key);
}
