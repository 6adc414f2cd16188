using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Integrity;

/// <summary>
/// Verifies a shard's stored audit chain (the <c>audit</c> table: key = seq as u64 big-endian)
/// against its last sealed head, with only public information: the chain hashes stored bytes.
/// Pure; every method runs inside the caller's read transaction.
/// </summary>
public static class AuditChainCheck
{
    /// <summary>
    /// How many records before the sealed head the open check re-verifies besides everything after
    /// it: enough to catch recent deletions and reorderings at every restart while keeping an open
    /// bounded. The scrubber walks the whole chain.
    /// </summary>
    public const int OpenWindow = 10_000;

    private const int Page = 1024;

    /// <summary>
    /// The check a shard runs when it opens: from the sealed head (<paramref name="anchor"/>, or
    /// the head when there is none) back <paramref name="window"/> records, up to the current head;
    /// never before <paramref name="incarnation"/>, the start of the shard's current incarnation
    /// (records before it were accepted by an authorized rewind). A head behind the sealed head is
    /// <see cref="AuditFailure.Truncated"/>; a sealed record that changed is <see cref="AuditFailure.Modified"/>.
    /// </summary>
    public static AuditVerification AtOpen(IReadTransaction txn, ChainHead genesis, ChainAnchor? anchor, ChainHead? incarnation = null, int window = OpenWindow)
    {
        ArgumentNullException.ThrowIfNull(txn);
        ArgumentNullException.ThrowIfNull(genesis);
        var last = txn.Last(Tables.Audit) is { } k ? (long)KeyCodec.ReadUInt64(k) : 0;
        var floor = incarnation?.Seq ?? 0;
        if (anchor is { NewIncarnation: true })
        {
            floor = Math.Max(floor, anchor.Head.Seq);
        }

        var reference = Math.Min(anchor?.Head.Seq ?? last, last);
        var from = Math.Max(floor, Math.Max(0, reference - window));
        IEnumerable<ChainHead> sealedHeads = anchor is null ? [] : [anchor.Head];
        if (incarnation is not null && incarnation.Seq > 0)
        {
            sealedHeads = [.. sealedHeads, incarnation];
        }

        return Verify(txn, genesis, from, sealedHeads, int.MaxValue, out _);
    }

    /// <summary>
    /// Verifies up to <paramref name="maxRecords"/> records after seq <paramref name="from"/> (0:
    /// from the genesis), checking the record at <paramref name="from"/> first and every sealed head
    /// in range; <paramref name="reachedEnd"/> says whether the walk reached the current head (then a
    /// sealed head beyond it is a truncation). The scrubber walks a chain in such slices.
    /// </summary>
    public static AuditVerification Verify(IReadTransaction txn, ChainHead genesis, long from, IEnumerable<ChainHead> sealedHeads, int maxRecords, out bool reachedEnd)
    {
        ArgumentNullException.ThrowIfNull(txn);
        ArgumentNullException.ThrowIfNull(genesis);
        var heads = sealedHeads.Where(h => h.ShardId == genesis.ShardId).ToList();
        ChainHead start;
        if (from <= 0)
        {
            start = genesis;
        }
        else
        {
            var record = RecordAt(txn, from);
            if (record is null)
            {
                reachedEnd = true;
                var missing = new AuditVerification(AuditFailure.Deleted, from, $"record {from}, where the check starts, is missing", genesis with { Seq = from - 1 }, 0);
                return txn.Last(Tables.Audit) is { } lastKey && (long)KeyCodec.ReadUInt64(lastKey) < from
                    ? new AuditVerification(AuditFailure.Truncated, (long)KeyCodec.ReadUInt64(lastKey) + 1, $"chain ends at {KeyCodec.ReadUInt64(lastKey)} but a seal covers it up to {from}: records were removed", genesis, 0)
                    : missing;
            }

            if (record.Seq != from || !record.Hash.AsSpan().SequenceEqual(AuditRecordCodec.ComputeHash(record)))
            {
                reachedEnd = true;
                return new AuditVerification(AuditFailure.Modified, from, $"record {from} does not match its hash (or holds another seq): it was modified", genesis, 0);
            }

            start = record.HeadFor(genesis.ShardId);
            foreach (var h in heads.Where(h => h.Seq == from))
            {
                if (!h.Hash.AsSpan().SequenceEqual(start.Hash))
                {
                    reachedEnd = true;
                    return new AuditVerification(AuditFailure.Modified, from, $"record {from} differs from the sealed head at that seq: the chain was rewritten at or before {from}", start, 0);
                }
            }
        }

        if (maxRecords == int.MaxValue)
        {
            // Streamed: the verifier buffers only its look-ahead window.
            reachedEnd = true;
            return AuditVerifier.Verify(Records(txn, start.Seq + 1), start, heads);
        }

        var records = Records(txn, start.Seq + 1).Take(maxRecords + 1).ToList();
        reachedEnd = records.Count <= maxRecords;
        if (!reachedEnd)
        {
            // A slice, not the chain's end: sealed heads past it are checked by a later slice.
            records.RemoveAt(records.Count - 1);
            var end = records[^1].Seq;
            return AuditVerifier.Verify(records, start, heads.Where(h => h.Seq <= end));
        }

        return AuditVerifier.Verify(records, start, heads);
    }

    /// <summary>
    /// Audit records from key <paramref name="fromSeq"/> on, in key order, paged. A record that
    /// fails its envelope checksum or does not decode comes out as a placeholder whose hash cannot
    /// match, so the verifier names its seq as modified instead of the walk stopping.
    /// </summary>
    public static IEnumerable<AuditRecord> Records(IReadTransaction txn, long fromSeq)
    {
        var from = KeyCodec.UInt64((ulong)Math.Max(1, fromSeq));
        while (true)
        {
            List<KeyValuePair<byte[], byte[]>> page;
            long? damaged = null;
            try
            {
                page = [.. txn.Scan(Tables.Audit, from, [], limit: Page)];
            }
            catch (ForgeOneException e) when (e.Error.Details?.GetValueOrDefault(ForgeOneError.KeyDetail) is { Length: 16 } hex)
            {
                // The page up to the damaged record, then the record itself as a placeholder.
                var bad = Convert.FromHexString(hex);
                page = [.. txn.Scan(Tables.Audit, from, bad)];
                damaged = (long)KeyCodec.ReadUInt64(bad);
            }

            foreach (var (key, value) in page)
            {
                yield return Decode((long)KeyCodec.ReadUInt64(key), value);
            }

            if (damaged is { } seq)
            {
                yield return Placeholder(seq);
                from = KeyCodec.UInt64((ulong)seq + 1);
                continue;
            }

            if (page.Count < Page)
            {
                yield break;
            }

            from = KeyCodec.UInt64(KeyCodec.ReadUInt64(page[^1].Key) + 1);
        }
    }

    private static AuditRecord? RecordAt(IReadTransaction txn, long seq)
    {
        try
        {
            return txn.Get(Tables.Audit, KeyCodec.UInt64((ulong)seq)) is { } value ? Decode(seq, value) : null;
        }
        catch (ForgeOneException)
        {
            return Placeholder(seq);
        }
    }

    private static AuditRecord Decode(long seq, byte[] value)
    {
        try
        {
            return AuditRecordCodec.Decode(value);
        }
        catch (ForgeOneException)
        {
            return Placeholder(seq);
        }
    }

    private static AuditRecord Placeholder(long seq) =>
        new(seq, DateTimeOffset.UnixEpoch, "", "", "", AuditOutcome.Failed, new byte[32], new byte[32], new byte[32]);
}
