namespace ForgeOne.LoadRunner;

/// <summary>
/// The outcome of one step invocation: ok or failed, how many bytes it moved (request plus
/// response, as the step sees fit), and for a failure a short reason grouped in the report.
/// </summary>
public readonly record struct StepResult(bool IsOk, long Bytes, string? Error)
{
    /// <summary>A successful call that moved <paramref name="bytes"/> bytes.</summary>
    public static StepResult Ok(long bytes = 0) => new(true, bytes, null);

    /// <summary>A failed call; <paramref name="error"/> is counted per distinct text in the report.</summary>
    public static StepResult Fail(string? error = null, long bytes = 0) => new(false, bytes, error ?? "failed");
}

/// <summary>
/// What a step knows about its own invocation. <see cref="InvocationNumber"/> counts from 0 per
/// scenario in start order, so a step can pick deterministic data (key n, fail every 10th call).
/// </summary>
public sealed record ScenarioContext(string ScenarioName, long InvocationNumber, CancellationToken CancellationToken);

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

    /// <summary>Returns a copy with these load simulations (executed in sequence).</summary>
    public Scenario WithLoadSimulations(params LoadSimulation[] simulations) => this with { Simulations = simulations };

    /// <summary>Returns a copy with an init hook.</summary>
    public Scenario WithInit(Func<CancellationToken, Task> init) => this with { Init = init };

    /// <summary>Returns a copy with a clean hook.</summary>
    public Scenario WithClean(Func<CancellationToken, Task> clean) => this with { Clean = clean };
}
