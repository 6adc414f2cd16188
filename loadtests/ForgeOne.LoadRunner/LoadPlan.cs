namespace ForgeOne.LoadRunner;

/// <summary>
/// One load phase placed on the scenario's timeline. For an open phase
/// <see cref="CallsPerInterval"/> holds the number of starts in each interval; for a closed
/// phase it is empty and <see cref="Copies"/> says how many loops run.
/// </summary>
public sealed record PlannedPhase(LoadSimulation Simulation, TimeSpan Start, IReadOnlyList<int> CallsPerInterval, int Copies)
{
    /// <summary>True for Inject and RampingInject (calls start on a timetable, not on completions).</summary>
    public bool IsOpen => Simulation is not KeepConstantSimulation;

    /// <summary>When the phase ends, relative to the scenario start.</summary>
    public TimeSpan End => Start + Simulation.During;

    /// <summary>Planned starts of an open phase; 0 for a closed phase (its count depends on the system).</summary>
    public long TotalCalls => CallsPerInterval.Sum(c => (long)c);

    /// <summary>
    /// The intended start offsets of an open phase, relative to the scenario start, in order.
    /// Lazy, so an hour at 100k/s does not materialize 360 million values.
    /// </summary>
    public IEnumerable<TimeSpan> StartOffsets()
    {
        if (!IsOpen)
        {
            yield break;
        }

        var interval = Simulation switch
        {
            InjectSimulation s => s.Interval,
            RampingInjectSimulation s => s.Interval,
            _ => throw new InvalidOperationException("unreachable"),
        };
        for (var k = 0; k < CallsPerInterval.Count; k++)
        {
            var count = CallsPerInterval[k];
            var intervalStart = Start.Ticks + (k * interval.Ticks);
            for (var j = 0; j < count; j++)
            {
                // Evenly spread inside the interval: bursts at the interval edge would measure
                // the burst, not the system.
                yield return TimeSpan.FromTicks(intervalStart + (j * interval.Ticks / count));
            }
        }
    }
}

/// <summary>Turns a scenario's load simulations into a timeline. Pure: no clock, no I/O.</summary>
public static class LoadPlanner
{
    /// <summary>Places the simulations one after another from offset zero.</summary>
    public static IReadOnlyList<PlannedPhase> Plan(IReadOnlyList<LoadSimulation> simulations)
    {
        ArgumentNullException.ThrowIfNull(simulations);
        var phases = new List<PlannedPhase>(simulations.Count);
        var start = TimeSpan.Zero;

        // The ramp starts from the rate the previous open phase ended at, in calls per second so
        // phases with different intervals compose; a closed phase resets it to zero.
        double previousPerSecond = 0;
        foreach (var simulation in simulations)
        {
            switch (simulation)
            {
                case InjectSimulation inject:
                    {
                        var n = IntervalCount(inject.During, inject.Interval);
                        phases.Add(new PlannedPhase(inject, start, Enumerable.Repeat(inject.Rate, n).ToArray(), 0));
                        previousPerSecond = inject.Rate / inject.Interval.TotalSeconds;
                        break;
                    }

                case RampingInjectSimulation ramp:
                    {
                        var n = IntervalCount(ramp.During, ramp.Interval);
                        var from = previousPerSecond * ramp.Interval.TotalSeconds;
                        var counts = new int[n];
                        for (var k = 0; k < n; k++)
                        {
                            var rate = from + ((ramp.Rate - from) * (k + 1) / n);
                            counts[k] = (int)Math.Round(rate, MidpointRounding.AwayFromZero);
                        }

                        phases.Add(new PlannedPhase(ramp, start, counts, 0));
                        previousPerSecond = ramp.Rate / ramp.Interval.TotalSeconds;
                        break;
                    }

                case KeepConstantSimulation keep:
                    phases.Add(new PlannedPhase(keep, start, [], keep.Copies));
                    previousPerSecond = 0;
                    break;

                default:
                    throw new ArgumentException($"Unknown load simulation {simulation.GetType().Name}.", nameof(simulations));
            }

            start += simulation.During;
        }

        return phases;
    }

    private static int IntervalCount(TimeSpan during, TimeSpan interval) => checked((int)(during.Ticks / interval.Ticks));
}
