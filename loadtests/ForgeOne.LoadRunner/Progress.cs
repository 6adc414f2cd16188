using System.Globalization;
using System.Text;

namespace ForgeOne.LoadRunner;

/// <summary>One scenario's line of live progress: the last interval and the totals so far.</summary>
public sealed record ProgressRow(string Scenario, IntervalStats Interval, ScenarioStats Total);

/// <summary>Formats live progress. Pure, so the table is tested without a terminal.</summary>
public static class ProgressRenderer
{
    /// <summary>A compact aligned table: one header line and one line per scenario.</summary>
    public static IReadOnlyList<string> Table(TimeSpan elapsed, IReadOnlyList<ProgressRow> rows, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var cells = new List<string[]> { new[] { $"[{Seconds(elapsed)}]", "ok", "fail", "fail%", "rps", "p50 ms", "p99 ms", "max ms" } };
        cells.AddRange(rows.Select(r => Cells(r, interval)));
        var widths = Enumerable.Range(0, cells[0].Length).Select(i => cells.Max(c => c[i].Length)).ToArray();
        return cells.Select(c => string.Join("  ", c.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i])))).ToArray();
    }

    /// <summary>One self-contained line per scenario, for logs (no cursor movement).</summary>
    public static IReadOnlyList<string> Lines(TimeSpan elapsed, IReadOnlyList<ProgressRow> rows, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return rows.Select(r =>
        {
            var c = Cells(r, interval);
            return $"[{Seconds(elapsed)}] {c[0]}: ok {c[1]}, fail {c[2]} ({c[3]}%), {c[4]} rps, p50 {c[5]} ms, p99 {c[6]} ms, max {c[7]} ms";
        }).ToArray();
    }

    // Counts and fail% are totals (what a threshold sees); rate and latency are the last interval's.
    private static string[] Cells(ProgressRow r, TimeSpan interval) =>
    [
        r.Scenario,
        r.Total.Ok.ToString(CultureInfo.InvariantCulture),
        r.Total.Fail.ToString(CultureInfo.InvariantCulture),
        r.Total.FailPercent.ToString("0.00", CultureInfo.InvariantCulture),
        ((r.Interval.Ok + r.Interval.Fail) / interval.TotalSeconds).ToString("0", CultureInfo.InvariantCulture),
        (r.Interval.P50Us / 1000.0).ToString("0.00", CultureInfo.InvariantCulture),
        (r.Interval.P99Us / 1000.0).ToString("0.00", CultureInfo.InvariantCulture),
        (r.Interval.MaxUs / 1000.0).ToString("0.00", CultureInfo.InvariantCulture),
    ];

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + "s";
}

/// <summary>
/// Writes live progress: in a terminal the table is redrawn in place (cursor up, clear line);
/// elsewhere (a CI log, a pipe) each interval prints plain lines.
/// </summary>
internal sealed class LiveProgress(TextWriter? output, bool? inPlace, TimeSpan interval)
{
    private readonly bool _inPlace = inPlace ?? (output is not null && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
    private int _drawn;

    public void Show(TimeSpan elapsed, IReadOnlyList<ProgressRow> rows)
    {
        if (output is null || rows.Count == 0)
        {
            return;
        }

        var sb = new StringBuilder();
        if (_inPlace)
        {
            if (_drawn > 0)
            {
                sb.Append("\u001b[").Append(_drawn.ToString(CultureInfo.InvariantCulture)).Append('A');
            }

            var table = ProgressRenderer.Table(elapsed, rows, interval);
            foreach (var line in table)
            {
                sb.Append("\u001b[2K").Append(line).Append('\n');
            }

            _drawn = table.Count;
        }
        else
        {
            foreach (var line in ProgressRenderer.Lines(elapsed, rows, interval))
            {
                sb.Append(line).Append('\n');
            }
        }

        output.Write(sb.ToString());
        output.Flush();
    }

    public void Finish() => _drawn = 0;
}
