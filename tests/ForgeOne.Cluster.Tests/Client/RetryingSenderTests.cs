using ForgeOne.Client;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Client;

/// <summary>The retry engine alone, with scripted attempts.</summary>
public sealed class RetryingSenderTests
{
    private static readonly RetryPolicy Fast = new()
    {
        AttemptTimeout = TimeSpan.FromMilliseconds(100),
        Deadline = TimeSpan.FromSeconds(5),
        InitialBackoff = TimeSpan.FromMilliseconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(5),
    };

    private static readonly LogAppended Ok = new("t", new RecordId(1));

    private static LogFailed Failed(string code) => new(new ForgeOneError(code, "x"));

    private static (RetryingSender Sender, ClientStats Stats) Create(RetryPolicy? policy = null)
    {
        var stats = new ClientStats();
        return (new RetryingSender(policy ?? Fast, stats), stats);
    }

    private static Task<object> Run(RetryingSender sender, Func<int, Task<object>> attempt)
    {
        var n = 0;
        return sender.SendAsync("test", _ => attempt(Interlocked.Increment(ref n)), e => new LogFailed(e), CancellationToken.None);
    }

    [Theory]
    [InlineData(ErrorCodes.Unavailable)]
    [InlineData(ErrorCodes.Timeout)]
    [InlineData(ErrorCodes.StorageStaleOwner)]
    [InlineData(ErrorCodes.RequestInFlight)]
    public async Task RetryableFailure_IsRetried_UntilAnAnswer(string code)
    {
        var (sender, stats) = Create();

        var reply = await Run(sender, n => Task.FromResult<object>(n < 3 ? Failed(code) : Ok));

        Assert.Equal(Ok, reply);
        Assert.Equal(new ClientCounters(1, 3, 2, 0, 0, 0, 0, 0), stats.Snapshot());
    }

    [Theory]
    [InlineData(ErrorCodes.Forbidden)]
    [InlineData(ErrorCodes.RequestKeyReused)]
    [InlineData(ErrorCodes.InvalidTimestamp)]
    [InlineData("storage.disk_full")]
    public async Task FinalFailure_IsReturnedAtOnce(string code)
    {
        var (sender, stats) = Create();

        var reply = await Run(sender, _ => Task.FromResult<object>(Failed(code)));

        Assert.Equal(code, Assert.IsType<LogFailed>(reply).Error.Code);
        Assert.Equal(1, stats.Snapshot().Attempts);
    }

    [Fact]
    public async Task NoReply_SendsAnotherAttemptBeside_AndTheFirstAnswerWins()
    {
        var (sender, stats) = Create();
        var first = new TaskCompletionSource<object>();
        var second = new TaskCompletionSource<object>();
        var secondSent = new TaskCompletionSource();

        var call = Run(sender, n =>
        {
            if (n == 2)
            {
                secondSent.SetResult();
            }

            return n == 1 ? first.Task : second.Task;
        });
        await secondSent.Task.WaitAsync(TimeSpan.FromSeconds(5));
        first.SetResult(Ok);

        Assert.Equal(Ok, await call);
        Assert.Equal(1, stats.Snapshot().NoReplyRetries);
    }

    [Fact]
    public async Task Deadline_ReturnsTheLastRetryableFailure_OrATimeout()
    {
        // Back-off long enough that the deadline, not MaxAttempts, ends the retries.
        var (sender, stats) = Create(Fast with { Deadline = TimeSpan.FromMilliseconds(300), InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(40) });

        var unavailable = await Run(sender, _ => Task.FromResult<object>(Failed(ErrorCodes.Unavailable)));
        var silent = await Run(sender, _ => new TaskCompletionSource<object>().Task);

        Assert.Equal(ErrorCodes.Unavailable, Assert.IsType<LogFailed>(unavailable).Error.Code);
        Assert.Equal(ErrorCodes.Timeout, Assert.IsType<LogFailed>(silent).Error.Code);
        Assert.Equal(2, stats.Snapshot().DeadlinesExceeded);
    }

    [Fact]
    public async Task NonePolicy_SendsOnce()
    {
        var (sender, stats) = Create(RetryPolicy.None);

        var reply = await Run(sender, _ => Task.FromResult<object>(Failed(ErrorCodes.Unavailable)));

        Assert.Equal(ErrorCodes.Unavailable, Assert.IsType<LogFailed>(reply).Error.Code);
        Assert.Equal(1, stats.Snapshot().Attempts);
    }

    [Fact]
    public async Task Replays_AreCounted_AndOnRetryIsCalled()
    {
        var events = new List<RetryEvent>();
        var (sender, stats) = Create(Fast with { OnRetry = events.Add });

        await Run(sender, n => Task.FromResult<object>(n == 1 ? Failed(ErrorCodes.Unavailable) : Ok with { Replayed = true }));

        Assert.Equal(1, stats.Snapshot().Replayed);
        Assert.Equal([new RetryEvent("test", 2, RetryReason.RetryableFailure, ErrorCodes.Unavailable)], events);
    }

    [Fact]
    public void Backoff_IsFullJitterUnderADoublingBound()
    {
        var policy = new RetryPolicy { InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromSeconds(1) };

        Assert.Equal(TimeSpan.FromMilliseconds(50), policy.Backoff(1, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.Backoff(3, 1));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.Backoff(10, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.Backoff(3, 0.5));
        Assert.Equal(TimeSpan.Zero, policy.Backoff(2, 0));
    }

    [Fact]
    public void Validate_NamesEveryProblem()
    {
        var bad = new RetryPolicy { AttemptTimeout = TimeSpan.Zero, Deadline = TimeSpan.FromSeconds(-1), MaxAttempts = 0, InitialBackoff = TimeSpan.FromSeconds(2), MaxBackoff = TimeSpan.FromSeconds(1) };

        Assert.Equal(4, bad.Validate().Count);
        Assert.Empty(RetryPolicy.Default.Validate());
    }
}
