namespace ForgeOne.LoadRunner.Tests;

public class LoadPlannerTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Inject_HundredPerSecondForThreeSeconds_Schedules300StartsTenMillisecondsApart()
    {
        var phase = Assert.Single(LoadPlanner.Plan([Simulation.Inject(100, Second, TimeSpan.FromSeconds(3))]));

        var offsets = phase.StartOffsets().ToList();

        Assert.True(phase.IsOpen);
        Assert.Equal(300, phase.TotalCalls);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => TimeSpan.FromMilliseconds(10 * i)), offsets);
    }

    [Fact]
    public void RampingInject_FromNothing_RisesLinearlyAndReachesTheRateInTheLastInterval()
    {
        var phase = Assert.Single(LoadPlanner.Plan([Simulation.RampingInject(100, Second, TimeSpan.FromSeconds(4))]));

        Assert.Equal([25, 50, 75, 100], phase.CallsPerInterval);
        var offsets = phase.StartOffsets().ToList();
        Assert.Equal(250, offsets.Count);
        Assert.Equal(TimeSpan.Zero, offsets[0]);
        Assert.Equal(TimeSpan.FromMilliseconds(40), offsets[1]); // 25 in the first second
        Assert.Equal(TimeSpan.FromSeconds(1), offsets[25]);
        Assert.Equal(TimeSpan.FromMilliseconds(1020), offsets[26]); // 50 in the second second
        Assert.Equal(TimeSpan.FromMilliseconds(3990), offsets[^1]);
    }

    [Fact]
    public void RampingInject_AfterInject_StartsFromThePreviousRateAndFollowsIt()
    {
        var phases = LoadPlanner.Plan(
        [
            Simulation.Inject(100, Second, TimeSpan.FromSeconds(2)),
            Simulation.RampingInject(200, Second, TimeSpan.FromSeconds(2)),
        ]);

        Assert.Equal(2, phases.Count);
        Assert.Equal(TimeSpan.FromSeconds(2), phases[1].Start);
        Assert.Equal([150, 200], phases[1].CallsPerInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), phases[1].StartOffsets().First());
    }

    [Fact]
    public void RampingInject_ConvertsThePreviousRateWhenIntervalsDiffer()
    {
        var phases = LoadPlanner.Plan(
        [
            Simulation.Inject(100, Second, Second),                                           // 100/s
            Simulation.RampingInject(20, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500)), // 10 -> 20 per 100 ms
        ]);

        Assert.Equal([12, 14, 16, 18, 20], phases[1].CallsPerInterval);
    }

    [Fact]
    public void KeepConstant_IsClosedAndResetsTheRampBaseToZero()
    {
        var phases = LoadPlanner.Plan(
        [
            Simulation.Inject(100, Second, Second),
            Simulation.KeepConstant(8, TimeSpan.FromSeconds(5)),
            Simulation.RampingInject(40, Second, TimeSpan.FromSeconds(2)),
        ]);

        Assert.False(phases[1].IsOpen);
        Assert.Equal(8, phases[1].Copies);
        Assert.Equal(TimeSpan.FromSeconds(1), phases[1].Start);
        Assert.Equal(TimeSpan.FromSeconds(6), phases[1].End);
        Assert.Empty(phases[1].StartOffsets());
        Assert.Equal(TimeSpan.FromSeconds(6), phases[2].Start);
        Assert.Equal([20, 40], phases[2].CallsPerInterval);
    }

    [Fact]
    public void Inject_RejectsADurationThatIsNotAWholeNumberOfIntervals()
    {
        var ex = Assert.Throws<ArgumentException>(() => Simulation.Inject(10, Second, TimeSpan.FromMilliseconds(1500)));
        Assert.Equal("during", ex.ParamName);
    }

    [Fact]
    public void Simulations_RejectNonPositiveShapes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulation.Inject(-1, Second, Second));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulation.Inject(1, TimeSpan.Zero, Second));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulation.KeepConstant(0, Second));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulation.KeepConstant(1, TimeSpan.Zero));
    }

    [Fact]
    public void RampingConstant_RampsLoopsUpThenDownLinearly()
    {
        var phases = LoadPlanner.Plan(
        [
            Simulation.RampingConstant(4, TimeSpan.FromSeconds(4)),
            Simulation.RampingConstant(2, TimeSpan.FromSeconds(2)),
        ]);

        Assert.Equal(
            [new LoopWindow(TimeSpan.Zero, TimeSpan.FromSeconds(4)), new LoopWindow(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4)),
             new LoopWindow(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)), new LoopWindow(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4))],
            phases[0].Loops);
        Assert.Equal(
            [new LoopWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6)), new LoopWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6)),
             new LoopWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6)), new LoopWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5))],
            phases[1].Loops);
        Assert.Equal(4, phases[1].Copies);
    }

    [Fact]
    public void RampingConstant_AfterKeepConstant_StartsFromItsCopies()
    {
        var phases = LoadPlanner.Plan([Simulation.KeepConstant(3, Second), Simulation.RampingConstant(3, Second)]);
        Assert.All(phases[1].Loops, w => Assert.Equal(new LoopWindow(Second, TimeSpan.FromSeconds(2)), w));
        Assert.Equal(3, phases[1].Loops.Count);
    }

    [Fact]
    public void InjectRandom_DrawsEachIntervalWithinBoundsAndRepeatsWithTheSeed()
    {
        var sim = Simulation.InjectRandom(5, 15, Second, TimeSpan.FromSeconds(200));

        var a = LoadPlanner.Plan([sim], seed: 7)[0].CallsPerInterval;
        var b = LoadPlanner.Plan([sim], seed: 7)[0].CallsPerInterval;
        var c = LoadPlanner.Plan([sim], seed: 8)[0].CallsPerInterval;

        Assert.Equal(200, a.Count);
        Assert.All(a, n => Assert.InRange(n, 5, 15));
        Assert.Contains(5, a);
        Assert.Contains(15, a);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void IterationsForInject_StartsExactlyTheCountWithAPartialLastInterval()
    {
        var phase = Assert.Single(LoadPlanner.Plan([Simulation.IterationsForInject(40, Second, 100)]));

        Assert.Equal([40, 40, 20], phase.CallsPerInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), phase.End);
        Assert.Equal(TimeSpan.FromMilliseconds(2950), phase.StartOffsets().Last());
    }

    [Fact]
    public void IterationsForConstant_HasNoEndAndCannotBeMixed()
    {
        var phase = Assert.Single(LoadPlanner.Plan([Simulation.IterationsForConstant(4, 1000)]));
        Assert.Equal((PhaseKind.Closed, 4, (long?)1000, (TimeSpan?)null), (phase.Kind, phase.Copies, phase.Iterations, phase.End));

        Assert.Throws<ArgumentException>(() => LoadPlanner.Plan([Simulation.IterationsForConstant(4, 1000), Simulation.Pause(Second)]));
        Assert.Throws<ArgumentException>(() => LoadPlanner.Plan([Simulation.Inject(1, Second, Second), Simulation.IterationsForInject(1, Second, 5)]));
    }

    [Fact]
    public void Pause_ShiftsTheNextPhaseAndResetsTheRampBase()
    {
        var phases = LoadPlanner.Plan([Simulation.Inject(100, Second, Second), Simulation.Pause(TimeSpan.FromSeconds(2)), Simulation.RampingInject(100, Second, TimeSpan.FromSeconds(2))]);

        Assert.Equal(PhaseKind.Pause, phases[1].Kind);
        Assert.Equal(TimeSpan.FromSeconds(3), phases[2].Start);
        Assert.Equal([50, 100], phases[2].CallsPerInterval);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5s", 1500)]
    [InlineData("00:00:02", 2000)]
    public void DurationText_ParsesUnitsAndTimeSpans(string text, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), DurationText.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("10 parsecs")]
    [InlineData("s")]
    [InlineData("-5s")]
    public void DurationText_RejectsWhatIsNotADuration(string text)
    {
        Assert.False(DurationText.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void DurationText_FormatsTheShortestExactForm()
    {
        Assert.Equal(["250ms", "30s", "1m30s", "2h", "0s"], new[] { 250, 30_000, 90_000, 7_200_000, 0 }.Select(ms => DurationText.Format(TimeSpan.FromMilliseconds(ms))));
    }
}
