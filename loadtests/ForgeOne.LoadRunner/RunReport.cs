using System.Globalization;
using System.Text;

namespace ForgeOne.LoadRunner;

/// <summary>Why a run's load ended.</summary>
public enum StopReason
{
    /// <summary>Every simulation played to its end and every call completed.</summary>
    Completed,

    /// <summary><see cref="LoadRunnerOptions.MaxDuration"/> passed, or calls ignored cancellation past the drain timeout.</summary>
    TimeBound,

    /// <summary>A threshold failed <see cref="Threshold.AbortWhenErrorCount"/> checks during the run.</summary>
    ThresholdAbort,

    /// <summary>The caller cancelled the run.</summary>
    Cancelled,
}

/// <summary>One reporting interval of a scenario, <see cref="At"/> = end of the interval since the run started.</summary>
public readonly record struct TimelinePoint(TimeSpan At, IntervalStats Stats);

/// <summary>A scenario's measured load over time (warm-up excluded).</summary>
public sealed record ScenarioTimeline(string Scenario, TimeSpan Interval, IReadOnlyList<TimelinePoint> Points);

/// <summary>How a scenario was loaded, for the reports.</summary>
public sealed record ScenarioPlan(string Scenario, int Weight, TimeSpan WarmUp, IReadOnlyList<string> Simulations);

/// <summary>
/// The result of a run: one entry per scenario, threshold outcomes, timelines for the charts, and
/// the run's configuration. <see cref="Passed"/> is what a CI gate or an exit code looks at.
/// </summary>
public sealed record RunReport(string Name, DateTimeOffset StartedAt, TimeSpan Duration, StopReason StopReason, IReadOnlyList<ScenarioStats> Scenarios)
{
    /// <summary>Final outcome of every threshold, in scenario order.</summary>
    public IReadOnlyList<ThresholdResult> Thresholds { get; init; } = [];

    /// <summary>Per scenario: ok/fail/bytes and latency per reporting interval.</summary>
    public IReadOnlyList<ScenarioTimeline> Timelines { get; init; } = [];

    /// <summary>Per scenario: weight, warm-up and load simulations.</summary>
    public IReadOnlyList<ScenarioPlan> Plans { get; init; } = [];

    /// <summary>Facts about the run (target, options) shown in the reports.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Configuration { get; init; } = [];

    /// <summary>True when the time bound cut the run short.</summary>
    public bool StoppedByTimeBound => StopReason == StopReason.TimeBound;

    /// <summary>The load ran to its end and every threshold passed.</summary>
    public bool Passed => StopReason == StopReason.Completed && Thresholds.All(t => t.Passed);

    /// <summary>A scenario's stats by name.</summary>
    public ScenarioStats Scenario(string name) =>
        Scenarios.FirstOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"No scenario '{name}' in the report.");
}

/// <summary>
/// Renders a <see cref="RunReport"/> as CSV, Markdown, plain text or HTML. Pure and
/// culture-invariant, so the same report always renders to the same text.
/// </summary>
public static partial class ReportRenderer
{
    private static readonly string[] Columns =
    [
        "scenario", "step", "requests", "ok", "fail", "cancelled", "fail_pct", "rps", "bytes",
        "min_ms", "mean_ms", "max_ms", "stddev_ms", "p50_ms", "p75_ms", "p95_ms", "p99_ms",
    ];

    private static readonly string[] Headings =
    [
        "Scenario", "Step", "Requests", "OK", "Fail", "Cancelled", "Fail %", "RPS", "Bytes",
        "min ms", "mean ms", "max ms", "stddev ms", "p50 ms", "p75 ms", "p95 ms", "p99 ms",
    ];

    /// <summary>RFC 4180 CSV: a header row, then per scenario its row and one per step; latencies in ms with µs precision.</summary>
    public static string Csv(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Columns)).Append('\n');
        foreach (var row in Rows(report))
        {
            sb.Append(string.Join(',', row.Select((cell, i) => i < 2 ? CsvQuote(cell) : cell))).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>A Markdown page: run line, stats table, thresholds, errors with their share, load simulations, configuration.</summary>
    public static string Markdown(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.Append("# Load report: ").Append(MdEscape(report.Name)).Append("\n\n");
        sb.Append(RunLine(report)).Append("\n\n");
        sb.Append("| ").Append(string.Join(" | ", Headings)).Append(" |\n");
        sb.Append("|---|---|").Append(string.Concat(Enumerable.Repeat("---:|", Headings.Length - 2))).Append('\n');
        foreach (var row in Rows(report))
        {
            sb.Append("| ").Append(string.Join(" | ", row.Select(MdEscape))).Append(" |\n");
        }

        if (report.Thresholds.Count > 0)
        {
            sb.Append("\n## Thresholds\n\n| Scope | Threshold | Result | Actual | Failed checks |\n|---|---|---|---:|---:|\n");
            foreach (var t in report.Thresholds)
            {
                sb.Append("| ").Append(MdEscape(t.Scope)).Append(" | `").Append(t.Expression.Replace("`", "'", StringComparison.Ordinal)).Append("` | ")
                  .Append(Verdict(t)).Append(" | ").Append(Actual(t)).Append(" | ")
                  .Append(Inv(t.FailedChecks)).Append(" of ").Append(Inv(t.Checks)).Append(" |\n");
            }
        }

        foreach (var s in report.Scenarios.Where(s => s.Errors.Count > 0))
        {
            sb.Append("\n## Errors: ").Append(MdEscape(s.Name)).Append("\n\n| Error | Count | Share |\n|---|---:|---:|\n");
            foreach (var (error, count) in SortedErrors(s))
            {
                sb.Append("| ").Append(MdEscape(error)).Append(" | ").Append(Inv(count)).Append(" | ").Append(Share(s, error)).Append(" |\n");
            }
        }

        if (report.Plans.Count > 0)
        {
            sb.Append("\n## Load simulations\n\n| Scenario | Weight | Warm-up | Simulations |\n|---|---:|---:|---|\n");
            foreach (var p in report.Plans)
            {
                sb.Append("| ").Append(MdEscape(p.Scenario)).Append(" | ").Append(p.Weight == 0 ? "-" : Inv(p.Weight)).Append(" | ")
                  .Append(DurationText.Format(p.WarmUp)).Append(" | ").Append(MdEscape(string.Join("; ", p.Simulations))).Append(" |\n");
            }
        }

        if (report.Configuration.Count > 0)
        {
            sb.Append("\n## Configuration\n\n| Setting | Value |\n|---|---|\n");
            foreach (var (key, value) in report.Configuration)
            {
                sb.Append("| ").Append(MdEscape(key)).Append(" | ").Append(MdEscape(value)).Append(" |\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>Plain text (the console summary): run line, an aligned table, thresholds and errors.</summary>
    public static string Text(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.Append(RunLine(report)).Append('\n');
        string[] shown = ["scenario", "step", "requests", "ok", "fail", "fail_pct", "rps", "bytes", "mean_ms", "p50_ms", "p75_ms", "p95_ms", "p99_ms", "max_ms"];
        var indexes = shown.Select(c => Array.IndexOf(Columns, c)).ToArray();
        var rows = new List<string[]> { shown };
        rows.AddRange(Rows(report).Select(r => indexes.Select(i => r[i]).ToArray()));
        AppendAligned(sb, rows, leftColumns: 2);
        if (report.Thresholds.Count > 0)
        {
            sb.Append("thresholds:\n");
            foreach (var t in report.Thresholds)
            {
                sb.Append("  ").Append(Verdict(t)).Append("  ").Append(t.Scope).Append(": ").Append(t.Expression)
                  .Append(" (actual ").Append(Actual(t)).Append(", failed checks ").Append(Inv(t.FailedChecks)).Append('/').Append(Inv(t.Checks)).Append(")\n");
            }
        }

        foreach (var s in report.Scenarios.Where(s => s.Errors.Count > 0))
        {
            sb.Append("errors of ").Append(s.Name).Append(":\n");
            foreach (var (error, count) in SortedErrors(s))
            {
                sb.Append("  ").Append(error).Append(": ").Append(Inv(count)).Append(" (").Append(Share(s, error)).Append(")\n");
            }
        }

        return sb.ToString();
    }

    private static void AppendAligned(StringBuilder sb, List<string[]> rows, int leftColumns)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (var i = 0; i < row.Length; i++)
            {
                line.Append(i == 0 ? string.Empty : "  ").Append(i < leftColumns ? row[i].PadRight(widths[i]) : row[i].PadLeft(widths[i]));
            }

            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }
    }

    private static IEnumerable<string[]> Rows(RunReport report)
    {
        foreach (var s in report.Scenarios)
        {
            yield return Cells(s.Name, string.Empty, s);
            foreach (var step in s.Steps)
            {
                yield return Cells(s.Name, step.Name, step);
            }
        }
    }

    private static string RunLine(RunReport report)
    {
        var outcome = report.StopReason switch
        {
            StopReason.TimeBound => ", stopped by the time bound",
            StopReason.ThresholdAbort => ", aborted by a threshold",
            StopReason.Cancelled => ", cancelled",
            _ => string.Empty,
        };
        var verdict = report.Thresholds.Count == 0 && report.StopReason == StopReason.Completed ? string.Empty : report.Passed ? " PASSED." : " FAILED.";
        return string.Create(CultureInfo.InvariantCulture,
            $"Started {report.StartedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}, duration {report.Duration.TotalSeconds:0.000} s{outcome}.{verdict}");
    }

    private static string[] Cells(string scenario, string step, ScenarioStats s) =>
    [
        scenario,
        step,
        Inv(s.Requests),
        Inv(s.Ok),
        Inv(s.Fail),
        Inv(s.Cancelled),
        s.FailPercent.ToString("0.00", CultureInfo.InvariantCulture),
        s.Rps.ToString("0.0", CultureInfo.InvariantCulture),
        Inv(s.Bytes),
        Ms(s.Latency.MinUs),
        Ms(s.Latency.MeanUs),
        Ms(s.Latency.MaxUs),
        Ms(s.Latency.StdDevUs),
        Ms(s.Latency.P50Us),
        Ms(s.Latency.P75Us),
        Ms(s.Latency.P95Us),
        Ms(s.Latency.P99Us),
    ];

    private static IEnumerable<KeyValuePair<string, long>> SortedErrors(ScenarioStats s) =>
        s.Errors.OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal);

    private static string Share(ScenarioStats s, string error) => s.ErrorPercent(error).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    private static string Verdict(ThresholdResult t) => t.Passed ? "pass" : t.AbortedRun ? "FAIL (aborted the run)" : "FAIL";

    private static string Actual(ThresholdResult t) => t.Actual is { } a ? a.ToString("0.###", CultureInfo.InvariantCulture) : "no data";

    private static string Inv(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Ms(double micros) => LatencySummary.ToMs(micros).ToString("0.000", CultureInfo.InvariantCulture);

    private static string CsvQuote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;

    private static string MdEscape(string text) =>
        text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}

/// <summary>Writes a report's Markdown, CSV, text and HTML files into a folder.</summary>
public static class ReportWriter
{
    /// <summary>
    /// Writes <c>{name}.md</c>, <c>{name}.csv</c>, <c>{name}.txt</c> and <c>{name}.html</c> (name made
    /// file-safe) into <paramref name="folder"/>, creating it, and returns the paths.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WriteAsync(RunReport report, string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(folder);
        var invalid = Path.GetInvalidFileNameChars();
        var baseName = new string(report.Name.Select(c => invalid.Contains(c) || char.IsWhiteSpace(c) ? '_' : c).ToArray());
        var outputs = new (string Extension, string Text)[]
        {
            (".md", ReportRenderer.Markdown(report)),
            (".csv", ReportRenderer.Csv(report)),
            (".txt", ReportRenderer.Text(report)),
            (".html", ReportRenderer.Html(report)),
        };
        var paths = new List<string>();
        foreach (var (extension, text) in outputs)
        {
            var path = Path.Combine(folder, baseName + extension);
            await File.WriteAllTextAsync(path, text, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
            paths.Add(path);
        }

        return paths;
    }
}
