using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace ForgeOne.LoadRunner;

public static partial class ReportRenderer
{
    /// <summary>Line colours of the scenarios in the charts, in order (ok/s and p50 solid, fail/s and p99 dashed).</summary>
    public static readonly IReadOnlyList<string> SeriesColors =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>
    /// One self-contained HTML page: the stats table, throughput-over-time and latency-over-time
    /// charts (drawn on canvases by a small inlined script from inlined JSON: no CDN, no network),
    /// thresholds, errors, load simulations and configuration. Every text from the report is
    /// HTML-encoded; the JSON is encoded so that no report text can close its script element.
    /// </summary>
    public static string Html(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var sb = new StringBuilder();
        var title = E("Load report: " + report.Name);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(title).Append("</title>\n");
        sb.Append("<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:0.5em 0 1.5em}")
          .Append("th,td{border:1px solid #999;padding:4px 8px}td.n{text-align:right}th{background:#eee}")
          .Append(".pass{color:#176b1f;font-weight:bold}.fail{color:#b00020;font-weight:bold}canvas{border:1px solid #ccc;display:block;margin:0.5em 0 1.5em}</style>\n");
        sb.Append("</head>\n<body>\n<h1>").Append(title).Append("</h1>\n<p>").Append(E(RunLine(report))).Append("</p>\n");

        sb.Append("<h2>Statistics</h2>\n<table>\n<tr>");
        foreach (var heading in Headings)
        {
            sb.Append("<th>").Append(E(heading)).Append("</th>");
        }

        sb.Append("</tr>\n");
        foreach (var row in Rows(report))
        {
            sb.Append("<tr>");
            for (var i = 0; i < row.Length; i++)
            {
                sb.Append(i < 2 ? "<td>" : "<td class=\"n\">").Append(E(row[i])).Append("</td>");
            }

            sb.Append("</tr>\n");
        }

        sb.Append("</table>\n");
        sb.Append("<h2>Throughput over time</h2>\n<canvas id=\"chart-throughput\" data-chart=\"throughput\" width=\"960\" height=\"320\"></canvas>\n");
        sb.Append("<h2>Latency over time</h2>\n<canvas id=\"chart-latency\" data-chart=\"latency\" width=\"960\" height=\"320\"></canvas>\n");

        if (report.Thresholds.Count > 0)
        {
            sb.Append("<h2>Thresholds</h2>\n<table>\n<tr><th>Scope</th><th>Threshold</th><th>Result</th><th>Actual</th><th>Failed checks</th></tr>\n");
            foreach (var t in report.Thresholds)
            {
                sb.Append("<tr><td>").Append(E(t.Scope)).Append("</td><td><code>").Append(E(t.Expression)).Append("</code></td><td class=\"")
                  .Append(t.Passed ? "pass" : "fail").Append("\">").Append(E(Verdict(t))).Append("</td><td class=\"n\">").Append(E(Actual(t)))
                  .Append("</td><td class=\"n\">").Append(t.FailedChecks.ToString(CultureInfo.InvariantCulture)).Append(" of ")
                  .Append(t.Checks.ToString(CultureInfo.InvariantCulture)).Append("</td></tr>\n");
            }

            sb.Append("</table>\n");
        }

        foreach (var s in report.Scenarios.Where(s => s.Errors.Count > 0))
        {
            sb.Append("<h2>Errors: ").Append(E(s.Name)).Append("</h2>\n<table>\n<tr><th>Error</th><th>Count</th><th>Share</th></tr>\n");
            foreach (var (error, count) in SortedErrors(s))
            {
                sb.Append("<tr><td>").Append(E(error)).Append("</td><td class=\"n\">").Append(count.ToString(CultureInfo.InvariantCulture))
                  .Append("</td><td class=\"n\">").Append(Share(s, error)).Append("</td></tr>\n");
            }

            sb.Append("</table>\n");
        }

        if (report.Plans.Count > 0)
        {
            sb.Append("<h2>Load simulations</h2>\n<table>\n<tr><th>Scenario</th><th>Weight</th><th>Warm-up</th><th>Simulations</th></tr>\n");
            foreach (var p in report.Plans)
            {
                sb.Append("<tr><td>").Append(E(p.Scenario)).Append("</td><td class=\"n\">").Append(p.Weight == 0 ? "-" : p.Weight.ToString(CultureInfo.InvariantCulture))
                  .Append("</td><td class=\"n\">").Append(E(DurationText.Format(p.WarmUp))).Append("</td><td>").Append(E(string.Join("; ", p.Simulations))).Append("</td></tr>\n");
            }

            sb.Append("</table>\n");
        }

        if (report.Configuration.Count > 0)
        {
            sb.Append("<h2>Configuration</h2>\n<table>\n");
            foreach (var (key, value) in report.Configuration)
            {
                sb.Append("<tr><th>").Append(E(key)).Append("</th><td>").Append(E(value)).Append("</td></tr>\n");
            }

            sb.Append("</table>\n");
        }

        // JsonSerializer's default encoder escapes <, >, & and quotes, so no text inside can end the element.
        sb.Append("<script type=\"application/json\" id=\"report-data\">").Append(JsonSerializer.Serialize(ChartData(report))).Append("</script>\n");
        sb.Append("<script>\n").Append(ChartScript).Append("</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static Dictionary<string, object> ChartData(RunReport report)
    {
        var throughput = new List<object>();
        var latency = new List<object>();
        var color = 0;
        foreach (var timeline in report.Timelines)
        {
            // Each point's rate over its own interval: the last one is usually partial.
            var seconds = timeline.Points.Select((p, i) => (p.At - (i == 0 ? p.At - timeline.Interval : timeline.Points[i - 1].At)).TotalSeconds).ToArray();
            var ok = timeline.Points.Select((p, i) => new[] { Round(p.At.TotalSeconds), Round(p.Stats.Ok / Math.Max(seconds[i], 1e-3)) }).ToArray();
            var fail = timeline.Points.Select((p, i) => new[] { Round(p.At.TotalSeconds), Round(p.Stats.Fail / Math.Max(seconds[i], 1e-3)) }).ToArray();
            var p50 = timeline.Points.Where(p => p.Stats.Ok > 0).Select(p => new[] { Round(p.At.TotalSeconds), Round(p.Stats.P50Us / 1000.0) }).ToArray();
            var p99 = timeline.Points.Where(p => p.Stats.Ok > 0).Select(p => new[] { Round(p.At.TotalSeconds), Round(p.Stats.P99Us / 1000.0) }).ToArray();

            // One colour per scenario in both charts; failures and p99 dashed.
            var c = SeriesColors[color++ % SeriesColors.Count];
            throughput.Add(new { name = timeline.Scenario + " ok/s", color = c, points = ok, dashed = false });
            if (fail.Any(p => p[1] > 0))
            {
                throughput.Add(new { name = timeline.Scenario + " fail/s", color = c, points = fail, dashed = true });
            }

            latency.Add(new { name = timeline.Scenario + " p50", color = c, points = p50, dashed = false });
            latency.Add(new { name = timeline.Scenario + " p99", color = c, points = p99, dashed = true });
        }

        return new Dictionary<string, object>
        {
            ["throughput"] = new { unit = "calls/s", series = throughput },
            ["latency"] = new { unit = "ms", series = latency },
        };
    }

    private static double Round(double value) => Math.Round(value, 3);

    private static string E(string text) => WebUtility.HtmlEncode(text);

    // The chart script: axes with rounded ticks, one polyline per series, a legend. Sets
    // data-charts-drawn on <body> when done, so a headless browser can tell it ran.
    private const string ChartScript = """
        (function () {
          var data = JSON.parse(document.getElementById('report-data').textContent);
          function niceStep(max) {
            var raw = max / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), n = raw / mag;
            return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
          }
          function draw(canvas, spec) {
            var rows = Math.ceil(spec.series.length / 3);
            canvas.height = 270 + rows * 16;
            var ctx = canvas.getContext('2d'), w = canvas.width, h = canvas.height;
            var left = 70, right = 20, top = 20, bottom = 34 + rows * 16, pw = w - left - right, ph = h - top - bottom;
            var xMax = 1, yMax = 0;
            spec.series.forEach(function (s) { s.points.forEach(function (p) { xMax = Math.max(xMax, p[0]); yMax = Math.max(yMax, p[1]); }); });
            yMax = yMax > 0 ? yMax * 1.1 : 1;
            var step = niceStep(yMax);
            ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, w, h);
            ctx.font = '12px sans-serif'; ctx.strokeStyle = '#ddd'; ctx.fillStyle = '#444'; ctx.lineWidth = 1;
            for (var y = 0; y <= yMax; y += step) {
              var py = top + ph - ph * y / yMax;
              ctx.beginPath(); ctx.moveTo(left, py); ctx.lineTo(left + pw, py); ctx.stroke();
              ctx.fillText(String(Math.round(y * 1000) / 1000), 4, py + 4);
            }
            var xStep = niceStep(xMax);
            for (var x = 0; x <= xMax; x += xStep) {
              var px = left + pw * x / xMax;
              ctx.fillText(x + ' s', px - 8, top + ph + 16);
            }
            ctx.strokeStyle = '#444'; ctx.strokeRect(left, top, pw, ph);
            ctx.fillText(spec.unit, 4, 12);
            spec.series.forEach(function (s, i) {
              ctx.strokeStyle = s.color; ctx.lineWidth = 3; ctx.setLineDash(s.dashed ? [8, 3] : []);
              ctx.beginPath();
              s.points.forEach(function (p, k) {
                var px = left + pw * p[0] / xMax, py = top + ph - ph * p[1] / yMax;
                if (k === 0) { ctx.moveTo(px, py); } else { ctx.lineTo(px, py); }
              });
              ctx.stroke();
              ctx.setLineDash([]);
              var lx = left + (i % 3) * (pw / 3), ly = top + ph + 34 + Math.floor(i / 3) * 16;
              ctx.fillStyle = s.color; ctx.fillRect(lx, ly - 9, 12, 10);
              ctx.fillStyle = '#222'; ctx.fillText(s.name, lx + 18, ly);
            });
          }
          var drawn = 0;
          document.querySelectorAll('canvas[data-chart]').forEach(function (c) {
            var spec = data[c.getAttribute('data-chart')];
            if (spec) { draw(c, spec); drawn++; }
          });
          document.body.setAttribute('data-charts-drawn', String(drawn));
        })();

        """;
}
