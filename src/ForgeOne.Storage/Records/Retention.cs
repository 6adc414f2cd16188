using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// A topic's retention rule: entries older than <see cref="Period"/> expire; while
/// <see cref="LegalHold"/> is set nothing may be deleted. Null <see cref="Period"/> keeps
/// entries forever.
/// </summary>
public sealed record RetentionPolicy(TimeSpan? Period, bool LegalHold)
{
    /// <summary>No retention period, no hold.</summary>
    public static readonly RetentionPolicy KeepForever = new(null, false);

    /// <summary>The policy a topic's settings describe.</summary>
    public static RetentionPolicy For(TopicInfo topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return new RetentionPolicy(topic.Retention, topic.LegalHold);
    }

    /// <summary>True when a sweep may delete anything at all (a period and no legal hold).</summary>
    public bool MayDelete => Period is not null && !LegalHold;

    /// <summary>Entries strictly before this instant have expired; null when nothing ever expires.</summary>
    public DateTimeOffset? Cutoff(DateTimeOffset now)
    {
        if (Period is not { } period)
        {
            return null;
        }

        if (period < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"A retention period cannot be negative ({period}).");
        }

        // A period longer than all of time (TimeSpan.MaxValue, say) means nothing has expired yet.
        return now - DateTimeOffset.MinValue <= period ? null : now - period;
    }

    /// <summary>
    /// True when an entry stamped <paramref name="timestamp"/> is already past retention at
    /// <paramref name="now"/>. A legal hold does not change this: the hold stops deletion, it
    /// does not extend what the topic accepts.
    /// </summary>
    public bool IsExpired(DateTimeOffset timestamp, DateTimeOffset now) => Cutoff(now) is { } cutoff && timestamp < cutoff;

    /// <summary>
    /// The ingestion check: a <see cref="ErrorCodes.RetentionExpired"/> error for a write whose
    /// timestamp is already past retention (it would be swept at once), else null.
    /// </summary>
    public ForgeOneError? CheckWrite(DateTimeOffset timestamp, DateTimeOffset now) =>
        IsExpired(timestamp, now)
            ? new ForgeOneError(ErrorCodes.RetentionExpired,
                $"The entry's timestamp is older than the topic's retention period ({Period}); it would be deleted immediately.")
            : null;
}

/// <summary>An index entry a retention sweep deletes, with the primary record it points to.</summary>
public sealed record ExpiredEntry(byte[] IndexKey, RecordId Id, DateTimeOffset Timestamp);

/// <summary>
/// Plans a retention sweep over one topic's index (<see cref="RecordKeys.TopicIndex"/> keys,
/// which are time ordered): the scan range, then bounded batches of expired entries, so the
/// sweeper deletes (and audits) one batch per write transaction and never holds the write lock
/// for long. Under a legal hold, or without a period, it plans nothing at all.
/// </summary>
public sealed class RetentionPlanner
{
    /// <summary>Creates a planner yielding batches of at most <paramref name="maxBatchSize"/> entries.</summary>
    public RetentionPlanner(int maxBatchSize = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        MaxBatchSize = maxBatchSize;
    }

    /// <summary>The most entries in one batch.</summary>
    public int MaxBatchSize { get; }

    /// <summary>
    /// The index range holding the topic's expired entries, <c>[From, Until)</c>; null when
    /// nothing may be deleted (no period, legal hold, or nothing old enough).
    /// </summary>
    public (byte[] From, byte[] Until)? ScanRange(ReadOnlySpan<byte> topicToken, RetentionPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!policy.MayDelete || CutoffMs(policy, now) is not { } cutoffMs)
        {
            return null;
        }

        var from = new byte[RecordKeys.TopicIndexLength];
        topicToken.CopyTo(from); // token followed by zeros: below every entry of the topic
        return (from, RecordKeys.TopicIndexUntil(topicToken, DateTimeOffset.FromUnixTimeMilliseconds(cutoffMs)));
    }

    /// <summary>
    /// Expired entries among <paramref name="indexKeys"/> (a forward scan of the topic's index,
    /// e.g. over <see cref="ScanRange"/>), in batches. Lazy and bounded: it stops at the first
    /// entry that has not expired or that belongs to another topic, and under a legal hold it
    /// does not read the scan at all. Re-check the policy between batches: a hold placed
    /// mid-sweep must stop the sweep.
    /// </summary>
    public IEnumerable<IReadOnlyList<ExpiredEntry>> Batches(byte[] topicToken, IEnumerable<byte[]> indexKeys, RetentionPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(topicToken);
        ArgumentNullException.ThrowIfNull(indexKeys);
        ArgumentNullException.ThrowIfNull(policy);
        if (topicToken.Length != RecordKeys.TokenLength)
        {
            throw new ArgumentException($"a blind-index token is exactly {RecordKeys.TokenLength} bytes", nameof(topicToken));
        }

        return policy.MayDelete && CutoffMs(policy, now) is { } cutoffMs
            ? Scan(topicToken, indexKeys, cutoffMs)
            : [];
    }

    private IEnumerable<IReadOnlyList<ExpiredEntry>> Scan(byte[] topicToken, IEnumerable<byte[]> indexKeys, long cutoffMs)
    {
        var batch = new List<ExpiredEntry>(Math.Min(MaxBatchSize, 1024));
        foreach (var key in indexKeys)
        {
            if (!key.AsSpan().StartsWith(topicToken))
            {
                break;
            }

            var (timestamp, id) = RecordKeys.ParseTopicIndex(key);
            if (timestamp.ToUnixTimeMilliseconds() >= cutoffMs)
            {
                break; // time ordered: everything after this is newer
            }

            batch.Add(new ExpiredEntry(key, id, timestamp));
            if (batch.Count == MaxBatchSize)
            {
                yield return batch;
                batch = new List<ExpiredEntry>(Math.Min(MaxBatchSize, 1024));
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    // Index keys hold whole milliseconds (the true timestamp may be up to 1 ms later), so an
    // entry is deleted only when its key's millisecond is before the cutoff's whole millisecond:
    // nothing is ever deleted early; an entry may outlive its period by under 1 ms.
    private static long? CutoffMs(RetentionPolicy policy, DateTimeOffset now) =>
        policy.Cutoff(now) is { } cutoff ? cutoff.ToUnixTimeMilliseconds() : null;
}
