using ForgeOne.Common;

namespace ForgeOne.Client;

/// <summary>
/// How the actor client retries. Only requests that are safe to send twice are retried: reads,
/// and writes that carry a <see cref="Cluster.Protocol.RequestId"/> (the client gives every
/// append and publish one), whose owning shard answers a duplicate with the first outcome.
/// </summary>
/// <remarks>
/// An attempt that gets no reply within <see cref="AttemptTimeout"/> is not abandoned: a new
/// attempt is sent beside it and whichever answers first wins (a reply lost with a dead node
/// is covered, a slow but alive one still counts). A retryable failure reply
/// (<see cref="IsRetryable"/>) is retried after an exponential back-off with full jitter. The
/// last answer (or <c>cluster.timeout</c>) is returned once <see cref="Deadline"/> has passed.
/// </remarks>
public sealed record RetryPolicy
{
    /// <summary>The default: 1 s per attempt, 30 s overall, back-off from 50 ms up to 1 s.</summary>
    public static readonly RetryPolicy Default = new();

    /// <summary>One attempt, never retried (what the client did before retries existed).</summary>
    public static readonly RetryPolicy None = new() { MaxAttempts = 1 };

    /// <summary>How long an attempt may go unanswered before another is sent beside it.</summary>
    /// <remarks>
    /// Short, because a request sent to a node that just died is lost, not failed: the next
    /// attempt is what reaches the shard's new home once it has one. A slow attempt costs a
    /// duplicate that the shard answers with <c>request.in_flight</c> or a replay.
    /// </remarks>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a request may take in all, attempts and back-off included.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Back-off before the first retry after a retryable failure; doubles per retry.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest back-off.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most attempts per request (1 = no retries).</summary>
    public int MaxAttempts { get; init; } = 100;

    /// <summary>Called on each retry (for logging or metrics); runs on the thread that decided it.</summary>
    public Action<RetryEvent>? OnRetry { get; init; }

    /// <summary>
    /// True for the failures that mean "not done, try again": the cluster could not route or serve
    /// it now (<c>cluster.unavailable</c>, <c>cluster.timeout</c>), the shard has moved and the old
    /// owner is fenced (<c>storage.stale_owner</c>), or the same request is still being processed
    /// (<c>request.in_flight</c>). Everything else is an answer: validation, authorization,
    /// <c>request.key_reused</c>, <c>storage.disk_full</c>...
    /// </summary>
    public static bool IsRetryable(string code) =>
        code is ErrorCodes.Unavailable or ErrorCodes.Timeout or ErrorCodes.StorageStaleOwner or ErrorCodes.RequestInFlight;

    /// <summary>The back-off before retry number <paramref name="retry"/> (1-based): full jitter over an exponential bound.</summary>
    public TimeSpan Backoff(int retry, double random)
    {
        var bound = Math.Min(MaxBackoff.TotalMilliseconds, InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Clamp(retry - 1, 0, 30)));
        return TimeSpan.FromMilliseconds(bound * Math.Clamp(random, 0, 1));
    }

    /// <summary>Every problem with this policy, one sentence each; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add("RetryPolicy.AttemptTimeout must be positive.");
        }

        if (Deadline < AttemptTimeout)
        {
            errors.Add("RetryPolicy.Deadline must be at least AttemptTimeout.");
        }

        if (InitialBackoff < TimeSpan.Zero || MaxBackoff < InitialBackoff)
        {
            errors.Add("RetryPolicy back-off must satisfy 0 <= InitialBackoff <= MaxBackoff.");
        }

        if (MaxAttempts < 1)
        {
            errors.Add("RetryPolicy.MaxAttempts must be at least 1.");
        }

        return errors;
    }
}

/// <summary>Why a request is being sent again.</summary>
public enum RetryReason
{
    /// <summary>No reply within the attempt timeout; another attempt goes beside it.</summary>
    NoReply,

    /// <summary>A retryable failure reply (see <see cref="RetryPolicy.IsRetryable"/>).</summary>
    RetryableFailure,
}

/// <summary>One retry the client made: of what, which attempt comes next, why, and the failure code when there was one.</summary>
public sealed record RetryEvent(string Message, int NextAttempt, RetryReason Reason, string? Code);

/// <summary>
/// What the actor client did, since it connected: how many requests, attempts and retries, how
/// many writes the shards answered as replays (the write had already committed), and how many
/// single writes travelled coalesced.
/// </summary>
public sealed record ClientCounters(
    long Requests,
    long Attempts,
    long Retries,
    long NoReplyRetries,
    long DeadlinesExceeded,
    long Replayed,
    long CoalescedBatches,
    long CoalescedWrites);

/// <summary>The live counters behind <see cref="ClientCounters"/>; thread-safe.</summary>
internal sealed class ClientStats
{
    private long _requests;
    private long _attempts;
    private long _retries;
    private long _noReply;
    private long _deadlines;
    private long _replayed;
    private long _batches;
    private long _coalesced;

    public void Request() => Interlocked.Increment(ref _requests);

    public void Attempt() => Interlocked.Increment(ref _attempts);

    public void Retry(RetryReason reason)
    {
        Interlocked.Increment(ref _retries);
        if (reason == RetryReason.NoReply)
        {
            Interlocked.Increment(ref _noReply);
        }
    }

    public void DeadlineExceeded() => Interlocked.Increment(ref _deadlines);

    public void Replayed() => Interlocked.Increment(ref _replayed);

    public void Coalesced(int writes)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _coalesced, writes);
    }

    public ClientCounters Snapshot() =>
        new(Interlocked.Read(ref _requests), Interlocked.Read(ref _attempts), Interlocked.Read(ref _retries), Interlocked.Read(ref _noReply),
            Interlocked.Read(ref _deadlines), Interlocked.Read(ref _replayed), Interlocked.Read(ref _batches), Interlocked.Read(ref _coalesced));
}
