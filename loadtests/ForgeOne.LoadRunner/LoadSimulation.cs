namespace ForgeOne.LoadRunner;

/// <summary>One phase of load. Phases of a scenario run one after another.</summary>
public abstract record LoadSimulation(TimeSpan During);

/// <summary>
/// Open model: start <see cref="Rate"/> calls per <see cref="Interval"/>, spread evenly inside
/// the interval, whether or not earlier calls have completed. This is how real clients behave,
/// so a slow system shows up as growing latency rather than as a politely reduced offered load.
/// </summary>
public sealed record InjectSimulation(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation(During);

/// <summary>
/// Open model with a linear ramp: the per-interval rate moves from the previous open phase's
/// rate (0 at the start or after a closed phase) to <see cref="Rate"/>, reaching it in the last interval.
/// </summary>
public sealed record RampingInjectSimulation(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation(During);

/// <summary>Closed model: <see cref="Copies"/> loops each call the step back to back for <see cref="LoadSimulation.During"/>.</summary>
public sealed record KeepConstantSimulation(int Copies, TimeSpan During) : LoadSimulation(During);

/// <summary>Validating factories for the load simulations.</summary>
public static class Simulation
{
    /// <summary>
    /// <paramref name="rate"/> starts per <paramref name="interval"/> for <paramref name="during"/>
    /// (a whole number of intervals, so the offered load is exactly what was asked for).
    /// </summary>
    public static InjectSimulation Inject(int rate, TimeSpan interval, TimeSpan during)
    {
        CheckOpen(rate, interval, during);
        return new InjectSimulation(rate, interval, during);
    }

    /// <summary>A linear ramp from the previous rate to <paramref name="rate"/> per <paramref name="interval"/>.</summary>
    public static RampingInjectSimulation RampingInject(int rate, TimeSpan interval, TimeSpan during)
    {
        CheckOpen(rate, interval, during);
        return new RampingInjectSimulation(rate, interval, during);
    }

    /// <summary><paramref name="copies"/> concurrent closed loops for <paramref name="during"/>.</summary>
    public static KeepConstantSimulation KeepConstant(int copies, TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copies);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(during, TimeSpan.Zero);
        return new KeepConstantSimulation(copies, during);
    }

    private static void CheckOpen(int rate, TimeSpan interval, TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rate);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(during, TimeSpan.Zero);
        if (during.Ticks % interval.Ticks != 0)
        {
            throw new ArgumentException($"during ({during}) must be a whole number of intervals ({interval}).", nameof(during));
        }
    }
}
