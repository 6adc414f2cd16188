namespace ForgeOne.LoadRunner;

/// <summary>How a run is bounded and where its reports go.</summary>
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

    /// <summary>Folder for the Markdown, HTML and CSV reports; null writes no files.</summary>
    public string? ReportFolder { get; init; } = "reports";

    /// <summary>Where the console summary goes; null prints nothing.</summary>
    public TextWriter? Console { get; init; } = System.Console.Out;

    /// <summary>The clock: real time by default, a fake one in tests.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Runs scenarios concurrently under their load simulations, within the in-flight and time
/// bounds of <see cref="LoadRunnerOptions"/>, and returns (and writes) the report.
/// </summary>
public sealed class ScenarioRunner
{
    // Sleeping for less than this is pointless (timer resolution); such starts go out immediately
    // and their latency is still measured from their intended time.
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(1);

    private readonly LoadRunnerOptions _options;

    /// <summary>Creates a runner; the options are validated here, not halfway through a run.</summary>
    public ScenarioRunner(LoadRunnerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxInFlight);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.DrainTimeout, TimeSpan.Zero);
        _options = options;
    }

    /// <summary>
    /// Runs every scenario's init, then all load concurrently, then every clean; writes the
    /// reports and prints the console summary as configured.
    /// </summary>
    public async Task<RunReport> RunAsync(IReadOnlyList<Scenario> scenarios, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenarios);
        if (scenarios.Select(s => s.Name).Distinct(StringComparer.Ordinal).Count() != scenarios.Count)
        {
            throw new ArgumentException("Scenario names must be unique: reports are keyed by them.", nameof(scenarios));
        }

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
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, cancellationToken);
        using var inFlight = new SemaphoreSlim(_options.MaxInFlight, _options.MaxInFlight);

        var runs = scenarios.Select(s => new ScenarioRun(s, time, inFlight, linked.Token)).ToArray();
        await Task.WhenAll(runs.Select(r => r.ScheduleAsync())).ConfigureAwait(false);

        // Drain: take every in-flight slot, i.e. wait for every started call. Once the time bound
        // has passed that wait is itself bounded, so a step that ignores cancellation cannot hang the run.
        var drained = await DrainAsync(inFlight, linked.Token).ConfigureAwait(false);
        var stoppedByBound = bound.IsCancellationRequested || !drained;
        var duration = time.GetElapsedTime(started);

        foreach (var scenario in scenarios)
        {
            if (scenario.Clean is not null)
            {
                await scenario.Clean(CancellationToken.None).ConfigureAwait(false);
            }
        }

        var report = new RunReport(
            _options.Name,
            startedAt,
            duration,
            stoppedByBound,
            runs.Select(r => r.Stats.Snapshot(r.Scenario.Name, r.Duration ?? duration)).ToArray());

        if (_options.ReportFolder is not null)
        {
            await ReportWriter.WriteAsync(report, _options.ReportFolder, CancellationToken.None).ConfigureAwait(false);
        }

        _options.Console?.Write(ReportRenderer.ConsoleTable(report));
        return report;
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
                    // The bound passed while calls were still running: from here on, wait at most DrainTimeout.
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

    /// <summary>The live state of one scenario during a run.</summary>
    private sealed class ScenarioRun(Scenario scenario, TimeProvider time, SemaphoreSlim inFlight, CancellationToken token)
    {
        private readonly long _started = time.GetTimestamp();
        private long _invocations;
        private long _lastCompletion;

        public Scenario Scenario { get; } = scenario;

        public StatsCollector Stats { get; } = new();

        /// <summary>From the scenario's start to its last completed call; null when none completed.</summary>
        public TimeSpan? Duration => Volatile.Read(ref _lastCompletion) is var last && last == 0
            ? null
            : TimeSpan.FromTicks((long)((last - _started) * ((double)TimeSpan.TicksPerSecond / time.TimestampFrequency)));

        public async Task ScheduleAsync()
        {
            try
            {
                foreach (var phase in LoadPlanner.Plan(Scenario.Simulations))
                {
                    if (phase.IsOpen)
                    {
                        await RunOpenAsync(phase).ConfigureAwait(false);
                    }
                    else
                    {
                        await DelayUntilAsync(phase.Start).ConfigureAwait(false);
                        // Each loop on the thread pool: a step that completes synchronously would
                        // otherwise run the first loop to the end before the second one starts.
                        var loops = Enumerable.Range(0, phase.Copies).Select(_ => Task.Run(() => RunClosedLoopAsync(phase.End), token));
                        await Task.WhenAll(loops).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Time bound or caller cancellation: stop starting calls; the runner drains.
            }
        }

        private async Task RunOpenAsync(PlannedPhase phase)
        {
            foreach (var offset in phase.StartOffsets())
            {
                await DelayUntilAsync(offset).ConfigureAwait(false);
                await AcquireAsync().ConfigureAwait(false);
                var intended = _started + (long)(offset.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

                // Dispatched, not called inline: a synchronous (CPU-bound) step must not hold up
                // the timetable, or the open model would quietly become a single closed loop.
                _ = Task.Run(() => InvokeAsync(intended), CancellationToken.None);
            }
        }

        private async Task RunClosedLoopAsync(TimeSpan end)
        {
            while (time.GetElapsedTime(_started) < end)
            {
                await AcquireAsync().ConfigureAwait(false);

                // Closed model: the next call starts when this one ends, so "intended" is now.
                await InvokeAsync(time.GetTimestamp()).ConfigureAwait(false);
            }
        }

        // A slot freed by a call that was itself cancelled can reach this waiter before the
        // waiter sees the cancellation: re-check, so no call starts after the time bound.
        private async Task AcquireAsync()
        {
            await inFlight.WaitAsync(token).ConfigureAwait(false);
            if (token.IsCancellationRequested)
            {
                inFlight.Release();
                token.ThrowIfCancellationRequested();
            }
        }

        private async Task DelayUntilAsync(TimeSpan offset)
        {
            var due = offset - time.GetElapsedTime(_started);
            if (due >= MinDelay)
            {
                await Task.Delay(due, time, token).ConfigureAwait(false);
            }

            token.ThrowIfCancellationRequested();
        }

        // Called with an in-flight slot held; releases it. Never throws.
        private async Task InvokeAsync(long intendedTimestamp)
        {
            try
            {
                var number = Interlocked.Increment(ref _invocations) - 1;
                StepResult result;
                try
                {
                    result = await Scenario.Step(new ScenarioContext(Scenario.Name, number, token)).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    Stats.RecordCancelled();
                    return;
                }
                catch (Exception ex)
                {
                    result = StepResult.Fail(ex.GetType().Name);
                }

                var now = time.GetTimestamp();
                var micros = (long)((now - intendedTimestamp) * (1_000_000.0 / time.TimestampFrequency));
                Stats.Record(result, micros);
                Volatile.Write(ref _lastCompletion, now);
            }
            finally
            {
                try
                {
                    inFlight.Release();
                }
                catch (ObjectDisposedException)
                {
                    // The run ended without this call: it ignored cancellation past the drain timeout.
                }
            }
        }
    }
}
