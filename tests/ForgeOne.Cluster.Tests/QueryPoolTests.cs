using ForgeOne.Cluster.Shards;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Tests;

/// <summary>The node's read pool: bounded concurrency, bounded waiting, refusal beyond both.</summary>
public sealed class QueryPoolTests
{
    [Fact]
    public async Task TryRun_BeyondWorkersPlusQueue_IsRefusedWithoutRunning_AndAdmitsAgainOnceReadsFinish()
    {
        var pool = new QueryPool(workers: 2, maxQueued: 3);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var maxRunning = 0;
        var twoRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        void Read()
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            if (now == 2)
            {
                twoRunning.TrySetResult();
            }

            gate.Task.Wait();
            Interlocked.Decrement(ref running);
        }

        var admitted = Enumerable.Range(0, 5).Select(_ => pool.TryRun(Read)).ToList();
        Assert.All(admitted, Assert.NotNull);

        var ranRefused = false;
        Assert.Null(pool.TryRun(() => ranRefused = true));
        Assert.Equal(5, pool.InFlight);
        await twoRunning.Task.WaitAsync(TimeSpan.FromSeconds(30));

        gate.SetResult();
        await Task.WhenAll(admitted.Select(t => t!)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(ranRefused);
        Assert.Equal(2, maxRunning);
        Assert.Equal(0, pool.InFlight);

        // Every admitted read has finished: room again.
        var again = pool.TryRun(() => { });
        Assert.NotNull(again);
        await again.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Refusal_IsOverloaded_NamingTheSettings()
    {
        var error = new QueryPool(4, 16).Refusal();
        Assert.Equal(ErrorCodes.Overloaded, error.Code);
        Assert.Contains("ForgeOne:Shards:QueryWorkers", error.Message, StringComparison.Ordinal);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
