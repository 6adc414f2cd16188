using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// A shard's running RFC 6962 tree over its audit records (leaf = a record's stored bytes,
/// <see cref="AuditRecordCodec.Encode"/>), kept as a <see cref="MerkleFrontier"/> and caught up
/// from the committed <c>audit</c> table whenever the sealer asks for the head. Reading committed
/// records (not following the write path) keeps it right under aborted groups, and makes the
/// first catch-up after an open a scan of the chain (about a second per million records on one
/// core); later ones read only the records since. A rewind (restore) or a rewritten last leaf
/// starts it over. Not thread-safe: the shard actor owns one.
/// </summary>
public sealed class AuditTree
{
    private MerkleFrontier _frontier = MerkleFrontier.Empty;
    private byte[]? _lastHash;

    /// <summary>Leaves in the tree so far.</summary>
    public long Size => _frontier.Size;

    /// <summary>
    /// The root over records 1..<paramref name="headSeq"/>, or null when the stored chain does not
    /// hold exactly those records in order (a gap or unreadable record: the chain checks report it).
    /// </summary>
    public byte[]? RootAt(IReadTransaction txn, long headSeq)
    {
        ArgumentNullException.ThrowIfNull(txn);
        if (headSeq < _frontier.Size || (_lastHash is not null && !LastLeafUnchanged(txn)))
        {
            _frontier = MerkleFrontier.Empty;
            _lastHash = null;
        }

        if (_frontier.Size < headSeq)
        {
            foreach (var record in AuditChainCheck.Records(txn, _frontier.Size + 1))
            {
                if (record.Seq > headSeq)
                {
                    break;
                }

                if (record.Seq != _frontier.Size + 1)
                {
                    return null;
                }

                _frontier = _frontier.Append(Rfc6962.LeafHash(AuditRecordCodec.Encode(record)));
                _lastHash = record.Hash;
            }
        }

        return _frontier.Size == headSeq ? _frontier.Root() : null;
    }

    private bool LastLeafUnchanged(IReadTransaction txn) =>
        AuditChainCheck.Records(txn, _frontier.Size).FirstOrDefault() is { } r && r.Seq == _frontier.Size && r.Hash.AsSpan().SequenceEqual(_lastHash);
}
