using System.Collections.Concurrent;
using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;

namespace ForgeOne.Client;

/// <summary>
/// Coalesces single idempotent writes bound for the same shard into
/// <see cref="ShardProtocol.CommandBatch"/>es (see <see cref="CoalescingOptions"/>), and retries
/// each write on its own under the <see cref="RetryPolicy"/>: a write answered with a
/// retryable failure goes into a later batch after its back-off; the writes of a batch that
/// got no reply within the attempt timeout go into a new batch beside it (whichever reply
/// comes first settles each write; request ids make the other one a harmless replay).
/// </summary>
internal sealed class WriteCoalescer
{
    private readonly ConcurrentDictionary<(IActorRef Region, ShardKind Kind, int Shard), Lane> _lanes = new();
    private readonly CoalescingOptions _options;
    private readonly RetryPolicy _retry;
    private readonly ClientStats _stats;

    public WriteCoalescer(CoalescingOptions options, RetryPolicy retry, ClientStats stats)
    {
        _options = options;
        _retry = retry;
        _stats = stats;
    }

    /// <summary>Sends <paramref name="command"/> to shard <paramref name="shard"/> through <paramref name="region"/>; completes with its own reply.</summary>
    public Task<object> SendAsync(IActorRef region, int shard, IIdempotentCommand command, Func<ForgeOneError, object> fail, CancellationToken cancellationToken)
    {
        _stats.Request();
        var item = new Item(command, fail, Environment.TickCount64 + (long)_retry.Deadline.TotalMilliseconds, EstimateBytes(command));
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(static s => ((Item)s!).Reply.TrySetCanceled(), item);
        }

        _lanes.GetOrAdd((region, command.Kind, shard), key => new Lane(this, key.Region, key.Kind, key.Shard)).Enqueue(item);
        return item.Reply.Task;
    }

    // The remoting frame bounds a batch: a rough size of what the command carries is enough.
    private static int EstimateBytes(IIdempotentCommand command) =>
        256 + command switch
        {
            LogProtocol.AppendLog a => (3 * (a.Topic.Length + (a.Entry?.Message?.Length ?? 0))) + MetadataBytes(a.Entry?.Metadata),
            EventProtocol.PublishEvent p => (3 * p.Topic.Length) + (p.Event?.Payload?.Length ?? 0) + MetadataBytes(p.Event?.Metadata),
            _ => 4096,
        };

    private static int MetadataBytes(Dictionary<string, string>? metadata) =>
        metadata?.Sum(kv => 3 * (kv.Key.Length + kv.Value.Length)) ?? 0;

    private sealed class Item(IIdempotentCommand command, Func<ForgeOneError, object> fail, long deadline, int bytes)
    {
        public IIdempotentCommand Command { get; } = command;

        public Func<ForgeOneError, object> Fail { get; } = fail;

        public long Deadline { get; } = deadline;

        public int Bytes { get; } = bytes;

        public TaskCompletionSource<object> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Attempts { get; set; }

        public int Retries { get; set; }

        public object? LastFailure { get; set; }

        public bool Settled => Reply.Task.IsCompleted;
    }

    /// <summary>The writes waiting for one shard, and its batches in flight.</summary>
    private sealed class Lane(WriteCoalescer owner, IActorRef region, ShardKind kind, int shard)
    {
        private readonly object _gate = new();
        private readonly Queue<Item> _waiting = new();
        private int _inFlight;
        private bool _flushScheduled;

        public void Enqueue(Item item)
        {
            lock (_gate)
            {
                _waiting.Enqueue(item);
                ScheduleLocked(linger: true);
            }
        }

        private void ScheduleLocked(bool linger)
        {
            if (_flushScheduled || _waiting.Count == 0 || _inFlight >= owner._options.MaxInFlightPerShard)
            {
                return;
            }

            _flushScheduled = true;
            var delay = linger ? owner._options.Linger : TimeSpan.Zero;
            if (delay > TimeSpan.Zero)
            {
                _ = Task.Delay(delay).ContinueWith(static (_, s) => ((Lane)s!).Flush(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Flush(), this, preferLocal: false);
            }
        }

        private void Flush()
        {
            var batch = new List<Item>();
            var expired = new List<Item>();
            lock (_gate)
            {
                _flushScheduled = false;
                var bytes = 0;
                var now = Environment.TickCount64;
                while (_waiting.Count > 0 && batch.Count < owner._options.MaxWrites)
                {
                    var next = _waiting.Peek();
                    if (next.Settled)
                    {
                        _waiting.Dequeue();
                        continue;
                    }

                    if (next.Deadline <= now)
                    {
                        expired.Add(_waiting.Dequeue());
                        continue;
                    }

                    if (batch.Count > 0 && bytes + next.Bytes > owner._options.MaxBytes)
                    {
                        break;
                    }

                    bytes += next.Bytes;
                    batch.Add(_waiting.Dequeue());
                }

                if (batch.Count > 0)
                {
                    _inFlight++;
                }

                ScheduleLocked(linger: false);
            }

            foreach (var item in expired)
            {
                Expire(item);
            }

            if (batch.Count > 0)
            {
                Send(batch);
            }
        }

        private void Send(List<Item> batch)
        {
            owner._stats.Coalesced(batch.Count);
            long latest = 0;
            foreach (var item in batch)
            {
                item.Attempts++;
                owner._stats.Attempt();
                latest = Math.Max(latest, item.Deadline);
            }

            var envelope = new ShardProtocol.CommandBatch(kind, shard, [.. batch.Select(i => (IShardCommand)i.Command)]);
            var timeout = TimeSpan.FromMilliseconds(Math.Max(1, latest - Environment.TickCount64));
            var reply = region.Ask<object>(envelope, timeout);
            var released = 0;
            void Release()
            {
                if (Interlocked.Exchange(ref released, 1) == 0)
                {
                    lock (_gate)
                    {
                        _inFlight--;
                        ScheduleLocked(linger: false);
                    }
                }
            }

            // No reply within the attempt timeout: the batch may be lost with a node. Its writes
            // go again in a new batch (the old one may still answer first), and the lane is free.
            _ = Task.WhenAny(reply, Task.Delay(owner._retry.AttemptTimeout)).ContinueWith(
                first =>
                {
                    if (first.Result == reply)
                    {
                        return;
                    }

                    Release();
                    foreach (var item in batch.Where(i => !i.Settled && i.Attempts < owner._retry.MaxAttempts))
                    {
                        Retry(item, RetryReason.NoReply, TimeSpan.Zero);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);

            _ = reply.ContinueWith(
                done =>
                {
                    Release();
                    if (done.IsCompletedSuccessfully && done.Result is ShardProtocol.CommandBatchReplies replies && replies.Replies.Length == batch.Count)
                    {
                        for (var i = 0; i < batch.Count; i++)
                        {
                            Settle(batch[i], replies.Replies[i]);
                        }
                    }
                    else if (done.IsCompletedSuccessfully && done.Result is IFailureReply failure)
                    {
                        foreach (var item in batch)
                        {
                            Settle(item, failure);
                        }
                    }
                    else
                    {
                        // The ask ran out with the last deadline of the batch.
                        foreach (var item in batch.Where(i => !i.Settled && i.Deadline <= Environment.TickCount64))
                        {
                            Expire(item);
                        }
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        private void Settle(Item item, object reply)
        {
            if (item.Settled)
            {
                return;
            }

            if (reply is IFailureReply failure && RetryPolicy.IsRetryable(failure.Error.Code) && item.Attempts < owner._retry.MaxAttempts)
            {
                item.LastFailure = reply;
                Retry(item, RetryReason.RetryableFailure, owner._retry.Backoff(++item.Retries, Random.Shared.NextDouble()));
                return;
            }

            if (reply is IWriteOutcome { Replayed: true })
            {
                owner._stats.Replayed();
            }

            item.Reply.TrySetResult(reply);
        }

        private void Retry(Item item, RetryReason reason, TimeSpan backoff)
        {
            if (item.Deadline <= Environment.TickCount64 + (long)backoff.TotalMilliseconds)
            {
                Expire(item);
                return;
            }

            owner._stats.Retry(reason);
            owner._retry.OnRetry?.Invoke(new RetryEvent(item.Command.GetType().Name, item.Attempts + 1, reason, (item.LastFailure as IFailureReply)?.Error.Code));
            if (backoff <= TimeSpan.Zero)
            {
                Enqueue(item);
            }
            else
            {
                _ = Task.Delay(backoff).ContinueWith(static (_, s) => { var (lane, it) = ((Lane, Item))s!; lane.Enqueue(it); }, (this, item), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        private void Expire(Item item)
        {
            if (item.Reply.TrySetResult(item.LastFailure ?? item.Fail(new ForgeOneError(ErrorCodes.Timeout, $"{item.Command.GetType().Name} got no answer within {owner._retry.Deadline.TotalSeconds:0.#} s ({item.Attempts} attempts)."))))
            {
                owner._stats.DeadlineExceeded();
            }
        }
    }
}
