using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ForgeOne.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Client;

/// <summary>The client's coalescer against a scripted shard: batching, per-write replies and retries.</summary>
public sealed class WriteCoalescerSpec : TestKit
{
    private static readonly RetryPolicy Fast = new()
    {
        AttemptTimeout = TimeSpan.FromMilliseconds(300),
        Deadline = TimeSpan.FromSeconds(10),
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(5),
    };

    /// <summary>A shard double: answers each batch with <c>script(batch number, command)</c>, or drops it when that is null.</summary>
    private sealed class ScriptedShard : ReceiveActor
    {
        public ScriptedShard(Func<int, AppendLog, IForgeOneMessage?> script, ConcurrentQueue<int> sizes)
        {
            var batches = 0;
            Receive<ShardProtocol.CommandBatch>(batch =>
            {
                var n = ++batches;
                sizes.Enqueue(batch.Commands.Length);
                var replies = batch.Commands.Select(c => script(n, (AppendLog)c)).ToArray();
                if (replies.All(r => r is not null))
                {
                    Sender.Tell(new ShardProtocol.CommandBatchReplies(replies!));
                }
            });
        }
    }

    private static AppendLog Write(long sequence) =>
        new(Callers.Writer, "t", new LogInput(DateTimeOffset.UtcNow, Common.Model.Severity.Info, $"m{sequence}"), RequestId: new RequestId("p", sequence));

    private static LogAppended Appended(AppendLog command) => new(command.Topic, new RecordId((ulong)command.RequestId!.Sequence));

    private (WriteCoalescer Coalescer, ClientStats Stats, IActorRef Shard, ConcurrentQueue<int> Sizes) Create(Func<int, AppendLog, IForgeOneMessage?> script, CoalescingOptions? options = null, RetryPolicy? retry = null)
    {
        var sizes = new ConcurrentQueue<int>();
        var shard = Sys.ActorOf(Props.Create(() => new ScriptedShard(script, sizes)));
        var stats = new ClientStats();
        return (new WriteCoalescer(options ?? CoalescingOptions.Default, retry ?? Fast, stats), stats, shard, sizes);
    }

    private static Task<object> Send(WriteCoalescer coalescer, IActorRef shard, AppendLog command) =>
        coalescer.SendAsync(shard, 0, command, e => new LogFailed(e), CancellationToken.None);

    [Fact]
    public async Task ConcurrentSingleWrites_TravelInFewBatches_EachCallerGetsItsOwnReply()
    {
        var (coalescer, stats, shard, sizes) = Create((_, c) => Appended(c), CoalescingOptions.Default with { Linger = TimeSpan.FromMilliseconds(20), MaxInFlightPerShard = 1 });

        var writes = Enumerable.Range(1, 300).Select(i => Write(i)).ToArray();
        var replies = await Task.WhenAll(writes.Select(w => Send(coalescer, shard, w)));

        Assert.Equal(writes.Select(Appended), replies.Cast<LogAppended>());
        Assert.Equal(300, sizes.Sum());
        Assert.True(sizes.Count <= 30, $"300 concurrent writes took {sizes.Count} batches");
        Assert.Equal(300, stats.Snapshot().CoalescedWrites);
        Assert.Equal(sizes.Count, stats.Snapshot().CoalescedBatches);
    }

    [Fact]
    public async Task ABatch_IsCappedByMaxWrites()
    {
        var (coalescer, _, shard, sizes) = Create((_, c) => Appended(c), CoalescingOptions.Default with { Linger = TimeSpan.FromMilliseconds(50), MaxWrites = 10, MaxInFlightPerShard = 1 });

        await Task.WhenAll(Enumerable.Range(1, 35).Select(i => Send(coalescer, shard, Write(i))));

        Assert.All(sizes, n => Assert.True(n <= 10));
        Assert.Equal(35, sizes.Sum());
    }

    [Fact]
    public async Task ARetryableFailure_RetriesOnlyThatWrite_AFinalOneIsReturned()
    {
        // Batch 1: write 2 is still in flight elsewhere, write 3 is forbidden; write 2 succeeds in a later batch.
        var (coalescer, stats, shard, sizes) = Create(
            (n, c) => (n, c.RequestId!.Sequence) switch
            {
                (1, 2) => new LogFailed(new ForgeOneError(ErrorCodes.RequestInFlight, "busy")),
                (_, 3) => new LogFailed(new ForgeOneError(ErrorCodes.Forbidden, "no")),
                _ => Appended(c),
            },
            CoalescingOptions.Default with { Linger = TimeSpan.FromMilliseconds(20) });

        var replies = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => Send(coalescer, shard, Write(i))));

        Assert.Equal(Appended(Write(1)), replies[0]);
        Assert.Equal(Appended(Write(2)), replies[1]);
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<LogFailed>(replies[2]).Error.Code);
        Assert.Equal([3, 1], sizes);
        Assert.Equal(1, stats.Snapshot().Retries);
    }

    [Fact]
    public async Task ABatchWithoutReply_IsSentAgainAfterTheAttemptTimeout()
    {
        var (coalescer, stats, shard, sizes) = Create((n, c) => n == 1 ? null : Appended(c), CoalescingOptions.Default with { Linger = TimeSpan.FromMilliseconds(20) });

        var replies = await Task.WhenAll(Enumerable.Range(1, 4).Select(i => Send(coalescer, shard, Write(i))));

        Assert.Equal(Enumerable.Range(1, 4).Select(i => Appended(Write(i))), replies.Cast<LogAppended>());
        Assert.Equal(4, stats.Snapshot().NoReplyRetries);
        Assert.Equal(8, sizes.Sum());
    }

    [Fact]
    public async Task AShardThatNeverAnswers_FailsEachWriteWithATimeoutAtTheDeadline()
    {
        var (coalescer, stats, shard, _) = Create((_, _) => null, retry: Fast with { Deadline = TimeSpan.FromSeconds(1) });

        var replies = await Task.WhenAll(Enumerable.Range(1, 2).Select(i => Send(coalescer, shard, Write(i))));

        Assert.All(replies, r => Assert.Equal(ErrorCodes.Timeout, Assert.IsType<LogFailed>(r).Error.Code));
        Assert.Equal(2, stats.Snapshot().DeadlinesExceeded);
    }
}
