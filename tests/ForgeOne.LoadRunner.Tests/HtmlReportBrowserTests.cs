using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;

namespace ForgeOne.LoadRunner.Tests;

/// <summary>
/// Opens the HTML report in headless Chromium and checks that its charts really render: the
/// inlined script ran (it marks the page), and the screenshot holds the series' line colours in
/// the amounts a drawn line (not just a legend swatch) needs.
/// </summary>
public sealed class HtmlReportBrowserTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("forgeone-html-").FullName;

    [SkippableFact]
    public async Task Html_ChartsRenderInHeadlessChromium()
    {
        var chromium = FindChromium();
        // CI installs Chromium (.ci/run), so there a missing browser is a failure, not a skip.
        Skip.If(chromium is null && Environment.GetEnvironmentVariable("CI") != "true", "chromium is not installed");
        Assert.True(chromium is not null, "chromium is not installed (.ci/run installs it)");

        var html = Path.Combine(_dir, "report.html");
        await File.WriteAllTextAsync(html, ReportRenderer.Html(ChartedReport()));

        var dom = await RunAsync(chromium!, "--dump-dom", new Uri(html).AbsoluteUri);
        var png = Path.Combine(_dir, "shot.png");
        await RunAsync(chromium!, $"--screenshot={png}", "--window-size=1100,1500", new Uri(html).AbsoluteUri);

        Assert.Contains("data-charts-drawn=\"2\"", dom, StringComparison.Ordinal);
        var image = Png.Decode(await File.ReadAllBytesAsync(png));
        Assert.Equal(1100, image.Width);
        // Each scenario's colour draws ok/s, p50 and dashed p99 (~870 px lines, 3 px wide); the
        // legend swatches alone are 120 pixels per series.
        var first = image.Count(0x1f, 0x77, 0xb4);
        var second = image.Count(0xff, 0x7f, 0x0e);
        Assert.True(first > 2000, $"{first} pixels of the first series colour");
        Assert.True(second > 1000, $"{second} pixels of the second series colour");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still hold its profile for a moment; the temp folder is best effort.
        }
    }

    private static RunReport ChartedReport()
    {
        // A rising rate and a latency wave, so both charts have lines across their whole width.
        var points = Enumerable.Range(1, 30)
            .Select(i => new TimelinePoint(TimeSpan.FromSeconds(i), new IntervalStats(1000 + (i * 50), 0, 0, 2000 + (i % 5 * 300), 8000 + (i % 7 * 900), 12_000)))
            .ToArray();
        var stats = new ScenarioStats("ingest", 40_000, 0, 0, 0, TimeSpan.FromSeconds(30), new LatencySummary(100, 2500, 12_000, 500, 2000, 2600, 7000, 9000), default, new Dictionary<string, long>());
        return new RunReport("charts", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(30), StopReason.Completed, [stats, stats with { Name = "query" }])
        {
            Timelines =
            [
                new ScenarioTimeline("ingest", TimeSpan.FromSeconds(1), points),
                new ScenarioTimeline("query", TimeSpan.FromSeconds(1), points.Select(p => p with { Stats = p.Stats with { Ok = p.Stats.Ok / 2, P50Us = p.Stats.P50Us * 2 } }).ToArray()),
            ],
        };
    }

    private static string? FindChromium() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    private async Task<string> RunAsync(string chromium, params string[] args)
    {
        var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1", $"--user-data-dir={Path.Combine(_dir, "profile")}" }.Concat(args))
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        Assert.True(process.ExitCode == 0, $"chromium exited {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    /// <summary>Just enough PNG (8-bit RGB/RGBA, not interlaced: what Chromium writes) to count pixel colours.</summary>
    private sealed record Png(int Width, int Height, int Channels, byte[] Pixels)
    {
        public static Png Decode(byte[] file)
        {
            Assert.True(file.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }), "not a PNG");
            int width = 0, height = 0, channels = 0;
            using var idat = new MemoryStream();
            for (var at = 8; at < file.Length;)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
                var type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
                var data = file.AsSpan(at + 8, length);
                if (type == "IHDR")
                {
                    (width, height) = (BinaryPrimitives.ReadInt32BigEndian(data), BinaryPrimitives.ReadInt32BigEndian(data[4..]));
                    Assert.Equal(8, data[8]);
                    Assert.Equal(0, data[12]);
                    channels = data[9] switch { 2 => 3, 6 => 4, var other => throw new NotSupportedException($"PNG colour type {other}") };
                }
                else if (type == "IDAT")
                {
                    idat.Write(data);
                }

                at += 12 + length;
            }

            idat.Position = 0;
            using var inflated = new MemoryStream();
            using (var z = new ZLibStream(idat, CompressionMode.Decompress))
            {
                z.CopyTo(inflated);
            }

            var raw = inflated.ToArray();
            var stride = width * channels;
            var pixels = new byte[height * stride];
            for (var y = 0; y < height; y++)
            {
                var filter = raw[y * (stride + 1)];
                var line = raw.AsSpan((y * (stride + 1)) + 1, stride);
                for (var x = 0; x < stride; x++)
                {
                    int a = x >= channels ? pixels[(y * stride) + x - channels] : 0;
                    int b = y > 0 ? pixels[((y - 1) * stride) + x] : 0;
                    int c = x >= channels && y > 0 ? pixels[((y - 1) * stride) + x - channels] : 0;
                    var predictor = filter switch
                    {
                        0 => 0,
                        1 => a,
                        2 => b,
                        3 => (a + b) / 2,
                        4 => Paeth(a, b, c),
                        _ => throw new NotSupportedException($"PNG filter {filter}"),
                    };
                    pixels[(y * stride) + x] = (byte)(line[x] + predictor);
                }
            }

            return new Png(width, height, channels, pixels);
        }

        /// <summary>Pixels within a small distance of the colour (antialiasing blends the line edges).</summary>
        public int Count(byte r, byte g, byte b)
        {
            var n = 0;
            for (var i = 0; i < Pixels.Length; i += Channels)
            {
                if (Math.Abs(Pixels[i] - r) < 24 && Math.Abs(Pixels[i + 1] - g) < 24 && Math.Abs(Pixels[i + 2] - b) < 24)
                {
                    n++;
                }
            }

            return n;
        }

        private static int Paeth(int a, int b, int c)
        {
            var p = a + b - c;
            var (pa, pb, pc) = (Math.Abs(p - a), Math.Abs(p - b), Math.Abs(p - c));
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
