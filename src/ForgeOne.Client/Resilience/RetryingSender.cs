using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;

namespace ForgeOne.Client;

/// <summary>
/// Runs one request under a <see cref="RetryPolicy"/>: attempts, hedging after the attempt
/// timeout, back-off after retryable failures, the overall deadline. Knows nothing of what the
/// request is; the caller decides whether it is safe to send twice.
/// </summary>
/// <remarks>
/// <code>
///   send attempt 1 ──► wait for: a reply │ the attempt timeout │ the deadline
///     reply: success or a final failure ──► return it
///     reply: retryable failure ──► back off (jittered, doubling) ──► send next attempt
///     attempt timeout, no reply ──► send next attempt beside the first (both may still answer)
///     deadline ──► return the last retryable failure, else cluster.timeout
/// </code>
/// </remarks>
internal sealed class RetryingSender
{
    private readonly RetryPolicy _policy;
    private readonly ClientStats _stats;

    public RetryingSender(RetryPolicy policy, ClientStats stats)
    {
        _policy = policy;
        _stats = stats;
    }

    public RetryPolicy Policy => _policy;

    /// <summary>
    /// Sends with <paramref name="attempt"/> (given the time left before the deadline) until an
    /// answer, a final failure or the deadline; <paramref name="fail"/> makes the kind's failure
    /// reply for a deadline that passed without any answer.
    /// </summary>
    public async Task<object> SendAsync(string what, Func<TimeSpan, Task<object>> attempt, Func<ForgeOneError, object> fail, CancellationToken cancellationToken)
    {
        _stats.Request();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_policy.Deadline);
        var started = Environment.TickCount64;
        var outstanding = new List<Task<object>>();
        var attempts = 0;
        var retries = 0;
        object? lastFailure = null;
        var reason = RetryReason.NoReply;

        void Send()
        {
            attempts++;
            _stats.Attempt();
            var left = _policy.Deadline - TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
            outstanding.Add(Guard(attempt(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1))));
        }

        Send();
        var wake = Wake(_policy.AttemptTimeout, deadline.Token);
        while (true)
        {
            var done = await Task.WhenAny([.. outstanding.Cast<Task>(), wake]).ConfigureAwait(false);
            if (done == wake)
            {
                if (deadline.IsCancellationRequested)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    _stats.DeadlineExceeded();
                    return lastFailure ?? fail(new ForgeOneError(ErrorCodes.Timeout, $"{what} got no answer within {_policy.Deadline.TotalSeconds:0.#} s ({attempts} attempts)."));
                }

                if (attempts < _policy.MaxAttempts)
                {
                    _stats.Retry(reason);
                    _policy.OnRetry?.Invoke(new RetryEvent(what, attempts + 1, reason, (lastFailure as IFailureReply)?.Error.Code));
                    Send();
                }

                reason = RetryReason.NoReply;
                wake = Wake(attempts < _policy.MaxAttempts ? _policy.AttemptTimeout : Timeout.InfiniteTimeSpan, deadline.Token);
                continue;
            }

            var answered = (Task<object>)done;
            outstanding.Remove(answered);
            var reply = await answered.ConfigureAwait(false);
            if (reply is Lost)
            {
                // That attempt's ask ran out with the deadline; the wake task reports it.
                continue;
            }

            if (reply is IFailureReply failure && RetryPolicy.IsRetryable(failure.Error.Code) && attempts < _policy.MaxAttempts)
            {
                lastFailure = reply;
                reason = RetryReason.RetryableFailure;
                wake = Wake(_policy.Backoff(++retries, Random.Shared.NextDouble()), deadline.Token);
                continue;
            }

            if (reply is IWriteOutcome { Replayed: true })
            {
                _stats.Replayed();
            }

            return reply;
        }
    }

    // Completes after the delay or when the deadline (or the caller) cancels; never throws.
    private static Task Wake(TimeSpan delay, CancellationToken deadline) =>
        Task.Delay(delay, deadline).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static async Task<object> Guard(Task<object> attempt)
    {
        try
        {
            return await attempt.ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return Lost.Instance;
        }
        catch (TaskCanceledException)
        {
            return Lost.Instance;
        }
    }

    /// <summary>An attempt that ended without a reply.</summary>
    private sealed class Lost
    {
        public static readonly Lost Instance = new();
    }
}
