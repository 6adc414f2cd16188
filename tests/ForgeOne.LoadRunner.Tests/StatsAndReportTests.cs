namespace ForgeOne.LoadRunner.Tests;

public class StatsAndReportTests
{
    [Fact]
    public void Stats_OneToHundredMicroseconds_GivesExactPercentiles()
    {
        var stats = new StatsCollector();
        for (var us = 1; us <= 100; us++)
        {
            stats.Record(StepResult.Ok(10), us);
        }

        var s = stats.Snapshot("s", TimeSpan.FromSeconds(2));

        Assert.Equal((1L, 50.5, 100L, 50L, 75L, 95L, 99L), (s.Latency.MinUs, s.Latency.MeanUs, s.Latency.MaxUs, s.Latency.P50Us, s.Latency.P75Us, s.Latency.P95Us, s.Latency.P99Us));
        Assert.Equal(28.866, s.Latency.StdDevUs, 3);
        Assert.Equal(100, s.Requests);
        Assert.Equal(1000, s.Bytes);
        Assert.Equal(50.0, s.Rps);
        Assert.Equal(500.0, s.BytesPerSecond);
    }

    [Fact]
    public void Stats_KeepsFailuresOutOfTheOkPercentilesAndCountsThemByError()
    {
        var stats = new StatsCollector();
        stats.Record(StepResult.Ok(), 1000);
        stats.Record(StepResult.Fail("timeout"), 5);
        stats.Record(StepResult.Fail("timeout"), 7);
        stats.Record(StepResult.Fail("refused"), 9);
        stats.RecordCancelled();

        var s = stats.Snapshot("s", TimeSpan.FromSeconds(1));

        Assert.Equal((1L, 3L, 1L, 4L), (s.Ok, s.Fail, s.Cancelled, s.Requests));
        Assert.Equal(1000, s.Latency.MaxUs);
        Assert.Equal(1000, s.Latency.P50Us);
        Assert.Equal(9, s.FailLatency.MaxUs);
        Assert.Equal(2, s.Errors["timeout"]);
        Assert.Equal(1, s.Errors["refused"]);
    }

    [Fact]
    public void Stats_ClampsLatencyBeyondTheTrackableRangeInsteadOfThrowing()
    {
        var stats = new StatsCollector();
        stats.Record(StepResult.Ok(), long.MaxValue);
        stats.Record(StepResult.Ok(), -5);

        var s = stats.Snapshot("s", TimeSpan.FromSeconds(1));

        Assert.Equal(2, s.Ok);
        Assert.True(s.Latency.MaxUs >= StatsCollector.HighestTrackableMicros);
    }

    [Fact]
    public void Stats_EmptyScenario_HasZeroLatencyAndRate()
    {
        var s = new StatsCollector().Snapshot("s", TimeSpan.Zero);
        Assert.Equal(default, s.Latency);
        Assert.Equal(0, s.Rps);
    }

    private static RunReport KnownReport() => new(
        "ingest",
        new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero),
        TimeSpan.FromSeconds(10),
        StopReason.Completed,
        [
            new ScenarioStats("append, single", 990, 10, 0, 200_000, TimeSpan.FromSeconds(10),
                new LatencySummary(800, 1700, 12345, 250, 1500, 2000, 4000, 9000), default,
                new Dictionary<string, long> { ["timeout"] = 10 })
            {
                Steps = [new ScenarioStats("append", 990, 10, 0, 0, TimeSpan.FromSeconds(10), new LatencySummary(700, 1600, 12000, 240, 1400, 1900, 3900, 8900), default, new Dictionary<string, long>())],
            },
        ]);

    [Fact]
    public void Csv_RendersHeaderThenAQuotedRowPerScenarioAndStep()
    {
        Assert.Equal(
            "scenario,step,requests,ok,fail,cancelled,fail_pct,rps,bytes,min_ms,mean_ms,max_ms,stddev_ms,p50_ms,p75_ms,p95_ms,p99_ms\n" +
            "\"append, single\",,1000,990,10,0,1.00,100.0,200000,0.800,1.700,12.345,0.250,1.500,2.000,4.000,9.000\n" +
            "\"append, single\",append,1000,990,10,0,1.00,100.0,0,0.700,1.600,12.000,0.240,1.400,1.900,3.900,8.900\n",
            ReportRenderer.Csv(KnownReport()));
    }

    [Fact]
    public void Markdown_RendersTableThresholdsErrorsWithShareAndConfiguration()
    {
        var report = KnownReport() with
        {
            Thresholds = [new ThresholdResult("append, single", null, "fail% < 1", false, 1.0, 5, 5, false)],
            Plans = [new ScenarioPlan("append, single", 0, TimeSpan.FromSeconds(2), ["inject 100 per 1s for 10s"])],
            Configuration = [new("target", "node")],
        };

        var md = ReportRenderer.Markdown(report);

        Assert.StartsWith("# Load report: ingest\n\nStarted 2026-11-28T12:00:00Z, duration 10.000 s. FAILED.\n\n| Scenario | Step | Requests |", md, StringComparison.Ordinal);
        Assert.Contains("| append, single |  | 1000 | 990 | 10 | 0 | 1.00 | 100.0 | 200000 | 0.800 | 1.700 | 12.345 | 0.250 | 1.500 | 2.000 | 4.000 | 9.000 |\n", md, StringComparison.Ordinal);
        Assert.Contains("| append, single | `fail% < 1` | FAIL | 1 | 5 of 5 |\n", md, StringComparison.Ordinal);
        Assert.Contains("| timeout | 10 | 1.00% |\n", md, StringComparison.Ordinal);
        Assert.Contains("| append, single | - | 2s | inject 100 per 1s for 10s |\n", md, StringComparison.Ordinal);
        Assert.Contains("| target | node |\n", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_IsSelfContainedAndEncodesEveryReportText()
    {
        const string hostile = "<img src=x onerror=alert(1)></script>";
        var report = KnownReport() with
        {
            Name = hostile,
            Timelines = [new ScenarioTimeline(hostile, TimeSpan.FromSeconds(1), [new TimelinePoint(TimeSpan.FromSeconds(1), new IntervalStats(100, 0, 0, 1000, 2000, 3000))])],
        };

        var html = ReportRenderer.Html(report);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<title>Load report: &lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;</title>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(hostile, html, StringComparison.Ordinal);
        Assert.Contains("\\u003Cimg src=x onerror=alert(1)\\u003E\\u003C/script\\u003E ok/s", html, StringComparison.Ordinal);
        Assert.Contains("<canvas id=\"chart-throughput\"", html, StringComparison.Ordinal);
        Assert.Contains("<canvas id=\"chart-latency\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" src=\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_AlignsColumnsAndListsErrors()
    {
        var lines = ReportRenderer.Text(KnownReport()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("Started 2026-11-28T12:00:00Z, duration 10.000 s.", lines[0]);
        Assert.StartsWith("scenario        step    requests", lines[1], StringComparison.Ordinal);
        Assert.Equal(lines[1].Length, lines[2].Length);
        Assert.Equal("errors of append, single:", lines[4]);
        Assert.Equal("  timeout: 10 (1.00%)", lines[5]);
    }

    [Fact]
    public async Task Writer_WritesMarkdownCsvTextAndHtmlFiles()
    {
        var folder = Path.Combine(Path.GetTempPath(), "forgeone-lr-" + Guid.NewGuid().ToString("N"));
        try
        {
            var paths = await ReportWriter.WriteAsync(KnownReport() with { Name = "my run" }, folder);

            Assert.Equal(["my_run.md", "my_run.csv", "my_run.txt", "my_run.html"], paths.Select(Path.GetFileName));
            Assert.Equal(ReportRenderer.Csv(KnownReport()), await File.ReadAllTextAsync(paths[1]));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Progress_TableAlignsAndPlainLinesStandAlone()
    {
        var total = new ScenarioStats("ingest", 950, 50, 0, 0, TimeSpan.FromSeconds(10), default, default, new Dictionary<string, long>());
        var rows = new[] { new ProgressRow("ingest", new IntervalStats(98, 2, 0, 1500, 9000, 12000), total) };

        var table = ProgressRenderer.Table(TimeSpan.FromSeconds(10), rows, TimeSpan.FromSeconds(1));
        var lines = ProgressRenderer.Lines(TimeSpan.FromSeconds(10), rows, TimeSpan.FromSeconds(1));

        Assert.Equal(["[10s]    ok  fail  fail%  rps  p50 ms  p99 ms  max ms", "ingest  950    50   5.00  100    1.50    9.00   12.00"], table);
        Assert.Equal(["[10s] ingest: ok 950, fail 50 (5.00%), 100 rps, p50 1.50 ms, p99 9.00 ms, max 12.00 ms"], lines);
    }
}
