namespace ForgeOne.Security;

/// <summary>Why a chain failed verification.</summary>
public enum AuditFailure
{
    /// <summary>The chain verified.</summary>
    None = 0,

    /// <summary>A record's content no longer matches its hash, or a record was rewritten and re-hashed (its successor or a seal links elsewhere).</summary>
    Modified = 1,

    /// <summary>A seq is missing: a record was deleted.</summary>
    Deleted = 2,

    /// <summary>Records are out of order (or a seq repeats).</summary>
    Reordered = 3,

    /// <summary>The chain ends before a sealed head: records were cut off the end.</summary>
    Truncated = 4,
}

/// <summary>Outcome of <c>AuditVerifier.Verify</c>.</summary>
/// <param name="Failure">What is wrong (None when valid).</param>
/// <param name="FirstBadSeq">The first position that is wrong, or null when valid.</param>
/// <param name="Message">A sentence for the operator.</param>
/// <param name="Head">The last verified head (up to the failure).</param>
/// <param name="Records">How many records verified.</param>
public sealed record AuditVerification(AuditFailure Failure, long? FirstBadSeq, string Message, ChainHead Head, long Records)
{
    /// <summary>True when the chain verified.</summary>
    public bool IsValid => Failure == AuditFailure.None;
}

/// <summary>
/// Walks a chain in the order given and reports the first bad position. Streams: only a small
/// look-ahead window is buffered (to tell a reordering from a deletion), so a shard's whole
/// chain can be verified from a cursor.
/// <para>
/// Without a sealed head, deleting or rewriting the newest records cannot be detected (nothing
/// refers to them yet); pass the heads of the seals that cover this chain to catch that.
/// </para>
/// </summary>
public static class AuditVerifier
{
    /// <summary>How far ahead to look for a missing seq before calling it deleted.</summary>
    public const int LookAhead = 4096;

    /// <summary>Verifies a whole chain from its genesis.</summary>
    public static AuditVerification Verify(IEnumerable<AuditRecord> records, string chainId, IEnumerable<ChainHead>? sealedHeads = null) =>
        Verify(records, AuditChain.Genesis(chainId), sealedHeads);

    /// <summary>
    /// Verifies records that follow <paramref name="start"/> (the genesis head, or a head verified
    /// earlier). <paramref name="sealedHeads"/>: heads of this chain taken from verified seals.
    /// </summary>
    public static AuditVerification Verify(IEnumerable<AuditRecord> records, ChainHead start, IEnumerable<ChainHead>? sealedHeads = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(start);
        var sealedBySeq = new Dictionary<long, byte[]>();
        foreach (var h in sealedHeads ?? [])
        {
            if (h.ShardId == start.ShardId && h.Seq > start.Seq)
            {
                sealedBySeq[h.Seq] = h.Hash;
            }
        }

        var head = start;
        long count = 0;
        var window = new LinkedList<AuditRecord>();
        using var source = records.GetEnumerator();

        AuditVerification Fail(AuditFailure failure, long seq, string message) => new(failure, seq, message, head, count);

        while (TryNext(source, window, out var record))
        {
            var expected = head.Seq + 1;
            if (record.Seq < expected)
            {
                return Fail(AuditFailure.Reordered, record.Seq, $"record {record.Seq} appears after record {head.Seq}: records are out of order or repeated");
            }

            if (record.Seq > expected)
            {
                return Found(source, window, expected)
                    ? Fail(AuditFailure.Reordered, expected, $"record {expected} appears after record {record.Seq}: records are out of order")
                    : Fail(AuditFailure.Deleted, expected, $"record {expected} is missing (the next record is {record.Seq}): records were deleted");
            }

            if (!record.Hash.AsSpan().SequenceEqual(AuditRecordCodec.ComputeHash(record)))
            {
                return Fail(AuditFailure.Modified, record.Seq, $"record {record.Seq} does not match its hash: it was modified");
            }

            if (!record.PrevHash.AsSpan().SequenceEqual(head.Hash))
            {
                return record.Seq == start.Seq + 1
                    ? Fail(AuditFailure.Modified, record.Seq, $"record {record.Seq} does not link to the chain start {start.ShardId}@{start.Seq}: wrong chain or modified")
                    : Fail(AuditFailure.Modified, record.Seq - 1, $"record {record.Seq - 1} was modified and re-hashed: record {record.Seq} links to a different hash");
            }

            if (sealedBySeq.TryGetValue(record.Seq, out var sealedHash) && !sealedHash.AsSpan().SequenceEqual(record.Hash))
            {
                return Fail(AuditFailure.Modified, record.Seq, $"record {record.Seq} differs from the sealed head at that seq: the chain was rewritten at or before {record.Seq}");
            }

            head = record.HeadFor(start.ShardId);
            count++;
        }

        var sealedMax = sealedBySeq.Count == 0 ? 0 : sealedBySeq.Keys.Max();
        if (sealedMax > head.Seq)
        {
            return Fail(AuditFailure.Truncated, head.Seq + 1, $"chain ends at {head.Seq} but a seal covers it up to {sealedMax}: records {head.Seq + 1}..{sealedMax} were removed");
        }

        return new AuditVerification(AuditFailure.None, null, $"{count} records verified; head {head}", head, count);
    }

    private static bool TryNext(IEnumerator<AuditRecord> source, LinkedList<AuditRecord> window, out AuditRecord record)
    {
        if (window.First is { } first)
        {
            window.RemoveFirst();
            record = first.Value;
            return true;
        }

        if (source.MoveNext())
        {
            record = source.Current;
            return true;
        }

        record = null!;
        return false;
    }

    // Reads up to LookAhead records into the window looking for `seq`; they stay buffered.
    private static bool Found(IEnumerator<AuditRecord> source, LinkedList<AuditRecord> window, long seq)
    {
        if (window.Any(r => r.Seq == seq))
        {
            return true;
        }

        while (window.Count < LookAhead && source.MoveNext())
        {
            window.AddLast(source.Current);
            if (source.Current.Seq == seq)
            {
                return true;
            }
        }

        return false;
    }
}
