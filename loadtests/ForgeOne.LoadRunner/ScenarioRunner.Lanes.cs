namespace ForgeOne.LoadRunner;

public sealed partial class ScenarioRunner
{
    // Sleeping for less than this is pointless (timer resolution); such starts go out immediately
    // and their latency is still measured from their intended time.
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(1);

    /// <summary>One scenario's live state: its collectors, counters, timeline and threshold checks.</summary>
    private sealed class Member(Scenario scenario, int order)
    {
        private readonly int[] _failedChecks = new int[scenario.Thresholds.Count];
        private readonly int[] _checks = new int[scenario.Thresholds.Count];
        private readonly bool[] _aborted = new bool[scenario.Thresholds.Count];
        private long _invocations;
        private long _warmInvocations;
        private long _lastCompletion;

        public Scenario Scenario { get; } = scenario;

        public int Order { get; } = order;

        public StatsCollector Stats { get; } = new();

        public StatsCollector WarmUpStats { get; } = new();

        public List<TimelinePoint> Points { get; } = [];

        /// <summary>Timestamp at which the measured load started; 0 while warming up.</summary>
        public long MeasuredStart { get; set; }

        public long NextInvocation(bool warm) => warm ? Interlocked.Increment(ref _warmInvocations) - 1 : Interlocked.Increment(ref _invocations) - 1;

        public void Completed(long timestamp) => Volatile.Write(ref _lastCompletion, timestamp);

        /// <summary>From the measured start to the last completed call; <paramref name="fallback"/> when none completed.</summary>
        public TimeSpan Duration(TimeProvider time, TimeSpan fallback)
        {
            var last = Volatile.Read(ref _lastCompletion);
            return MeasuredStart == 0 || last == 0 ? fallback : time.GetElapsedTime(MeasuredStart, last);
        }

        public ScenarioStats Snapshot(TimeProvider time, TimeSpan fallback) => Stats.Snapshot(Scenario.Name, Duration(time, fallback));

        /// <summary>Checks the runtime thresholds; true when one of them has now failed often enough to abort the run.</summary>
        public bool Check(TimeProvider time)
        {
            if (MeasuredStart == 0 || Scenario.Thresholds.Count == 0)
            {
                return false;
            }

            var measuredFor = time.GetElapsedTime(MeasuredStart);
            ScenarioStats? stats = null;
            var abort = false;
            for (var i = 0; i < Scenario.Thresholds.Count; i++)
            {
                var threshold = Scenario.Thresholds[i];
                if (measuredFor < threshold.StartCheckAfter)
                {
                    continue;
                }

                // While running, rates are over the time measured so far.
                stats ??= Stats.Snapshot(Scenario.Name, measuredFor);
                _checks[i]++;
                if (!threshold.Parsed.Holds(threshold.Parsed.Measure(threshold.Select(stats))))
                {
                    _failedChecks[i]++;
                    if (_failedChecks[i] >= threshold.AbortWhenErrorCount)
                    {
                        _aborted[i] = true;
                        abort = true;
                    }
                }
            }

            return abort;
        }

        public IEnumerable<ThresholdResult> FinalThresholds(ScenarioStats final) =>
            Scenario.Thresholds.Select((t, i) =>
            {
                var actual = t.Parsed.Measure(t.Select(final));
                var passed = t.Parsed.Holds(actual) && !_aborted[i];
                return new ThresholdResult(Scenario.Name, t.Step, t.Expression, passed, actual, _checks[i] + 1, _failedChecks[i] + (t.Parsed.Holds(actual) ? 0 : 1), _aborted[i]);
            });
    }

    /// <summary>
    /// One timeline of load: a scenario's own, or the shared load of the weighted scenarios, whose
    /// invocations are dealt out by smooth weighted round robin (exact proportions, evenly mixed).
    /// </summary>
    private sealed class Lane(Member[] members, IReadOnlyList<PlannedPhase> plan, TimeSpan warmUp, TimeProvider clock)
    {
        private readonly int[] _current = new int[members.Length];
        private readonly int _totalWeight = members.Sum(m => Math.Max(1, m.Scenario.Weight));
        private bool _measuring;

        public Member[] Members { get; } = members;

        public IReadOnlyList<PlannedPhase> Plan { get; } = plan;

        public TimeSpan WarmUp { get; } = warmUp;

        public Task Start(SemaphoreSlim inFlight, CancellationToken token) =>
            new Player(this, clock, inFlight, token).RunAsync();

        /// <summary>Adds a timeline point per member (measured load only) and returns the live progress rows.</summary>
        public IEnumerable<ProgressRow> AddPoints(TimeSpan elapsed, bool final)
        {
            var rows = new List<ProgressRow>();
            if (!Volatile.Read(ref _measuring))
            {
                return rows;
            }

            foreach (var member in Members)
            {
                var interval = member.Stats.TakeInterval();
                if (final && interval.Ok + interval.Fail == 0)
                {
                    continue; // the last partial interval only when something happened in it
                }

                lock (member.Points)
                {
                    member.Points.Add(new TimelinePoint(elapsed, interval));
                }

                rows.Add(new ProgressRow(member.Scenario.Name, interval, member.Stats.Snapshot(member.Scenario.Name, clock.GetElapsedTime(member.MeasuredStart))));
            }

            return rows;
        }

        public bool CheckThresholds() => Members.Aggregate(false, (abort, m) => m.Check(clock) | abort);

        private Member Pick()
        {
            if (Members.Length == 1)
            {
                return Members[0];
            }

            lock (_current)
            {
                var best = 0;
                for (var i = 0; i < Members.Length; i++)
                {
                    _current[i] += Members[i].Scenario.Weight;
                    if (_current[i] > _current[best])
                    {
                        best = i;
                    }
                }

                _current[best] -= _totalWeight;
                return Members[best];
            }
        }

        /// <summary>Plays the plan: once for the warm-up (cut at its length), then measured.</summary>
        private sealed class Player(Lane lane, TimeProvider time, SemaphoreSlim inFlight, CancellationToken token)
        {
            private long _origin;
            private TimeSpan? _until;
            private bool _warm;

            public async Task RunAsync()
            {
                try
                {
                    if (lane.WarmUp > TimeSpan.Zero)
                    {
                        (_origin, _until, _warm) = (time.GetTimestamp(), lane.WarmUp, true);
                        await PlayAsync().ConfigureAwait(false);
                        await DelayUntilAsync(lane.WarmUp).ConfigureAwait(false);
                    }

                    (_origin, _until, _warm) = (time.GetTimestamp(), null, false);
                    foreach (var member in lane.Members)
                    {
                        member.MeasuredStart = _origin;
                    }

                    // Discard anything a warm-up call finishing late put in an interval.
                    foreach (var member in lane.Members)
                    {
                        member.Stats.TakeInterval();
                    }

                    Volatile.Write(ref lane._measuring, true);
                    await PlayAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    // Time bound, abort or caller cancellation: stop starting calls; the runner drains.
                }
            }

            private async Task PlayAsync()
            {
                foreach (var phase in lane.Plan)
                {
                    if (_until is { } until && phase.Start >= until)
                    {
                        return;
                    }

                    switch (phase.Kind)
                    {
                        case PhaseKind.Open:
                            await RunOpenAsync(phase).ConfigureAwait(false);
                            break;
                        case PhaseKind.Pause:
                            await DelayUntilAsync(Cut(phase.End!.Value)).ConfigureAwait(false);
                            break;
                        case PhaseKind.Closed when phase.Iterations is { } iterations:
                            {
                                var budget = new[] { iterations };
                                await Task.WhenAll(Enumerable.Range(0, phase.Copies).Select(_ => Task.Run(() => RunClosedLoopAsync(phase.Start, null, budget), token))).ConfigureAwait(false);
                                break;
                            }

                        default:
                            // Each loop on the thread pool: a step that completes synchronously would
                            // otherwise run the first loop to the end before the second one starts.
                            await Task.WhenAll(phase.Loops.Select(w => Task.Run(() => RunClosedLoopAsync(w.Start, Cut(w.End), null), token))).ConfigureAwait(false);
                            break;
                    }
                }
            }

            private TimeSpan Cut(TimeSpan end) => _until is { } until && until < end ? until : end;

            private async Task RunOpenAsync(PlannedPhase phase)
            {
                foreach (var offset in phase.StartOffsets())
                {
                    if (offset >= _until)
                    {
                        return;
                    }

                    await DelayUntilAsync(offset).ConfigureAwait(false);
                    await AcquireAsync().ConfigureAwait(false);
                    var intended = _origin + (long)(offset.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

                    // Dispatched, not called inline: a synchronous (CPU-bound) step must not hold up
                    // the timetable, or the open model would quietly become a single closed loop.
                    var warm = _warm;
                    _ = Task.Run(() => InvokeAsync(intended, warm), CancellationToken.None);
                }
            }

            private async Task RunClosedLoopAsync(TimeSpan start, TimeSpan? end, long[]? budget)
            {
                await DelayUntilAsync(start).ConfigureAwait(false);
                while (end is null ? _until is null || Elapsed < _until : Elapsed < end)
                {
                    if (budget is not null && Interlocked.Decrement(ref budget[0]) < 0)
                    {
                        return;
                    }

                    await AcquireAsync().ConfigureAwait(false);

                    // Closed model: the next call starts when this one ends, so "intended" is now.
                    await InvokeAsync(time.GetTimestamp(), _warm).ConfigureAwait(false);
                }
            }

            private TimeSpan Elapsed => time.GetElapsedTime(_origin);

            // A slot freed by a call that was itself cancelled can reach this waiter before the
            // waiter sees the cancellation: re-check, so no call starts after the run stopped.
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
                var due = offset - Elapsed;
                if (due >= MinDelay)
                {
                    await Task.Delay(due, time, token).ConfigureAwait(false);
                }

                token.ThrowIfCancellationRequested();
            }

            // Called with an in-flight slot held; releases it. Never throws.
            private async Task InvokeAsync(long intendedTimestamp, bool warm)
            {
                try
                {
                    var member = lane.Pick();
                    var stats = warm ? member.WarmUpStats : member.Stats;
                    var context = new ScenarioContext(member.Scenario.Name, member.NextInvocation(warm), token, stats, time);
                    StepResult result;
                    try
                    {
                        result = await member.Scenario.Step(context).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested)
                    {
                        stats.RecordCancelled();
                        return;
                    }
                    catch (Exception ex)
                    {
                        result = StepResult.Fail(ex.GetType().Name);
                    }

                    var now = time.GetTimestamp();
                    stats.Record(result, (long)time.GetElapsedTime(intendedTimestamp, now).TotalMicroseconds);
                    if (!warm)
                    {
                        member.Completed(now);
                    }
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
}
