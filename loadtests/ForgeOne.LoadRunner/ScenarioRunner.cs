namespace ForgeOne.LoadRunner;

/// <summary>How a run is bounded, what it prints while it runs, and where its reports go.</summary>
public sealed record LoadRunnerOptions
{
    /// <summary>Report title and file base name.</summary>
    public string Name { get; init; } = "load-report";

    /// <summary>
    /// At most this many step calls run at once across all scenarios. An open-model start that
    /// finds the bound reached waits for a slot; its latency still counts from the intended
    /// start, so the wait shows in the percentiles instead of silently lowering the load.
    /// </summary>
    public int MaxInFlight { get; init; } = 1024;

    /// <summary>Hard bound on the load phase of the run: when it passes, no new calls start and running calls are cancelled.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long calls may take to honour cancellation after the time bound before they are abandoned.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the timeline gets a point, runtime thresholds are checked and live progress is redrawn.</summary>
    public TimeSpan ReportingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Folder for the Markdown, CSV, text and HTML reports; null writes no files.</summary>
    public string? ReportFolder { get; init; } = "reports";

    /// <summary>Where the final summary goes; null prints nothing.</summary>
    public TextWriter? Console { get; init; } = System.Console.Out;

    /// <summary>Where live progress goes (each reporting interval); null shows none.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>Redraw the progress table in place (a terminal) or print plain lines (a log). Null: in place when the writer is an interactive console.</summary>
    public bool? ProgressInPlace { get; init; }

    /// <summary>Seed of the random load simulations, so a run can be repeated.</summary>
    public int Seed { get; init; }

    /// <summary>Facts about the run (target, run file, machine) shown in the reports.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Configuration { get; init; } = [];

    /// <summary>The clock: real time by default, a fake one in tests.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Runs scenarios concurrently under their load simulations, within the in-flight and time
/// bounds of <see cref="LoadRunnerOptions"/>; checks thresholds while running and at the end;
/// returns (and writes) the report.
/// </summary>
/// <remarks>
/// A run, per lane (one scenario, or one group of weighted scenarios sharing a load):
/// <code>
///   init (all) -> [warm-up: plan played for WarmUp, stats discarded] -> measured: plan played
///              -> drain in-flight calls -> clean (all) -> final threshold checks -> report
/// </code>
/// A reporting tick runs beside it: timeline point, runtime threshold checks (which may abort the
/// run), live progress.
/// </remarks>
public sealed partial class ScenarioRunner
{
    private readonly LoadRunnerOptions _options;

    /// <summary>Creates a runner; the options are validated here, not halfway through a run.</summary>
    public ScenarioRunner(LoadRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxInFlight);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DrainTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReportingInterval, TimeSpan.FromMilliseconds(10));
        _options = options;
    }

    /// <summary>
    /// Runs every scenario's init, then all load concurrently, then every clean; writes the
    /// reports and prints the summary as configured. Invalid scenarios (duplicate names, weighted
    /// scenarios with different loads, a mixed iterations plan) throw before any init runs.
    /// </summary>
    public async Task<RunReport> RunAsync(IReadOnlyList<Scenario> scenarios, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        var lanes = BuildLanes(scenarios);
        var time = _options.Time;
        foreach (var scenario in scenarios)
        {
            if (scenario.Init is not null)
            {
                await scenario.Init(cancellationToken).ConfigureAwait(false);
            }
        }

        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        using var bound = new CancellationTokenSource(_options.MaxDuration, time);
        using var abort = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, abort.Token, cancellationToken);
        using var inFlight = new SemaphoreSlim(_options.MaxInFlight, _options.MaxInFlight);
        var live = new LiveProgress(_options.Progress, _options.ProgressInPlace, _options.ReportingInterval);

        var runs = lanes.Select(l => l.Start(inFlight, linked.Token)).ToArray();
        using var ticking = new CancellationTokenSource();
        var ticker = TickAsync(lanes, started, abort, live, ticking.Token);
        await Task.WhenAll(runs).ConfigureAwait(false);

        // Drain: take every in-flight slot, i.e. wait for every started call. Once the run has
        // been stopped that wait is itself bounded, so a step that ignores cancellation cannot hang it.
        var drained = await DrainAsync(inFlight, linked.Token).ConfigureAwait(false);
        await ticking.CancelAsync().ConfigureAwait(false);
        await ticker.ConfigureAwait(false);
        var duration = time.GetElapsedTime(started);
        foreach (var lane in lanes)
        {
            lane.AddPoints(time.GetElapsedTime(started), final: true);
        }

        foreach (var scenario in scenarios)
        {
            if (scenario.Clean is not null)
            {
                await scenario.Clean(CancellationToken.None).ConfigureAwait(false);
            }
        }

        var reason = abort.IsCancellationRequested ? StopReason.ThresholdAbort
            : cancellationToken.IsCancellationRequested ? StopReason.Cancelled
            : bound.IsCancellationRequested || !drained ? StopReason.TimeBound
            : StopReason.Completed;
        var members = lanes.SelectMany(l => l.Members).OrderBy(m => m.Order).ToArray();
        var stats = members.Select(m => m.Snapshot(time, duration)).ToArray();
        var report = new RunReport(_options.Name, startedAt, duration, reason, stats)
        {
            Thresholds = members.Zip(stats).SelectMany(p => p.First.FinalThresholds(p.Second)).ToArray(),
            Timelines = members.Select(m => new ScenarioTimeline(m.Scenario.Name, _options.ReportingInterval, m.Points)).ToArray(),
            Plans = members.Select(m => new ScenarioPlan(m.Scenario.Name, m.Scenario.Weight, m.Scenario.WarmUp, m.Scenario.Simulations.Select(s => s.Describe()).ToArray())).ToArray(),
            Configuration =
            [
                .. _options.Configuration,
                new("max in flight", _options.MaxInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("max duration", DurationText.Format(_options.MaxDuration)),
                new("seed", _options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ],
        };

        if (_options.ReportFolder is not null)
        {
            await ReportWriter.WriteAsync(report, _options.ReportFolder, CancellationToken.None).ConfigureAwait(false);
        }

        _options.Console?.Write(ReportRenderer.Text(report));
        return report;
    }

    private Lane[] BuildLanes(IReadOnlyList<Scenario> scenarios)
    {
        if (scenarios.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != scenarios.Count)
        {
            throw new ArgumentException("Scenario names must be unique: reports are keyed by them.", nameof(scenarios));
        }

        if (scenarios.Any(s => s.Weight < 0 || s.WarmUp < TimeSpan.Zero))
        {
            throw new ArgumentException("Weights and warm-ups cannot be negative.", nameof(scenarios));
        }

        var members = scenarios.Select((s, i) => new Member(s, i)).ToArray();
        var weighted = members.Where(m => m.Scenario.Weight > 0).ToArray();
        if (weighted.Length > 0)
        {
            var first = weighted[0].Scenario;
            var different = weighted.FirstOrDefault(m => !m.Scenario.Simulations.SequenceEqual(first.Simulations) || m.Scenario.WarmUp != first.WarmUp);
            if (different is not null)
            {
                throw new ArgumentException(
                    $"Weighted scenarios share one load: '{different.Scenario.Name}' must have the same load simulations and warm-up as '{first.Name}'.", nameof(scenarios));
            }
        }

        var lanes = members.Where(m => m.Scenario.Weight == 0)
            .Select(m => new Lane([m], LoadPlanner.Plan(m.Scenario.Simulations, _options.Seed), m.Scenario.WarmUp, _options.Time))
            .ToList();
        if (weighted.Length > 0)
        {
            lanes.Add(new Lane(weighted, LoadPlanner.Plan(weighted[0].Scenario.Simulations, _options.Seed), weighted[0].Scenario.WarmUp, _options.Time));
        }

        return [.. lanes];
    }

    private async Task TickAsync(Lane[] lanes, long started, CancellationTokenSource abort, LiveProgress live, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.ReportingInterval, _options.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var elapsed = _options.Time.GetElapsedTime(started);
                var rows = new List<ProgressRow>();
                foreach (var lane in lanes)
                {
                    rows.AddRange(lane.AddPoints(elapsed, final: false));
                    if (lane.CheckThresholds())
                    {
                        await abort.CancelAsync().ConfigureAwait(false);
                    }
                }

                live.Show(elapsed, rows);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run has drained.
        }

        live.Finish();
    }

    private async Task<bool> DrainAsync(SemaphoreSlim inFlight, CancellationToken runToken)
    {
        var acquired = 0;
        long? cancelledAt = null;
        while (acquired < _options.MaxInFlight)
        {
            if (cancelledAt is null && !runToken.IsCancellationRequested)
            {
                try
                {
                    await inFlight.WaitAsync(runToken).ConfigureAwait(false);
                    acquired++;
                }
                catch (OperationCanceledException)
                {
                    // Stopped while calls were still running: from here on, wait at most DrainTimeout.
                }

                continue;
            }

            cancelledAt ??= _options.Time.GetTimestamp();
            var left = _options.DrainTimeout - _options.Time.GetElapsedTime(cancelledAt.Value);
            if (left < TimeSpan.Zero || !await inFlight.WaitAsync(left).ConfigureAwait(false))
            {
                return false; // abandoned calls release into a disposed semaphore; InvokeAsync tolerates that
            }

            acquired++;
        }

        inFlight.Release(acquired);
        return true;
    }
}
