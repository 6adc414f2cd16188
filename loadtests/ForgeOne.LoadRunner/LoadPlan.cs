namespace ForgeOne.LoadRunner;

/// <summary>How a planned phase produces calls.</summary>
public enum PhaseKind
{
    /// <summary>Calls start on a timetable (<see cref="PlannedPhase.StartOffsets"/>).</summary>
    Open,

    /// <summary>Loops call back to back inside their windows (<see cref="PlannedPhase.Loops"/>), or until <see cref="PlannedPhase.Iterations"/> have started.</summary>
    Closed,

    /// <summary>No calls.</summary>
    Pause,
}

/// <summary>When one closed loop runs, relative to the scenario start.</summary>
public readonly record struct LoopWindow(TimeSpan Start, TimeSpan End);

/// <summary>
/// One load phase placed on the scenario's timeline. An open phase holds the number of starts
/// in each interval; a closed phase the window of each loop (or, for an iteration count, just
/// the number of loops and the count).
/// </summary>
public sealed record PlannedPhase(LoadSimulation Simulation, TimeSpan Start)
{
    /// <summary>Open, closed or pause.</summary>
    public PhaseKind Kind => Simulation switch
    {
        InjectSimulation or RampingInjectSimulation or InjectRandomSimulation or IterationsForInjectSimulation => PhaseKind.Open,
        PauseSimulation => PhaseKind.Pause,
        _ => PhaseKind.Closed,
    };

    /// <summary>True when calls start on a timetable, not on completions.</summary>
    public bool IsOpen => Kind == PhaseKind.Open;

    /// <summary>When the phase ends, relative to the scenario start; null for an iteration count of closed loops.</summary>
    public TimeSpan? End => Simulation.Length is { } length ? Start + length : null;

    /// <summary>The injection interval of an open phase.</summary>
    public TimeSpan Interval { get; init; }

    /// <summary>Starts in each interval of an open phase; empty otherwise.</summary>
    public IReadOnlyList<int> CallsPerInterval { get; init; } = [];

    /// <summary>The loops of a time-bounded closed phase; empty otherwise.</summary>
    public IReadOnlyList<LoopWindow> Loops { get; init; } = [];

    /// <summary>Loops of a closed phase at its widest (for an iteration count: the loops sharing it).</summary>
    public int Copies { get; init; }

    /// <summary>The shared call budget of <see cref="IterationsForConstantSimulation"/>; null otherwise.</summary>
    public long? Iterations { get; init; }

    /// <summary>Planned starts of an open phase; 0 for a closed phase (its count depends on the system).</summary>
    public long TotalCalls => CallsPerInterval.Sum(c => (long)c);

    /// <summary>
    /// The intended start offsets of an open phase, relative to the scenario start, in order.
    /// Lazy, so an hour at 100k/s does not materialize 360 million values.
    /// </summary>
    public IEnumerable<TimeSpan> StartOffsets()
    {
        for (var k = 0; k < CallsPerInterval.Count; k++)
        {
            var count = CallsPerInterval[k];
            var intervalStart = Start.Ticks + (k * Interval.Ticks);
            for (var j = 0; j < count; j++)
            {
                // Evenly spread inside the interval: bursts at the interval edge would measure
                // the burst, not the system.
                yield return TimeSpan.FromTicks(intervalStart + (j * Interval.Ticks / count));
            }
        }
    }
}

/// <summary>Turns a scenario's load simulations into a timeline. Pure: no clock, no I/O.</summary>
public static class LoadPlanner
{
    /// <summary>
    /// Places the simulations one after another from offset zero. <paramref name="seed"/> drives
    /// <see cref="InjectRandomSimulation"/>, so the same seed plans the same offered load.
    /// </summary>
    public static IReadOnlyList<PlannedPhase> Plan(IReadOnlyList<LoadSimulation> simulations, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(simulations);
        if (simulations.Count > 1 && simulations.Any(s => s is IterationsForConstantSimulation or IterationsForInjectSimulation))
        {
            // A phase that ends by count has no end on the timeline to place a next phase after.
            throw new ArgumentException("An iterations simulation (IterationsForConstant, IterationsForInject) must be the scenario's only one.", nameof(simulations));
        }

        var random = new Random(seed);
        var phases = new List<PlannedPhase>(simulations.Count);
        var start = TimeSpan.Zero;

        // A ramp starts where the previous phase of its model ended: open ramps from the previous
        // rate (in calls per second, so phases with different intervals compose), closed ramps
        // from the previous number of loops. A phase of the other model, or a pause, resets to 0.
        double previousPerSecond = 0;
        var previousCopies = 0;
        foreach (var simulation in simulations)
        {
            PlannedPhase phase;
            switch (simulation)
            {
                case InjectSimulation inject:
                    phase = Open(inject, start, inject.Interval, Enumerable.Repeat(inject.Rate, IntervalCount(inject.During, inject.Interval)).ToArray());
                    (previousPerSecond, previousCopies) = (inject.Rate / inject.Interval.TotalSeconds, 0);
                    break;

                case RampingInjectSimulation ramp:
                    {
                        var n = IntervalCount(ramp.During, ramp.Interval);
                        var from = previousPerSecond * ramp.Interval.TotalSeconds;
                        var counts = new int[n];
                        for (var k = 0; k < n; k++)
                        {
                            counts[k] = (int)Math.Round(from + ((ramp.Rate - from) * (k + 1) / n), MidpointRounding.AwayFromZero);
                        }

                        phase = Open(ramp, start, ramp.Interval, counts);
                        (previousPerSecond, previousCopies) = (ramp.Rate / ramp.Interval.TotalSeconds, 0);
                        break;
                    }

                case InjectRandomSimulation randomInject:
                    {
                        var counts = new int[IntervalCount(randomInject.During, randomInject.Interval)];
                        for (var k = 0; k < counts.Length; k++)
                        {
                            counts[k] = random.Next(randomInject.MinRate, randomInject.MaxRate + 1);
                        }

                        phase = Open(randomInject, start, randomInject.Interval, counts);
                        (previousPerSecond, previousCopies) = (counts[^1] / randomInject.Interval.TotalSeconds, 0);
                        break;
                    }

                case IterationsForInjectSimulation byCount:
                    {
                        var full = (int)(byCount.Iterations / byCount.Rate);
                        var rest = (int)(byCount.Iterations % byCount.Rate);
                        var counts = Enumerable.Repeat(byCount.Rate, full).Concat(rest > 0 ? [rest] : []).ToArray();
                        phase = Open(byCount, start, byCount.Interval, counts);
                        break;
                    }

                case KeepConstantSimulation keep:
                    phase = new PlannedPhase(keep, start)
                    {
                        Copies = keep.Copies,
                        Loops = Enumerable.Repeat(new LoopWindow(start, start + keep.During), keep.Copies).ToArray(),
                    };
                    (previousPerSecond, previousCopies) = (0, keep.Copies);
                    break;

                case RampingConstantSimulation ramp:
                    phase = new PlannedPhase(ramp, start) { Copies = Math.Max(previousCopies, ramp.Copies), Loops = RampLoops(previousCopies, ramp.Copies, start, ramp.During) };
                    (previousPerSecond, previousCopies) = (0, ramp.Copies);
                    break;

                case IterationsForConstantSimulation byCount:
                    phase = new PlannedPhase(byCount, start) { Copies = byCount.Copies, Iterations = byCount.Iterations };
                    break;

                case PauseSimulation pause:
                    phase = new PlannedPhase(pause, start);
                    (previousPerSecond, previousCopies) = (0, 0);
                    break;

                default:
                    throw new ArgumentException($"Unknown load simulation {simulation.GetType().Name}.", nameof(simulations));
            }

            phases.Add(phase);
            start = phase.End ?? start;
        }

        return phases;
    }

    private static PlannedPhase Open(LoadSimulation simulation, TimeSpan start, TimeSpan interval, int[] counts) =>
        new(simulation, start) { Interval = interval, CallsPerInterval = counts };

    // Loops below both counts run the whole phase. Ramping up, loop k of the new ones starts at
    // (k - from) / (to - from) of the phase, so the first starts at once and all `to` run at the
    // end; ramping down, loop k stops at (from - k) / (from - to), the last one at the phase's end.
    private static LoopWindow[] RampLoops(int from, int to, TimeSpan start, TimeSpan during)
    {
        var loops = new List<LoopWindow>(Math.Max(from, to));
        var end = start + during;
        for (var k = 0; k < Math.Min(from, to); k++)
        {
            loops.Add(new LoopWindow(start, end));
        }

        for (var k = from; k < to; k++)
        {
            loops.Add(new LoopWindow(start + (during * (k - from) / (to - from)), end));
        }

        for (var k = to; k < from; k++)
        {
            loops.Add(new LoopWindow(start, start + (during * (from - k) / (from - to))));
        }

        return [.. loops];
    }

    private static int IntervalCount(TimeSpan during, TimeSpan interval) => checked((int)(during.Ticks / interval.Ticks));
}
