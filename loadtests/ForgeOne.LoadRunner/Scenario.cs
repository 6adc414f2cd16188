namespace ForgeOne.LoadRunner;

/// <summary>
/// The outcome of one step invocation: ok or failed, how many bytes it moved (request plus
/// response, as the step sees fit), and for a failure a short reason (an error code) grouped in the report.
/// </summary>
public readonly record struct StepResult(bool IsOk, long Bytes, string? Error)
{
    /// <summary>A successful call that moved <paramref name="bytes"/> bytes.</summary>
    public static StepResult Ok(long bytes = 0) => new(true, bytes, null);

    /// <summary>A failed call; <paramref name="error"/> is counted per distinct text in the report.</summary>
    public static StepResult Fail(string? error = null, long bytes = 0) => new(false, bytes, error ?? "failed");
}

/// <summary>
/// What a scenario knows about its own invocation. <see cref="InvocationNumber"/> counts from 0 per
/// scenario in start order (warm-up calls have their own count), so a step can pick deterministic
/// data (key n, fail every 10th call). <see cref="StepAsync"/> measures a named part of the invocation.
/// </summary>
public sealed class ScenarioContext
{
    private readonly StatsCollector? _stats;
    private readonly TimeProvider _time;

    /// <summary>Creates a context; <paramref name="stats"/> receives the steps' measurements (none when null).</summary>
    public ScenarioContext(string scenarioName, long invocationNumber, CancellationToken cancellationToken, StatsCollector? stats = null, TimeProvider? time = null)
    {
        ScenarioName = scenarioName;
        InvocationNumber = invocationNumber;
        CancellationToken = cancellationToken;
        _stats = stats;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The scenario's name.</summary>
    public string ScenarioName { get; }

    /// <summary>0-based number of this invocation within the scenario.</summary>
    public long InvocationNumber { get; }

    /// <summary>Cancelled when the run's time bound passes or the run is aborted.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Runs and measures one named step (latency from the step's own start; the scenario's latency
    /// covers the whole invocation). An exception counts as a failure named by its type and is
    /// returned as one, except cancellation of the run, which propagates.
    /// </summary>
    public async ValueTask<StepResult> StepAsync(string name, Func<ValueTask<StepResult>> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var collector = _stats?.Step(name);
        var started = _time.GetTimestamp();
        StepResult result;
        try
        {
            result = await step().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            collector?.RecordCancelled();
            throw;
        }
        catch (Exception ex)
        {
            result = StepResult.Fail(ex.GetType().Name);
        }

        collector?.Record(result, (long)_time.GetElapsedTime(started).TotalMicroseconds);
        return result;
    }
}

/// <summary>
/// A named unit of load: an async step run many times under the given load simulations (run one
/// after another), with optional <see cref="Init"/> before the load starts and <see cref="Clean"/>
/// after it has drained. Immutable: use <c>with</c> or the <c>With*</c> helpers to derive variants.
/// </summary>
public sealed record Scenario
{
    /// <summary>Creates a scenario; <paramref name="name"/> appears in every report.</summary>
    public Scenario(string name, Func<ScenarioContext, ValueTask<StepResult>> step)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(step);
        Name = name;
        Step = step;
    }

    /// <summary>The scenario name used in reports.</summary>
    public string Name { get; init; }

    /// <summary>The measured call. Exceptions count as failures (the exception type is the error text).</summary>
    public Func<ScenarioContext, ValueTask<StepResult>> Step { get; init; }

    /// <summary>Runs once before any load (not measured). An exception aborts the run.</summary>
    public Func<CancellationToken, Task>? Init { get; init; }

    /// <summary>Runs once after the load has drained (not measured), even when the time bound stopped the run.</summary>
    public Func<CancellationToken, Task>? Clean { get; init; }

    /// <summary>The load shape, executed in order. Empty means the scenario is only initialized and cleaned.</summary>
    public IReadOnlyList<LoadSimulation> Simulations { get; init; } = [];

    /// <summary>
    /// Before the measured run, the load simulations are played for this long and their calls
    /// are left out of every statistic (JIT, connection set-up and caches settle first).
    /// </summary>
    public TimeSpan WarmUp { get; init; }

    /// <summary>
    /// 0: the scenario runs its own load. Above 0: it shares one load with the other weighted
    /// scenarios of the run (which must have the same simulations and warm-up), and each
    /// invocation of that load goes to one of them in proportion to the weights.
    /// </summary>
    public int Weight { get; init; }

    /// <summary>Pass/fail criteria checked during the run and at its end.</summary>
    public IReadOnlyList<Threshold> Thresholds { get; init; } = [];

    /// <summary>Returns a copy with these load simulations (executed in sequence).</summary>
    public Scenario WithLoadSimulations(params LoadSimulation[] simulations) => this with { Simulations = simulations };

    /// <summary>Returns a copy with an init hook.</summary>
    public Scenario WithInit(Func<CancellationToken, Task> init) => this with { Init = init };

    /// <summary>Returns a copy with a clean hook.</summary>
    public Scenario WithClean(Func<CancellationToken, Task> clean) => this with { Clean = clean };

    /// <summary>Returns a copy with a warm-up of <paramref name="warmUp"/>.</summary>
    public Scenario WithWarmUp(TimeSpan warmUp) => this with { WarmUp = warmUp };

    /// <summary>Returns a copy with a weight (see <see cref="Weight"/>).</summary>
    public Scenario WithWeight(int weight) => this with { Weight = weight };

    /// <summary>Returns a copy with these thresholds.</summary>
    public Scenario WithThresholds(params Threshold[] thresholds) => this with { Thresholds = thresholds };
}
