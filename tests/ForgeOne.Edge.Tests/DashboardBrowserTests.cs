using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

/// <summary>
/// Opens the dashboard in headless Chromium (Debian's package; .ci/run installs it), driven in
/// real time over the DevTools protocol, against the running edge and checks what a person would see: the members, the last seal and its
/// verification, the ingest rate chart drawing a line while writes go on, the last backup, and
/// the DR drills with their RTO/RPO, outcome and signed report (opened by clicking its link).
/// </summary>
[Collection(EdgeCollection.Name)]
public sealed partial class DashboardBrowserTests(EdgeFixture fx) : IDisposable
{
    private readonly string _profile = Directory.CreateTempSubdirectory("forgeone-dashboard-").FullName;

    [Fact]
    public async Task Dashboard_ShowsMembersASealTheRateChartAndDrills()
    {
        var chromium = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);
        Assert.True(chromium is not null, "chromium is not installed (.ci/run installs it)");
        var backup = await (await fx.Admin.PostJsonAsync("/v1/backups?wait=true", """{"type":"full"}""")).ReadAsync<BackupView>();
        var drill = await (await fx.Admin.PostJsonAsync("/v1/dr/drills?wait=true", """{"region":"eu-west"}""")).ReadAsync<DrillView>();
        Assert.True(drill.Passed, string.Join("; ", drill.Failures));
        var signed = await (await fx.Admin.GetAsync($"/v1/dr/drills/{drill.Id}")).ReadAsync<DrillReportView>();
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

        string dom, report;
        try
        {
            (dom, report) = await DumpDomAsync(chromium!, new Uri(fx.Server.BaseAddress, "/dashboard/#key=" + Uri.EscapeDataString(fx.AdminKey)).AbsoluteUri, drill.Id);
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
        Assert.Contains($"data-backup=\"{backup.Id}\"", dom, StringComparison.Ordinal);

        // The drill's row: region, outcome, RTO and RPO as the API reports them, and its report.
        var row = DrillRow().Match(dom);
        Assert.True(row.Success && row.Groups["id"].Value == drill.Id, dom);
        var cells = Cell().Matches(row.Groups["cells"].Value).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToArray();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        Assert.Equal(
            [drill.Id, "eu-west", "passed", drill.RtoSeconds.ToString("F1", inv), drill.RpoSeconds is { } rpo ? rpo.ToString("F1", inv) : "-"],
            new[] { cells[0], cells[1], cells[3], cells[4], cells[5] });
        Assert.Equal("true", row.Groups["passed"].Value);
        Assert.Contains("PASSED", report, StringComparison.Ordinal);
        Assert.Contains(signed.Json, report, StringComparison.Ordinal);
        Assert.Contains(signed.Signature, report, StringComparison.Ordinal);
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

    /// <summary>
    /// Drives Chromium over the DevTools protocol in real time: navigates to <paramref name="url"/>,
    /// waits for the load event, then for the page itself to show members, a verified seal, a
    /// drawn rate line and the drill (a MutationObserver resolves the moment all are there), takes
    /// the DOM, then clicks the drill's report link and waits the same way for the report to be
    /// shown. Real time matters: the rate is the difference of real ingest between samples, which
    /// Chromium's virtual time would compress to nothing.
    /// </summary>
    private async Task<(string Dom, string Report)> DumpDomAsync(string chromium, string url, string drillId)
    {
        var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", $"--user-data-dir={_profile}", "--remote-debugging-port=0", "about:blank" })
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            _ = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var port = await DevToolsPortAsync(process.StandardError, deadline.Token);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var targets = JsonDocument.Parse(await http.GetStringAsync("/json/list", deadline.Token));
            var page = targets.RootElement.EnumerateArray().First(t => t.GetProperty("type").GetString() == "page");

            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri(page.GetProperty("webSocketDebuggerUrl").GetString()!), deadline.Token);
            var devTools = new DevToolsSession(socket);
            await devTools.CallAsync("Page.enable", new { }, deadline.Token);
            var loaded = devTools.EventAsync("Page.loadEventFired", deadline.Token);
            await devTools.CallAsync("Page.navigate", new { url }, deadline.Token);
            await loaded;

            // Resolves with the DOM once everything is shown, or after 60 s with the DOM as it is
            // (the assertions then say what is missing).
            var shown = """
                new Promise(resolve => {
                  const ready = () => document.body.hasAttribute('data-members')
                    && document.querySelector('[data-verified]') !== null
                    && document.querySelector('[data-drill="DRILL"]') !== null
                    && document.getElementById('rate').getAttribute('data-drawn') === 'true';
                  const done = () => { observer.disconnect(); clearTimeout(timer); resolve(document.documentElement.outerHTML); };
                  const observer = new MutationObserver(() => { if (ready()) { done(); } });
                  const timer = setTimeout(done, 60000);
                  observer.observe(document, { attributes: true, childList: true, subtree: true });
                  if (ready()) { done(); }
                })
                """;
            var dom = await EvaluateAsync(devTools, shown.Replace("DRILL", drillId, StringComparison.Ordinal), deadline.Token);

            // A person clicks "signed report": the page fetches it with the key and shows it.
            var opened = """
                new Promise(resolve => {
                  const pre = document.getElementById('drill-report');
                  const ready = () => pre.getAttribute('data-report-of') === 'DRILL';
                  const done = () => { observer.disconnect(); clearTimeout(timer); resolve(pre.textContent); };
                  const observer = new MutationObserver(() => { if (ready()) { done(); } });
                  const timer = setTimeout(done, 30000);
                  observer.observe(pre, { attributes: true, childList: true, characterData: true, subtree: true });
                  const link = document.querySelector('[data-report="DRILL"]');
                  if (link === null) { done(); } else { link.click(); }
                })
                """;
            var report = await EvaluateAsync(devTools, opened.Replace("DRILL", drillId, StringComparison.Ordinal), deadline.Token);
            return (dom, report);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    private static async Task<string> EvaluateAsync(DevToolsSession devTools, string expression, CancellationToken cancel)
    {
        var result = await devTools.CallAsync("Runtime.evaluate", new { expression, awaitPromise = true, returnByValue = true }, cancel);
        return result.GetProperty("result").GetProperty("value").GetString()!;
    }

    /// <summary>Reads Chromium's stderr up to the line announcing its DevTools endpoint.</summary>
    private static async Task<int> DevToolsPortAsync(StreamReader stderr, CancellationToken cancel)
    {
        var seen = new System.Text.StringBuilder();
        while (await stderr.ReadLineAsync(cancel) is { } line)
        {
            var match = DevToolsListening().Match(line);
            if (match.Success)
            {
                _ = stderr.ReadToEndAsync(cancel);
                return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }

            seen.AppendLine(line);
        }

        throw new InvalidOperationException("chromium exited before its DevTools endpoint was up:\n" + seen);
    }

    [GeneratedRegex(@"DevTools listening on ws://127\.0\.0\.1:(\d+)/")]
    private static partial Regex DevToolsListening();

    /// <summary>One DevTools protocol connection: calls answered by id, events awaited by name.</summary>
    private sealed class DevToolsSession
    {
        private readonly ClientWebSocket _socket;
        private readonly Dictionary<int, TaskCompletionSource<JsonElement>> _calls = [];
        private readonly Dictionary<string, TaskCompletionSource> _events = [];
        private readonly Lock _gate = new();
        private int _nextId;

        public DevToolsSession(ClientWebSocket socket)
        {
            _socket = socket;
            _ = Task.Run(ReceiveAsync);
        }

        public Task EventAsync(string method, CancellationToken cancel)
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                _events[method] = waiter;
            }

            return waiter.Task.WaitAsync(cancel);
        }

        public async Task<JsonElement> CallAsync(string method, object parameters, CancellationToken cancel)
        {
            var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
            int id;
            lock (_gate)
            {
                id = ++_nextId;
                _calls[id] = reply;
            }

            var bytes = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancel);
            return await reply.Task.WaitAsync(cancel);
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[1 << 16];
            using var message = new MemoryStream();
            try
            {
                while (_socket.State == WebSocketState.Open)
                {
                    var received = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, received.Count);
                    if (!received.EndOfMessage)
                    {
                        continue;
                    }

                    Dispatch(JsonDocument.Parse(message.ToArray()).RootElement);
                    message.SetLength(0);
                }
            }
            catch (WebSocketException)
            {
                // Chromium was killed: pending calls end by their own cancellation.
            }
        }

        private void Dispatch(JsonElement message)
        {
            lock (_gate)
            {
                if (message.TryGetProperty("id", out var id) && _calls.Remove(id.GetInt32(), out var call))
                {
                    if (message.TryGetProperty("error", out var error))
                    {
                        call.SetException(new InvalidOperationException("DevTools: " + error));
                    }
                    else
                    {
                        call.SetResult(message.GetProperty("result").Clone());
                    }
                }
                else if (message.TryGetProperty("method", out var method) && _events.Remove(method.GetString()!, out var waiter))
                {
                    waiter.SetResult();
                }
            }
        }
    }

    [GeneratedRegex("data-seal=\"(\\d+)\"")]
    private static partial Regex SealNumber();

    [GeneratedRegex("<tr data-drill=\"(?<id>[^\"]+)\" data-passed=\"(?<passed>[^\"]+)\">(?<cells>.*?)</tr>")]
    private static partial Regex DrillRow();

    [GeneratedRegex("<td[^>]*>(.*?)</td>")]
    private static partial Regex Cell();
}
