using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards.Requests;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// A group-commit attempt inside one LMDB write transaction: commands go to the kind's handler,
/// audit records to the shard's chain, and every write the handler makes is counted first, so
/// <see cref="GroupCommit{TReplyTo}"/> can tell a command that failed before writing (it fails
/// alone) from one that left partial writes (the attempt is aborted). A command with a request
/// id is looked up in the shard's request ledger first: committed before, it is answered from
/// the remembered ids and writes nothing; new, its ids are remembered in the same transaction.
/// </summary>
internal sealed class ShardGroupTransaction : IGroupTransaction
{
    private readonly CountingWriteTransaction _txn;
    private readonly IShardHandler _handler;
    private readonly ShardContext _context;
    private readonly IAuditAppender _audit;

    private readonly RequestLedger? _requests;
    private readonly DateTimeOffset _batchTime;

    public ShardGroupTransaction(IWriteTransaction txn, IShardHandler handler, ShardContext context, IAuditAppender audit, RequestLedger? requests, DateTimeOffset batchTime)
    {
        _txn = new CountingWriteTransaction(txn);
        _handler = handler;
        _context = context;
        _audit = audit;
        _requests = requests;
        _batchTime = batchTime;
    }

    public long Writes => _txn.Writes;

    /// <summary>Request outcomes recorded in this transaction.</summary>
    public int Recorded { get; private set; }

    /// <summary>The transaction the handlers write through (counted).</summary>
    public IWriteTransaction Transaction => _txn;

    public AppliedCommand Apply(IShardCommand command, Principal principal, RequestTicket? ticket)
    {
        if (ticket is not null && _requests!.Find(_txn, ticket, _batchTime) is { } prior)
        {
            // Committed before (a retry after a timeout, a node's death, a hand-off): answer with
            // the original ids and write nothing. Another request under the same id is refused
            // before anything is written, so it fails alone.
            if (!RequestLedger.SameRequest(prior, ticket))
            {
                throw new ForgeOneException(RequestLedger.Reused(ticket.Id));
            }

            return new AppliedCommand(IdempotentWrites.Replay((IIdempotentCommand)command, prior.Ids), $"replayed ids={prior.Ids.Length}");
        }

        var reply = _handler.Apply(_txn, command, principal, _context);
        if (ticket is not null && reply is IWriteOutcome written)
        {
            _requests!.Record(_txn, ticket, written.OutcomeIds, _batchTime);
            Recorded++;
        }

        return new AppliedCommand(reply);
    }

    public void Audit(string principal, string action, string resource, AuditOutcome outcome, string detail, DateTimeOffset time) =>
        _audit.Append(_txn.Inner, time, principal, action, resource, outcome, detail);

    /// <summary>Counts writes before they run: a write that throws (map full, say) has touched the transaction too.</summary>
    private sealed class CountingWriteTransaction(IWriteTransaction inner) : IWriteTransaction
    {
        public IWriteTransaction Inner { get; } = inner;

        public long Writes { get; private set; }

        public void Put(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            Writes++;
            Inner.Put(table, key, value);
        }

        public void PutWrapped(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> envelope)
        {
            Writes++;
            Inner.PutWrapped(table, key, envelope);
        }

        public bool Delete(string table, ReadOnlySpan<byte> key)
        {
            Writes++;
            return Inner.Delete(table, key);
        }

        public byte[]? Get(string table, ReadOnlySpan<byte> key) => Inner.Get(table, key);

        public bool TryGet(string table, ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value) => Inner.TryGet(table, key, out value);

        public IEnumerable<KeyValuePair<byte[], byte[]>> Scan(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive, bool reverse = false, int limit = int.MaxValue) =>
            Inner.Scan(table, fromInclusive, toExclusive, reverse, limit);

        public long CountRange(string table, ReadOnlySpan<byte> fromInclusive, ReadOnlySpan<byte> toExclusive) => Inner.CountRange(table, fromInclusive, toExclusive);

        public long Count(string table) => Inner.Count(table);

        public byte[]? Last(string table) => Inner.Last(table);
    }
}
