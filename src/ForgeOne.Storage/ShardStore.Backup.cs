namespace ForgeOne.Storage;

public sealed partial class ShardStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One read transaction serves both arguments, so what <paramref name="work"/> reads (record
    /// counts, the audit head, the keyring) describes exactly the pages it streams, while writers
    /// keep committing. Like <see cref="HotCopy"/>, the map cannot grow while it runs: a writer
    /// that fills the map waits for the snapshot to end.
    /// </remarks>
    public T Snapshot<T>(ulong sinceTxnId, Func<IReadTransaction, SnapshotPages, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Read(reader =>
        {
            using var pages = SnapshotPages.Begin(((ReadTransaction)reader).Txn, sinceTxnId, FilePath);
            return work(reader, pages);
        });
    }
}
