using System.Globalization;
using System.Net;
using System.Text;

namespace ForgeOne.LoadRunner;

/// <summary>The result of a run: one entry per scenario, plus whether the time bound cut it short.</summary>
public sealed record RunReport(string Name, DateTimeOffset StartedAt, TimeSpan Duration, bool StoppedByTimeBound, IReadOnlyList<ScenarioStats> Scenarios);

/// <summary>
/// Renders a <see cref="RunReport"/> as CSV, Markdown, HTML or a console table. Pure and
/// culture-invariant, so the same report always renders to the same text.
/// </summary>
public static class ReportRenderer
{
    private static readonly string[] Columns =
        ["scenario", "requests", "ok", "fail", "cancelled", "rps", "bytes", "p50_ms", "p75_ms", "p95_ms", "p99_ms", "max_ms"];

    /// <summary>RFC 4180 CSV: a header row then one row per scenario; latencies in ms with µs precision.</summary>
    public static string Csv(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.Append(string.Join(',', Columns)).Append('\n');
        foreach (var s in report.Scenarios)
        {
            sb.Append(string.Join(',', Cells(s).Select((cell, i) => i == 0 ? CsvQuote(cell) : cell))).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>A Markdown page: a heading, the run line, the table, and failures by error text.</summary>
    public static string Markdown(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        sb.Append("# Load report: ").Append(MdEscape(report.Name)).Append("\n\n");
        sb.Append(RunLine(report)).Append("\n\n");
        sb.Append("| Scenario | Requests | OK | Fail | Cancelled | RPS | Bytes | p50 ms | p75 ms | p95 ms | p99 ms | max ms |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var s in report.Scenarios)
        {
            var cells = Cells(s);
            cells[0] = MdEscape(cells[0]);
            sb.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");
        }

        foreach (var s in report.Scenarios.Where(s => s.Errors.Count > 0))
        {
            sb.Append("\n## Failures: ").Append(MdEscape(s.Name)).Append("\n\n| Error | Count |\n|---|---:|\n");
            foreach (var (error, count) in s.Errors.OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal))
            {
                sb.Append("| ").Append(MdEscape(error)).Append(" | ").Append(count.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>A self-contained HTML page (inline CSS, no scripts, no external resources).</summary>
    public static string Html(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        var title = WebUtility.HtmlEncode("Load report: " + report.Name);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(title).Append("</title>\n");
        sb.Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}")
          .Append("th,td{border:1px solid #999;padding:4px 8px}td.n{text-align:right}th{background:#eee}</style>\n");
        sb.Append("</head>\n<body>\n<h1>").Append(title).Append("</h1>\n<p>").Append(WebUtility.HtmlEncode(RunLine(report))).Append("</p>\n");
        sb.Append("<table>\n<tr>");
        foreach (var column in Columns)
        {
            sb.Append("<th>").Append(column).Append("</th>");
        }

        sb.Append("</tr>\n");
        foreach (var s in report.Scenarios)
        {
            sb.Append("<tr>");
            var cells = Cells(s);
            for (var i = 0; i < cells.Length; i++)
            {
                sb.Append(i == 0 ? "<td>" : "<td class=\"n\">").Append(WebUtility.HtmlEncode(cells[i])).Append("</td>");
            }

            sb.Append("</tr>\n");
        }

        sb.Append("</table>\n</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>A fixed-width table for the console.</summary>
    public static string ConsoleTable(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var rows = new List<string[]> { Columns };
        rows.AddRange(report.Scenarios.Select(Cells));
        var widths = Enumerable.Range(0, Columns.Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var sb = new StringBuilder();
        sb.Append(RunLine(report)).Append('\n');
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                sb.Append(i == 0 ? row[i].PadRight(widths[i]) : "  " + row[i].PadLeft(widths[i]));
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    private static string RunLine(RunReport report) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Started {report.StartedAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}, duration {report.Duration.TotalSeconds:0.000} s{(report.StoppedByTimeBound ? ", stopped by the time bound" : string.Empty)}.");

    private static string[] Cells(ScenarioStats s) =>
    [
        s.Name,
        s.Requests.ToString(CultureInfo.InvariantCulture),
        s.Ok.ToString(CultureInfo.InvariantCulture),
        s.Fail.ToString(CultureInfo.InvariantCulture),
        s.Cancelled.ToString(CultureInfo.InvariantCulture),
        s.Rps.ToString("0.0", CultureInfo.InvariantCulture),
        s.Bytes.ToString(CultureInfo.InvariantCulture),
        Ms(s.Latency.P50Us),
        Ms(s.Latency.P75Us),
        Ms(s.Latency.P95Us),
        Ms(s.Latency.P99Us),
        Ms(s.Latency.MaxUs),
    ];

    private static string Ms(long micros) => LatencySummary.ToMs(micros).ToString("0.000", CultureInfo.InvariantCulture);

    private static string CsvQuote(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;

    private static string MdEscape(string text) =>
        text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}

/// <summary>Writes a report's Markdown, HTML and CSV files into a folder.</summary>
public static class ReportWriter
{
    /// <summary>
    /// Writes <c>{name}.md</c>, <c>{name}.html</c> and <c>{name}.csv</c> (name made file-safe)
    /// into <paramref name="folder"/>, creating it, and returns the three paths.
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
            (".html", ReportRenderer.Html(report)),
            (".csv", ReportRenderer.Csv(report)),
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
