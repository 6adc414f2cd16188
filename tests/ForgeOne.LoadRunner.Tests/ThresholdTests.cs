namespace ForgeOne.LoadRunner.Tests;

/// <summary>Thresholds parse strictly and fail a run exactly when their criterion does not hold.</summary>
public class ThresholdTests
{
    private static LoadRunnerOptions Options() => new()
    {
        Name = "thresholds",
        MaxDuration = TimeSpan.FromMinutes(1),
        ReportFolder = null,
        Console = null,
        ReportingInterval = TimeSpan.FromMilliseconds(50),
    };

    private static ScenarioStats Stats(long ok, long fail, long p99Us = 20_000, double seconds = 10) =>
        new("s", ok, fail, 0, 4096, TimeSpan.FromSeconds(seconds), new LatencySummary(100, 5000, 30_000, 10, 1000, 2000, 10_000, p99Us), default,
            new Dictionary<string, long> { ["storage.full"] = fail });

    [Theory]
    [InlineData("fail% < 1", "fail%", ThresholdOperator.Less, 1, "")]
    [InlineData("p99 < 20 ms", "p99", ThresholdOperator.Less, 20, "ms")]
    [InlineData("p99<20", "p99", ThresholdOperator.Less, 20, "ms")]
    [InlineData("mean <= 500us", "mean", ThresholdOperator.LessOrEqual, 500, "us")]
    [InlineData("rps > 100_000", "rps", ThresholdOperator.Greater, 100_000, "")]
    [InlineData("ok >= 10", "ok", ThresholdOperator.GreaterOrEqual, 10, "")]
    [InlineData("fail == 0", "fail", ThresholdOperator.Equal, 0, "")]
    [InlineData("max != 1.5 s", "max", ThresholdOperator.NotEqual, 1.5, "s")]
    public void Parse_ReadsMetricOperatorValueAndUnit(string text, string metric, ThresholdOperator op, double value, string unit)
    {
        var e = ThresholdExpression.Parse(text);
        Assert.Equal((metric, op, value, unit), (e.Metric, e.Operator, e.Value, e.Unit));
    }

    [Fact]
    public void Parse_ReadsErrorCodeCountsAndShares()
    {
        Assert.Equal(("error%", "storage.full"), (ThresholdExpression.Parse("error[storage.full]% < 5").Metric, ThresholdExpression.Parse("error[storage.full]% < 5").ErrorCode));
        Assert.Equal("error", ThresholdExpression.Parse("error[auth.forbidden] == 0").Metric);
    }

    [Theory]
    [InlineData("p99 20 ms", "is not '<metric> <op> <number> [unit]'")]
    [InlineData("latency < 20", "unknown metric 'latency'")]
    [InlineData("p99 < 20 minutes", "latency unit must be us, ms or s")]
    [InlineData("rps > 10 ms", "'rps' takes no unit")]
    [InlineData("", "is not")]
    public void Parse_RejectsMalformedExpressionsNamingTheProblem(string text, string message)
    {
        var ex = Assert.Throws<FormatException>(() => ThresholdExpression.Parse(text));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Measure_IsExactAtTheBoundary()
    {
        var stats = Stats(ok: 99, fail: 1, p99Us: 20_000);

        Assert.False(Holds("fail% < 1", stats));
        Assert.True(Holds("fail% <= 1", stats));
        Assert.False(Holds("p99 < 20 ms", stats));
        Assert.True(Holds("p99 <= 20 ms", stats));
        Assert.True(Holds("p99 < 20001 us", stats));
        Assert.True(Holds("rps == 9.9", stats));
        Assert.False(Holds("rps > 9.9", stats));
        Assert.True(Holds("error[storage.full]% == 1", stats));
        Assert.True(Holds("error[other] == 0", stats));
        Assert.True(Holds("bytes == 4096", stats));
    }

    [Fact]
    public void Measure_LatencyOfNoSuccessfulCall_FailsInsteadOfPassingVacuously()
    {
        var noneOk = Stats(ok: 0, fail: 10) with { Latency = default };
        Assert.Null(ThresholdExpression.Parse("p99 < 20 ms").Measure(noneOk));
        Assert.False(Holds("p99 < 20 ms", noneOk));
    }

    [Fact]
    public async Task Run_FailsExactlyWhenAThresholdDoesNotHold()
    {
        // Exactly 10 of 100 calls fail.
        var scenario = new Scenario("tenth-fails", ctx => ValueTask.FromResult(ctx.InvocationNumber % 10 == 0 ? StepResult.Fail("boom") : StepResult.Ok()))
            .WithLoadSimulations(Simulation.IterationsForConstant(2, 100));

        var passing = await new ScenarioRunner(Options()).RunAsync([scenario.WithThresholds(new Threshold("fail% <= 10"), new Threshold("ok == 90"), new Threshold("error[boom] == 10"))]);
        var failing = await new ScenarioRunner(Options()).RunAsync([scenario.WithThresholds(new Threshold("fail% <= 10"), new Threshold("fail% < 10"))]);

        Assert.True(passing.Passed);
        Assert.All(passing.Thresholds, t => Assert.True(t.Passed, t.Expression));
        Assert.False(failing.Passed);
        Assert.Equal([true, false], failing.Thresholds.Select(t => t.Passed));
        Assert.Equal(10.0, failing.Thresholds[1].Actual);
        Assert.Equal(StopReason.Completed, failing.StopReason);
    }

    [Fact]
    public async Task Run_StepThreshold_LooksAtThatStepOnly()
    {
        var scenario = new Scenario("steps", async ctx =>
        {
            await ctx.StepAsync("good", () => ValueTask.FromResult(StepResult.Ok()));
            return await ctx.StepAsync("bad", () => ValueTask.FromResult(StepResult.Fail("bad")));
        })
        .WithLoadSimulations(Simulation.IterationsForConstant(1, 20))
        .WithThresholds(new Threshold("fail == 0", step: "good"), new Threshold("fail == 0", step: "bad"));

        var report = await new ScenarioRunner(Options()).RunAsync([scenario]);

        Assert.Equal([true, false], report.Thresholds.Select(t => t.Passed));
        Assert.Equal("steps / bad", report.Thresholds[1].Scope);
    }

    [Fact]
    public async Task Run_ThresholdFailingDuringTheRun_AbortsItEarly()
    {
        var scenario = new Scenario("always-fails", ctx => ValueTask.FromResult(StepResult.Fail("down")))
            .WithLoadSimulations(Simulation.Inject(100, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)))
            .WithThresholds(new Threshold("fail% < 1", abortWhenErrorCount: 3));

        var report = await new ScenarioRunner(Options()).RunAsync([scenario]);

        Assert.Equal(StopReason.ThresholdAbort, report.StopReason);
        Assert.False(report.Passed);
        var t = Assert.Single(report.Thresholds);
        Assert.True(t.AbortedRun);
        Assert.True(t.FailedChecks >= 3);
        Assert.True(report.Duration < TimeSpan.FromSeconds(30), $"ran {report.Duration}");
    }

    [Fact]
    public async Task Run_StartCheckAfter_SkipsRuntimeChecksOfTheRampButNotTheFinalOne()
    {
        // Fails only during the first 300 ms; the runtime checks start after 600 ms and never
        // see a failing state... but the final check covers the whole run, so it still fails.
        var started = DateTime.UtcNow;
        var scenario = new Scenario("early-failures", _ => ValueTask.FromResult(DateTime.UtcNow - started < TimeSpan.FromMilliseconds(300) ? StepResult.Fail("early") : StepResult.Ok()))
            .WithLoadSimulations(Simulation.Inject(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1)))
            .WithThresholds(new Threshold("fail == 0", abortWhenErrorCount: 1, startCheckAfter: TimeSpan.FromSeconds(5)));

        var report = await new ScenarioRunner(Options()).RunAsync([scenario]);

        Assert.Equal(StopReason.Completed, report.StopReason);
        var t = Assert.Single(report.Thresholds);
        Assert.False(t.Passed);
        Assert.Equal((1, 1), (t.Checks, t.FailedChecks));
    }

    [Fact]
    public void Threshold_RejectsANonPositiveAbortCount()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Threshold("fail == 0", abortWhenErrorCount: 0));
    }

    private static bool Holds(string expression, ScenarioStats stats)
    {
        var e = ThresholdExpression.Parse(expression);
        return e.Holds(e.Measure(stats));
    }
}
