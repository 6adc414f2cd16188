using System.Globalization;
using Spectre.Console;

namespace ForgeOne.Cli.Infrastructure;

/// <summary>Where a long operation reports how far it got (absolute amounts, from any thread).</summary>
public interface IProgressReporter
{
    /// <summary><paramref name="done"/> of the total is done.</summary>
    void Report(long done);

    /// <summary>The total became known (or changed): work whose size the server reports as it goes.</summary>
    void SetTotal(long total)
    {
    }
}

/// <summary>
/// Progress of a long operation on standard error: a live bar when standard error is a terminal,
/// otherwise plain lines (at each tenth of the total, or every few seconds), nothing in JSON or
/// quiet mode. Standard output stays for the result.
/// </summary>
public static class TransferProgress
{
    private static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="work"/> with a progress reporter labelled <paramref name="label"/>; <paramref name="total"/> null: unknown.</summary>
    public static async Task<T> RunAsync<T>(CliOutput output, string label, long? total, bool bytes, Func<IProgressReporter, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(work);
        if (output.Mode != OutputMode.Human)
        {
            return await work(Silent.Instance).ConfigureAwait(false);
        }

        if (!output.Console.ErrorIsTerminal)
        {
            var plain = new PlainLines(output.Console.Error, label, total, bytes, output.Console.Time);
            var result = await work(plain).ConfigureAwait(false);
            plain.Finish();
            return result;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output.Console.Error),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });
        ProgressColumn[] columns = bytes
            ? [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn()]
            : [new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()];
        return await console.Progress().AutoClear(false).HideCompleted(false).Columns(columns).StartAsync(async ctx =>
        {
            var task = ctx.AddTask(Markup.Escape(label), maxValue: Math.Max(1, total ?? 1));
            task.IsIndeterminate = total is null;
            return await work(new Bar(task)).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private sealed class Silent : IProgressReporter
    {
        public static readonly Silent Instance = new();

        public void Report(long done)
        {
        }
    }

    private sealed class Bar(ProgressTask task) : IProgressReporter
    {
        public void Report(long done) => task.Value = done;

        public void SetTotal(long total)
        {
            task.MaxValue = Math.Max(1, total);
            task.IsIndeterminate = false;
        }
    }

    /// <summary>Plain progress lines for a log or a pipe: few enough to read, often enough to see it moving.</summary>
    private sealed class PlainLines(TextWriter error, string label, long? initialTotal, bool bytes, TimeProvider time) : IProgressReporter
    {
        private readonly Lock _gate = new();
        private long? _total = initialTotal;
        private long _started = time.GetTimestamp();
        private long _lastLine = time.GetTimestamp();
        private int _lastTenth;
        private long _done;

        public void Report(long done)
        {
            lock (_gate)
            {
                _done = done;
                var tenth = _total is > 0 ? (int)Math.Min(10, done * 10 / _total.Value) : 0;
                if (tenth > _lastTenth || time.GetElapsedTime(_lastLine) >= PlainInterval)
                {
                    _lastTenth = Math.Max(_lastTenth, tenth);
                    _lastLine = time.GetTimestamp();
                    error.WriteLine(Describe(done));
                    error.Flush();
                }
            }
        }

        public void SetTotal(long value)
        {
            lock (_gate)
            {
                _total = value;
            }
        }

        public void Finish()
        {
            lock (_gate)
            {
                if (_lastTenth < 10)
                {
                    error.WriteLine(Describe(_done));
                }

                error.WriteLine($"{label}: done in {time.GetElapsedTime(_started).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
                error.Flush();
                _started = 0;
            }
        }

        private string Describe(long done)
        {
            var amount = bytes ? CliOutput.Bytes(done) : done.ToString(CultureInfo.InvariantCulture);
            if (_total is not > 0)
            {
                return $"{label}: {amount}";
            }

            var of = bytes ? CliOutput.Bytes(_total.Value) : _total.Value.ToString(CultureInfo.InvariantCulture);
            return $"{label}: {amount} of {of} ({(done * 100 / _total.Value).ToString(CultureInfo.InvariantCulture)}%)";
        }
    }
}
