using HdrHistogram;

namespace ForgeOne.LoadRunner;

/// <summary>Latency percentiles in microseconds (the unit the histogram records in).</summary>
public readonly record struct LatencySummary(long P50Us, long P75Us, long P95Us, long P99Us, long MaxUs, double MeanUs)
{
    /// <summary>Microseconds to milliseconds, for reports.</summary>
    public static double ToMs(long micros) => micros / 1000.0;
}

/// <summary>
/// The result of one scenario. <see cref="Requests"/> = <see cref="Ok"/> + <see cref="Fail"/>;
/// calls cut off by the run's time bound are counted in <see cref="Cancelled"/> only, so a bounded
/// run does not report them as system failures. <see cref="Latency"/> covers successful calls
/// (fast failures would otherwise flatter the percentiles); <see cref="FailLatency"/> the failures.
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
    /// <summary>Completed calls, ok or failed.</summary>
    public long Requests => Ok + Fail;

    /// <summary>Completed calls per second over the scenario's measured duration.</summary>
    public double Rps => Duration > TimeSpan.Zero ? Requests / Duration.TotalSeconds : 0;

    /// <summary>Successful calls per second.</summary>
    public double OkRps => Duration > TimeSpan.Zero ? Ok / Duration.TotalSeconds : 0;

    /// <summary>Bytes per second (as reported by the step) over the measured duration.</summary>
    public double BytesPerSecond => Duration > TimeSpan.Zero ? Bytes / Duration.TotalSeconds : 0;
}

/// <summary>
/// Thread-safe accumulator for one scenario. Latencies are recorded in microseconds into
/// HdrHistograms (3 significant digits, up to one hour); longer values are clamped to the top
/// rather than thrown away, so a pathological stall still shows as the max.
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
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private long _okCount;
    private long _failCount;
    private long _cancelled;
    private long _bytes;

    /// <summary>Records one completed call.</summary>
    public void Record(StepResult result, long latencyMicros)
    {
        var value = Math.Clamp(latencyMicros, 0, HighestTrackableMicros);
        lock (_gate)
        {
            _bytes += result.Bytes;
            if (result.IsOk)
            {
                _okCount++;
                _ok.RecordValue(value);
                return;
            }

            _failCount++;
            _fail.RecordValue(value);
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

    /// <summary>A consistent snapshot of everything recorded so far.</summary>
    public ScenarioStats Snapshot(string name, TimeSpan duration)
    {
        lock (_gate)
        {
            return new ScenarioStats(
                name,
                _okCount,
                _failCount,
                Interlocked.Read(ref _cancelled),
                _bytes,
                duration,
                Summarize(_ok),
                Summarize(_fail),
                new Dictionary<string, long>(_errors, StringComparer.Ordinal));
        }
    }

    /// <summary>Percentiles of a histogram; all zero when it is empty.</summary>
    public static LatencySummary Summarize(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.TotalCount == 0)
        {
            return default;
        }

        return new LatencySummary(
            histogram.GetValueAtPercentile(50),
            histogram.GetValueAtPercentile(75),
            histogram.GetValueAtPercentile(95),
            histogram.GetValueAtPercentile(99),
            histogram.GetMaxValue(),
            histogram.GetMean());
    }
}
