using HdrHistogram;

namespace ForgeOne.LoadRunner;

/// <summary>Latency of a set of calls in microseconds (the unit the histograms record in).</summary>
public readonly record struct LatencySummary(long MinUs, double MeanUs, long MaxUs, double StdDevUs, long P50Us, long P75Us, long P95Us, long P99Us)
{
    /// <summary>Microseconds to milliseconds, for reports.</summary>
    public static double ToMs(long micros) => micros / 1000.0;

    /// <summary>Microseconds to milliseconds, for reports.</summary>
    public static double ToMs(double micros) => micros / 1000.0;
}

/// <summary>
/// The result of one scenario (or of one step inside it: <see cref="Steps"/> is then empty).
/// <see cref="Requests"/> = <see cref="Ok"/> + <see cref="Fail"/>; calls cut off by the run's time
/// bound or an abort are counted in <see cref="Cancelled"/> only, so a bounded run does not report
/// them as system failures. <see cref="Latency"/> covers successful calls (fast failures would
/// otherwise flatter the percentiles); <see cref="FailLatency"/> the failures.
/// </summary>
public sealed record ScenarioStats(
    string Name,
    long Ok,
    long Fail,
    long Cancelled,
    long Bytes,
    TimeSpan Duration,
    LatencySummary Latency,
    LatencySummary FailLatency,
    IReadOnlyDictionary<string, long> Errors)
{
    /// <summary>The named steps measured inside the scenario, in the order they were first seen.</summary>
    public IReadOnlyList<ScenarioStats> Steps { get; init; } = [];

    /// <summary>Completed calls, ok or failed.</summary>
    public long Requests => Ok + Fail;

    /// <summary>Completed calls per second over the measured duration.</summary>
    public double Rps => Duration > TimeSpan.Zero ? Requests / Duration.TotalSeconds : 0;

    /// <summary>Successful calls per second.</summary>
    public double OkRps => Duration > TimeSpan.Zero ? Ok / Duration.TotalSeconds : 0;

    /// <summary>Bytes per second (as reported by the step) over the measured duration.</summary>
    public double BytesPerSecond => Duration > TimeSpan.Zero ? Bytes / Duration.TotalSeconds : 0;

    /// <summary>Failed share of completed calls, in percent (0 when none completed).</summary>
    public double FailPercent => Requests > 0 ? 100.0 * Fail / Requests : 0;

    /// <summary>Share of completed calls that failed with <paramref name="error"/>, in percent.</summary>
    public double ErrorPercent(string error) => Requests > 0 ? 100.0 * Errors.GetValueOrDefault(error) / Requests : 0;

    /// <summary>A step by name, or null.</summary>
    public ScenarioStats? Step(string name) => Steps.FirstOrDefault(s => s.Name == name);
}

/// <summary>What happened in one reporting interval (for the charts and the live table).</summary>
public readonly record struct IntervalStats(long Ok, long Fail, long Bytes, long P50Us, long P99Us, long MaxUs);

/// <summary>
/// Thread-safe accumulator for one scenario or step. Latencies are recorded in microseconds into
/// HdrHistograms (3 significant digits, up to one hour); longer values are clamped to the top
/// rather than thrown away, so a pathological stall still shows as the max. Besides the totals
/// it keeps the current reporting interval, which <see cref="TakeInterval"/> hands out and resets.
/// </summary>
public sealed class StatsCollector
{
    /// <summary>The largest latency recorded exactly: one hour in microseconds.</summary>
    public const long HighestTrackableMicros = 3_600_000_000;

    // A bounded number of distinct error texts: a step that puts ids in its errors must not
    // grow the report without bound.
    private const int MaxDistinctErrors = 50;
    private const string OtherErrors = "(other errors)";

    private readonly object _gate = new();
    private readonly LongHistogram _ok = new(HighestTrackableMicros, 3);
    private readonly LongHistogram _fail = new(HighestTrackableMicros, 3);
    private readonly LongHistogram _intervalOk = new(HighestTrackableMicros, 3);
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly List<(string Name, StatsCollector Stats)> _steps = [];
    private readonly MinMax _okRange = new();
    private readonly MinMax _failRange = new();
    private long _okCount;
    private long _failCount;
    private long _cancelled;
    private long _bytes;
    private long _intervalOkCount;
    private long _intervalFailCount;
    private long _intervalBytes;

    /// <summary>Records one completed call.</summary>
    public void Record(StepResult result, long latencyMicros)
    {
        var value = Math.Clamp(latencyMicros, 0, HighestTrackableMicros);
        lock (_gate)
        {
            _bytes += result.Bytes;
            _intervalBytes += result.Bytes;
            if (result.IsOk)
            {
                _okCount++;
                _intervalOkCount++;
                _ok.RecordValue(value);
                _intervalOk.RecordValue(value);
                _okRange.Add(value);
                return;
            }

            _failCount++;
            _intervalFailCount++;
            _fail.RecordValue(value);
            _failRange.Add(value);
            var key = result.Error ?? "failed";
            if (!_errors.ContainsKey(key) && _errors.Count >= MaxDistinctErrors)
            {
                key = OtherErrors;
            }

            _errors[key] = _errors.GetValueOrDefault(key) + 1;
        }
    }

    /// <summary>Records a call cut off by the run's time bound or cancellation.</summary>
    public void RecordCancelled() => Interlocked.Increment(ref _cancelled);

    /// <summary>The collector of the named step inside this scenario (created on first use).</summary>
    public StatsCollector Step(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (_steps)
        {
            foreach (var (stepName, stats) in _steps)
            {
                if (stepName == name)
                {
                    return stats;
                }
            }

            var created = new StatsCollector();
            _steps.Add((name, created));
            return created;
        }
    }

    /// <summary>A consistent snapshot of everything recorded so far (steps included).</summary>
    public ScenarioStats Snapshot(string name, TimeSpan duration)
    {
        (string Name, StatsCollector Stats)[] steps;
        lock (_steps)
        {
            steps = [.. _steps];
        }

        lock (_gate)
        {
            return new ScenarioStats(
                name,
                _okCount,
                _failCount,
                Interlocked.Read(ref _cancelled),
                _bytes,
                duration,
                Summarize(_ok, _okRange),
                Summarize(_fail, _failRange),
                new Dictionary<string, long>(_errors, StringComparer.Ordinal))
            {
                Steps = steps.Select(s => s.Stats.Snapshot(s.Name, duration)).ToArray(),
            };
        }
    }

    /// <summary>What was recorded since the previous call (or the start), then starts a new interval.</summary>
    public IntervalStats TakeInterval()
    {
        lock (_gate)
        {
            var empty = _intervalOk.TotalCount == 0;
            var result = new IntervalStats(
                _intervalOkCount,
                _intervalFailCount,
                _intervalBytes,
                empty ? 0 : _intervalOk.GetValueAtPercentile(50),
                empty ? 0 : _intervalOk.GetValueAtPercentile(99),
                empty ? 0 : _intervalOk.GetMaxValue());
            _intervalOk.Reset();
            (_intervalOkCount, _intervalFailCount, _intervalBytes) = (0, 0, 0);
            return result;
        }
    }

    // Min and max are kept exactly: the histogram's own are bucket bounds (3 significant digits).
    private static LatencySummary Summarize(HistogramBase histogram, MinMax range) =>
        histogram.TotalCount == 0
            ? default
            : new LatencySummary(
                range.Min,
                histogram.GetMean(),
                range.Max,
                histogram.GetStdDeviation(),
                histogram.GetValueAtPercentile(50),
                histogram.GetValueAtPercentile(75),
                histogram.GetValueAtPercentile(95),
                histogram.GetValueAtPercentile(99));

    private sealed class MinMax
    {
        public long Min { get; private set; } = long.MaxValue;

        public long Max { get; private set; } = long.MinValue;

        public void Add(long value)
        {
            Min = Math.Min(Min, value);
            Max = Math.Max(Max, value);
        }
    }
}
