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
}
