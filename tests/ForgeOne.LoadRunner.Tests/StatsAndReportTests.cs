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

        Assert.Equal(new LatencySummary(50, 75, 95, 99, 100, 50.5), s.Latency);
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
        false,
        [
            new ScenarioStats("append, single", 990, 10, 0, 200_000, TimeSpan.FromSeconds(10),
                new LatencySummary(1500, 2000, 4000, 9000, 12345, 1700), default,
                new Dictionary<string, long> { ["timeout"] = 10 }),
        ]);

    [Fact]
    public void Csv_RendersHeaderAndOneQuotedRowPerScenario()
    {
        Assert.Equal(
            "scenario,requests,ok,fail,cancelled,rps,bytes,p50_ms,p75_ms,p95_ms,p99_ms,max_ms\n" +
            "\"append, single\",1000,990,10,0,100.0,200000,1.500,2.000,4.000,9.000,12.345\n",
            ReportRenderer.Csv(KnownReport()));
    }

    [Fact]
    public void Markdown_RendersTableAndFailures()
    {
        Assert.Equal(
            "# Load report: ingest\n\n" +
            "Started 2026-11-28T12:00:00Z, duration 10.000 s.\n\n" +
            "| Scenario | Requests | OK | Fail | Cancelled | RPS | Bytes | p50 ms | p75 ms | p95 ms | p99 ms | max ms |\n" +
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
            "| append, single | 1000 | 990 | 10 | 0 | 100.0 | 200000 | 1.500 | 2.000 | 4.000 | 9.000 | 12.345 |\n" +
            "\n## Failures: append, single\n\n| Error | Count |\n|---|---:|\n| timeout | 10 |\n",
            ReportRenderer.Markdown(KnownReport()));
    }

    [Fact]
    public void Html_IsSelfContainedAndEncodesNames()
    {
        var report = KnownReport() with { Name = "<script>" };

        var html = ReportRenderer.Html(report);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("<title>Load report: &lt;script&gt;</title>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("<td>append, single</td><td class=\"n\">1000</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ConsoleTable_AlignsColumns()
    {
        var lines = ReportRenderer.ConsoleTable(KnownReport()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Equal(lines[1].Length, lines[2].Length);
        Assert.StartsWith("scenario      ", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writer_WritesMarkdownHtmlAndCsvFiles()
    {
        var folder = Path.Combine(Path.GetTempPath(), "forgeone-lr-" + Guid.NewGuid().ToString("N"));
        try
        {
            var paths = await ReportWriter.WriteAsync(KnownReport() with { Name = "my run" }, folder);

            Assert.Equal(["my_run.md", "my_run.html", "my_run.csv"], paths.Select(Path.GetFileName));
            Assert.Equal(ReportRenderer.Csv(KnownReport()), await File.ReadAllTextAsync(paths[2]));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
