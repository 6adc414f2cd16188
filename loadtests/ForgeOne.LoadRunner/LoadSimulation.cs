using System.Globalization;

namespace ForgeOne.LoadRunner;

/// <summary>
/// One phase of load. Phases of a scenario run one after another. Open simulations start calls
/// on a timetable (<see cref="InjectSimulation"/>, <see cref="RampingInjectSimulation"/>,
/// <see cref="InjectRandomSimulation"/>, <see cref="IterationsForInjectSimulation"/>); closed ones
/// run loops that call back to back (<see cref="KeepConstantSimulation"/>,
/// <see cref="RampingConstantSimulation"/>, <see cref="IterationsForConstantSimulation"/>).
/// </summary>
public abstract record LoadSimulation
{
    /// <summary>How long the phase lasts; null when it ends by an iteration count instead.</summary>
    public abstract TimeSpan? Length { get; }

    /// <summary>A one-line description for reports, e.g. "inject 100 per 1 s for 30 s".</summary>
    public abstract string Describe();

    /// <summary>Formats a duration the way run files write it (500ms, 30s, 2m, 1h).</summary>
    protected static string Span(TimeSpan t) => DurationText.Format(t);

    /// <summary>Invariant number formatting.</summary>
    protected static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Open model: start <see cref="Rate"/> calls per <see cref="Interval"/>, spread evenly inside
/// the interval, whether or not earlier calls have completed. This is how real clients behave,
/// so a slow system shows up as growing latency rather than as a politely reduced offered load.
/// </summary>
public sealed record InjectSimulation(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => During;

    /// <inheritdoc />
    public override string Describe() => $"inject {N(Rate)} per {Span(Interval)} for {Span(During)}";
}

/// <summary>
/// Open model with a linear ramp: the per-interval rate moves from the previous open phase's
/// rate (0 at the start or after a closed phase) to <see cref="Rate"/>, reaching it in the last interval.
/// </summary>
public sealed record RampingInjectSimulation(int Rate, TimeSpan Interval, TimeSpan During) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => During;

    /// <inheritdoc />
    public override string Describe() => $"ramping inject to {N(Rate)} per {Span(Interval)} over {Span(During)}";
}

/// <summary>
/// Open model with a random rate: each <see cref="Interval"/> starts a number of calls drawn
/// uniformly from [<see cref="MinRate"/>, <see cref="MaxRate"/>]. The draw is seeded (run
/// option), so a run can be repeated with the same offered load.
/// </summary>
public sealed record InjectRandomSimulation(int MinRate, int MaxRate, TimeSpan Interval, TimeSpan During) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => During;

    /// <inheritdoc />
    public override string Describe() => $"inject random {N(MinRate)}..{N(MaxRate)} per {Span(Interval)} for {Span(During)}";
}

/// <summary>Open model by count: <see cref="Rate"/> starts per <see cref="Interval"/> until <see cref="Iterations"/> calls have started (the last interval may be partial).</summary>
public sealed record IterationsForInjectSimulation(int Rate, TimeSpan Interval, long Iterations) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => Interval * Math.Ceiling(Iterations / (double)Rate);

    /// <inheritdoc />
    public override string Describe() => $"inject {N(Rate)} per {Span(Interval)} for {N(Iterations)} iterations";
}

/// <summary>Closed model: <see cref="Copies"/> loops each call the step back to back for <see cref="During"/>.</summary>
public sealed record KeepConstantSimulation(int Copies, TimeSpan During) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => During;

    /// <inheritdoc />
    public override string Describe() => $"keep constant {N(Copies)} copies for {Span(During)}";
}

/// <summary>
/// Closed model with a linear ramp of the number of loops, from the previous closed phase's count
/// (0 at the start or after an open phase) to <see cref="Copies"/>, reached at the end of <see cref="During"/>.
/// </summary>
public sealed record RampingConstantSimulation(int Copies, TimeSpan During) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => During;

    /// <inheritdoc />
    public override string Describe() => $"ramping constant to {N(Copies)} copies over {Span(During)}";
}

/// <summary>Closed model by count: <see cref="Copies"/> loops share <see cref="Iterations"/> calls and stop when all have started.</summary>
public sealed record IterationsForConstantSimulation(int Copies, long Iterations) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => null;

    /// <inheritdoc />
    public override string Describe() => $"keep constant {N(Copies)} copies for {N(Iterations)} iterations";
}

/// <summary>No calls for <see cref="During"/> (a delayed start, or a gap between phases).</summary>
public sealed record PauseSimulation(TimeSpan During) : LoadSimulation
{
    /// <inheritdoc />
    public override TimeSpan? Length => During;

    /// <inheritdoc />
    public override string Describe() => $"pause {Span(During)}";
}

/// <summary>Validating factories for the load simulations (the names NBomber users know).</summary>
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

    /// <summary>A uniformly random number of starts in [<paramref name="minRate"/>, <paramref name="maxRate"/>] each <paramref name="interval"/>.</summary>
    public static InjectRandomSimulation InjectRandom(int minRate, int maxRate, TimeSpan interval, TimeSpan during)
    {
        CheckOpen(minRate, interval, during);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRate, minRate);
        return new InjectRandomSimulation(minRate, maxRate, interval, during);
    }

    /// <summary><paramref name="rate"/> starts per <paramref name="interval"/> until <paramref name="iterations"/> have started.</summary>
    public static IterationsForInjectSimulation IterationsForInject(int rate, TimeSpan interval, long iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        return new IterationsForInjectSimulation(rate, interval, iterations);
    }

    /// <summary><paramref name="copies"/> concurrent closed loops for <paramref name="during"/>.</summary>
    public static KeepConstantSimulation KeepConstant(int copies, TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copies);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(during, TimeSpan.Zero);
        return new KeepConstantSimulation(copies, during);
    }

    /// <summary>Ramps the number of closed loops linearly to <paramref name="copies"/> (0 allowed: ramp down) over <paramref name="during"/>.</summary>
    public static RampingConstantSimulation RampingConstant(int copies, TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(copies);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(during, TimeSpan.Zero);
        return new RampingConstantSimulation(copies, during);
    }

    /// <summary><paramref name="copies"/> closed loops sharing <paramref name="iterations"/> calls.</summary>
    public static IterationsForConstantSimulation IterationsForConstant(int copies, long iterations)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(copies);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(iterations);
        return new IterationsForConstantSimulation(copies, iterations);
    }

    /// <summary>No load for <paramref name="during"/>.</summary>
    public static PauseSimulation Pause(TimeSpan during)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(during, TimeSpan.Zero);
        return new PauseSimulation(during);
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
