namespace ForgeOne.LoadRunner.Tests;

public class ScenarioRunnerTests
{
    private static LoadRunnerOptions Options(int maxInFlight = 64, TimeSpan? maxDuration = null) => new()
    {
        Name = "test",
        MaxInFlight = maxInFlight,
        MaxDuration = maxDuration ?? TimeSpan.FromMinutes(1),
        DrainTimeout = TimeSpan.FromSeconds(5),
        ReportFolder = null,
        Console = null,
    };

    [Fact]
    public async Task Run_StepFailingEveryFourthCall_ReportsExactOkAndFailCounts()
    {
        var initialized = 0;
        var cleaned = 0;
        var scenario = new Scenario("quarter-fails", ctx =>
                ValueTask.FromResult(ctx.InvocationNumber % 4 == 0 ? StepResult.Fail("every fourth") : StepResult.Ok(10)))
            .WithInit(_ => { initialized++; return Task.CompletedTask; })
            .WithClean(_ => { cleaned++; return Task.CompletedTask; })
            .WithLoadSimulations(Simulation.Inject(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)));

        var report = await new ScenarioRunner(Options()).RunAsync([scenario]);

        var s = Assert.Single(report.Scenarios);
        Assert.Equal((20L, 15L, 5L, 0L, 150L), (s.Requests, s.Ok, s.Fail, s.Cancelled, s.Bytes));
        Assert.Equal(5, s.Errors["every fourth"]);
        Assert.Equal((1, 1), (initialized, cleaned));
        Assert.False(report.StoppedByTimeBound);
    }

    [Fact]
    public async Task Run_StepThrowing_CountsAFailureNamedByTheExceptionType()
    {
        var scenario = new Scenario("throws", _ => throw new InvalidOperationException("boom"))
            .WithLoadSimulations(Simulation.Inject(3, TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(30)));

        var s = Assert.Single((await new ScenarioRunner(Options()).RunAsync([scenario])).Scenarios);

        Assert.Equal((0L, 3L), (s.Ok, s.Fail));
        Assert.Equal(3, s.Errors["InvalidOperationException"]);
    }

    [Fact]
    public async Task Run_ClosedModel_NeverExceedsTheInFlightBound()
    {
        var current = 0;
        var maxSeen = 0;
        var scenario = new Scenario("closed", async ctx =>
        {
            var now = Interlocked.Increment(ref current);
            InterlockedMax(ref maxSeen, now);
            await Task.Delay(5, ctx.CancellationToken);
            Interlocked.Decrement(ref current);
            return StepResult.Ok();
        }).WithLoadSimulations(Simulation.KeepConstant(4, TimeSpan.FromMilliseconds(150)));

        var s = Assert.Single((await new ScenarioRunner(Options(maxInFlight: 2)).RunAsync([scenario])).Scenarios);

        Assert.Equal(2, maxSeen);
        Assert.True(s.Ok > 0);
        Assert.Equal(0, s.Fail);
    }

    [Fact]
    public async Task Run_ClosedModel_RunsSynchronousStepsConcurrently()
    {
        // The first two calls complete synchronously and each waits until the other is running.
        // Loops run one after another (a synchronous step never yields) would never meet, and the
        // first call would fail after the wait; later calls are async so the test does not spin.
        var arrived = 0;
        var scenario = new Scenario("sync", async ctx =>
        {
            if (ctx.InvocationNumber < 2)
            {
                Interlocked.Increment(ref arrived);
                var together = SpinWait.SpinUntil(() => Volatile.Read(ref arrived) >= 2, TimeSpan.FromSeconds(10));
                return together ? StepResult.Ok() : StepResult.Fail("ran alone");
            }

            await Task.Delay(10, ctx.CancellationToken);
            return StepResult.Ok();
        }).WithLoadSimulations(Simulation.KeepConstant(2, TimeSpan.FromSeconds(1)));

        var s = Assert.Single((await new ScenarioRunner(Options()).RunAsync([scenario])).Scenarios);

        Assert.Equal(0, s.Fail);
        Assert.True(s.Ok >= 2, $"ok {s.Ok}");
    }

    [Fact]
    public async Task Run_OpenModelBehindAnInFlightBound_MeasuresLatencyFromTheIntendedStart()
    {
        // 10 starts intended 10 ms apart, but one at a time and each takes >= 50 ms: the 10th is
        // intended at 90 ms and cannot finish before 500 ms. Measured from its actual start it
        // would look like a 50 ms call (coordinated omission); from its intended start it is >= 410 ms.
        var scenario = new Scenario("queued", async ctx =>
        {
            await Task.Delay(50, ctx.CancellationToken);
            return StepResult.Ok();
        }).WithLoadSimulations(Simulation.Inject(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)));

        var s = Assert.Single((await new ScenarioRunner(Options(maxInFlight: 1)).RunAsync([scenario])).Scenarios);

        Assert.Equal(10, s.Ok);
        Assert.True(s.Latency.MaxUs >= 410_000, $"max latency {s.Latency.MaxUs} us hides the queueing");
    }

    [Fact]
    public async Task Run_TimeBound_StopsAStuckRunAndCountsTheCutOffCallsAsCancelled()
    {
        var scenario = new Scenario("stuck", async ctx =>
        {
            await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            return StepResult.Ok();
        }).WithLoadSimulations(Simulation.Inject(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(60)));

        var report = await new ScenarioRunner(Options(maxInFlight: 3, maxDuration: TimeSpan.FromMilliseconds(200))).RunAsync([scenario]);

        var s = Assert.Single(report.Scenarios);
        Assert.True(report.StoppedByTimeBound);
        Assert.Equal((0L, 3L), (s.Requests, s.Cancelled));
    }

    [Fact]
    public async Task Run_StepIgnoringCancellation_IsAbandonedAfterTheDrainTimeout()
    {
        var release = new TaskCompletionSource<StepResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var scenario = new Scenario("deaf", _ => new ValueTask<StepResult>(release.Task))
            .WithLoadSimulations(Simulation.Inject(1, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)));
        var options = Options(maxDuration: TimeSpan.FromMilliseconds(200)) with { DrainTimeout = TimeSpan.FromMilliseconds(100) };

        var report = await new ScenarioRunner(options).RunAsync([scenario]);
        release.SetResult(StepResult.Ok()); // completes after the run: must not throw anywhere

        var s = Assert.Single(report.Scenarios);
        Assert.True(report.StoppedByTimeBound);
        Assert.Equal((0L, 0L), (s.Requests, s.Cancelled));
    }

    [Fact]
    public async Task Run_CancelledByTheCaller_StopsAndSaysSoEvenWhenCallsIgnoreIt()
    {
        using var cancel = new CancellationTokenSource();
        var scenario = new Scenario("deaf", async _ =>
        {
            await cancel.CancelAsync();
            await Task.Delay(Timeout.Infinite, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
            return StepResult.Ok();
        }).WithLoadSimulations(Simulation.Inject(1, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30)));
        var options = Options() with { DrainTimeout = TimeSpan.FromMilliseconds(100) };

        var report = await new ScenarioRunner(options).RunAsync([scenario], cancel.Token);

        Assert.Equal(StopReason.Cancelled, report.StopReason);
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task Run_RejectsDuplicateScenarioNames()
    {
        var a = new Scenario("same", _ => ValueTask.FromResult(StepResult.Ok()));
        await Assert.ThrowsAsync<ArgumentException>(() => new ScenarioRunner(Options()).RunAsync([a, a]));
    }

    [Fact]
    public async Task Run_WritesReportsToTheConfiguredFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "forgeone-lr-" + Guid.NewGuid().ToString("N"));
        var console = new StringWriter();
        try
        {
            var scenario = new Scenario("one", _ => ValueTask.FromResult(StepResult.Ok(1)))
                .WithLoadSimulations(Simulation.Inject(1, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)));

            await new ScenarioRunner(Options() with { ReportFolder = folder, Console = console }).RunAsync([scenario]);

            Assert.Equal(["test.csv", "test.html", "test.md", "test.txt"], Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Contains("one", console.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
