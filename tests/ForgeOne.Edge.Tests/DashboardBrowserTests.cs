using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// Opens the dashboard in headless Chromium (Debian's package; .ci/run installs it) against the
/// running edge and checks what a person would see: the members, the last seal and its
/// verification, and the ingest rate chart drawing a line while writes go on.
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed partial class DashboardBrowserTests(EdgeFixture fx) : IDisposable
{
    private readonly string _profile = Directory.CreateTempSubdirectory("forgeone-dashboard-").FullName;

    [Fact]
    public async Task Dashboard_ShowsMembersASealAndTheRateChart()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "chromium is not installed (.ci/run installs it)");
        var sealed_ = await (await fx.Admin.PostAsync("/v1/audit/seals", null)).ReadAsync<SealWritten>(HttpStatusCode.Created);
        var members = await (await fx.Admin.GetAsync("/v1/cluster")).ReadAsync<ClusterView>();

        // Writes go on while the page samples the ingest counter.
        using var stop = new CancellationTokenSource();
        var topic = Http.Unique("dashboard");
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await fx.Admin.PostJsonAsync($"/v1/logs/{topic}/batch", "[" + string.Join(',', Enumerable.Repeat("""{"severity":"info","message":"tick"}""", 50)) + "]");
                await Task.Delay(20);
            }
        });

        string dom;
        try
        {
            dom = await DumpDomAsync(chromium!, new Uri(fx.Server.BaseAddress, "/dashboard/#key=" + Uri.EscapeDataString(fx.AdminKey)).AbsoluteUri);
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }

        Assert.Contains($"data-members=\"{members.Members.Length}\"", dom, StringComparison.Ordinal);
        foreach (var member in members.Members)
        {
            Assert.Contains($"data-member=\"{member.Address}\"", dom, StringComparison.Ordinal);
        }

        var seal = SealNumber().Match(dom);
        Assert.True(seal.Success, dom);
        Assert.True(long.Parse(seal.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= sealed_.Number);
        Assert.Contains("data-verified=\"true\"", dom, StringComparison.Ordinal);
        Assert.Contains("data-drawn=\"true\"", dom, StringComparison.Ordinal);
        Assert.DoesNotContain(fx.AdminKey, dom, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still hold its profile for a moment; the temp folder is best effort.
        }
    }

    private async Task<string> DumpDomAsync(string chromium, string url)
    {
        // Virtual time runs the page's timers fast but waits for its fetches: ~12 rate samples.
        var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", $"--user-data-dir={_profile}", "--virtual-time-budget=12000", "--dump-dom", url })
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
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

    [GeneratedRegex("data-seal=\"(\\d+)\"")]
    private static partial Regex SealNumber();
}
