using ForgeOne.Common;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// Where every shard of a node runs its reads off the actor thread: at most
/// <see cref="Workers"/> at once, at most <see cref="MaxQueued"/> more waiting. A query beyond
/// that is refused at once (<see cref="ErrorCodes.Overloaded"/>) instead of piling up tasks and
/// LMDB read transactions (each pins a snapshot, so a flood of slow readers also holds back page
/// reuse for every writer). Stream reads (<see cref="Run{T}"/>) are paced by their stream and
/// never refused; they share the workers.
/// </summary>
public sealed class QueryPool
{
    private readonly TaskScheduler _scheduler;
    private int _admitted;

    /// <summary>A pool of <paramref name="workers"/> concurrent reads and <paramref name="maxQueued"/> waiting ones.</summary>
    public QueryPool(int workers, int maxQueued)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxQueued);
        Workers = workers;
        MaxQueued = maxQueued;
        _scheduler = new ConcurrentExclusiveSchedulerPair(TaskScheduler.Default, workers).ConcurrentScheduler;
    }

    /// <summary>Reads running at once, at most.</summary>
    public int Workers { get; }

    /// <summary>Reads waiting for a worker, at most.</summary>
    public int MaxQueued { get; }

    /// <summary>Queries admitted and not yet finished (running or waiting).</summary>
    public int InFlight => Volatile.Read(ref _admitted);

    /// <summary>
    /// Runs <paramref name="read"/> on the pool (it handles its own failures and replies) and
    /// returns its task, or returns null, having run nothing, when <see cref="Workers"/> +
    /// <see cref="MaxQueued"/> queries are already in flight.
    /// </summary>
    public Task? TryRun(Action read)
    {
        if (Interlocked.Increment(ref _admitted) > Workers + MaxQueued)
        {
            Interlocked.Decrement(ref _admitted);
            return null;
        }

        return Task.Factory.StartNew(() =>
        {
            try
            {
                read();
            }
            finally
            {
                Interlocked.Decrement(ref _admitted);
            }
        }, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler);
    }

    /// <summary>Runs <paramref name="read"/> on the pool's workers, never refused (callers bound themselves).</summary>
    public Task<T> Run<T>(Func<T> read) =>
        Task.Factory.StartNew(read, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler);

    /// <summary>The refusal of a query the pool has no room for.</summary>
    public ForgeOneError Refusal() =>
        new(ErrorCodes.Overloaded, $"This node is running {Workers} reads with {MaxQueued} more waiting (ForgeOne:Shards:QueryWorkers, MaxQueuedQueries); retry later.");
}
