using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ForgeOne.Common.Api;
using ForgeOne.IntegrationTests;

namespace ForgeOne.Cli.Tests;

/// <summary>
/// The cluster verbs against the local 3 storage + 1 edge cluster (cluster-config's files on free
/// ports): <c>cluster show</c> lists all four, <c>cluster tail</c> (a running process) prints the
/// removal that <c>cluster leave</c> causes, and the member is really gone afterwards.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ClusterCliTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly List<NodeProcess> _nodes = [];
    private readonly int[] _ports = [.. Enumerable.Range(0, 4).Select(_ => NodeProcess.FreePort())];
    private string _url = string.Empty;
    private Dictionary<string, string> _env = [];

    private string Address(int i) => $"akka.ssl.tcp://forgeone@127.0.0.1:{_ports[i].ToString(CultureInfo.InvariantCulture)}";

    public async Task InitializeAsync()
    {
        NodeProcess Start(string name, int i, IDictionary<string, string>? env = null) => NodeProcess.Start(name, _dir.Path,
        [
            "--config", Path.Combine(NodeProcess.RepoRoot, "cluster-config", $"{name}.json"),
            $"--ForgeOne:Port={_ports[i].ToString(CultureInfo.InvariantCulture)}",
            $"--ForgeOne:SeedNodes:0={Address(0)}",
            $"--ForgeOne:SeedNodes:1={Address(1)}",
            $"--ForgeOne:DataRoot={Path.Combine(_dir.Path, "data")}",
            $"--ForgeOne:KeysDirectory={Path.Combine(_dir.Path, "keys")}",
            $"--ForgeOne:BootstrapKeyFile={Path.Combine(_dir.Path, "keys", "bootstrap-admin.key")}",
            "--ForgeOne:Shards:NoSync=true",
            "--Logging:LogLevel:Akka=Warning",
        ], env);

        _nodes.Add(Start("storage-1", 0));
        await _nodes[0].WaitReadyAsync(TimeSpan.FromSeconds(120));
        _nodes.Add(Start("storage-2", 1));
        _nodes.Add(Start("storage-3", 2));
        _nodes.Add(Start("edge", 3, new Dictionary<string, string> { ["FORGEONE__EDGE__PORT"] = NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture) }));
        await Task.WhenAll(_nodes.Skip(1).Select(n => n.WaitReadyAsync(TimeSpan.FromSeconds(120))));
        _url = _nodes[3].EdgeAddress!.ToString().TrimEnd('/');
        var key = (await File.ReadAllTextAsync(Path.Combine(_dir.Path, "keys", "bootstrap-admin.key"))).Trim();
        _env = new Dictionary<string, string> { ["FORGEONE_URL"] = _url, ["FORGEONE_API_KEY"] = key };
    }

    public Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        _dir.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ClusterLeave_RemovesTheMember_AndClusterTailPrintsIt()
    {
        // Every member is Up as the edge sees it (readiness lines come before gossip settles).
        var show = await AwaitAsync(async () =>
        {
            var run = await Forgeone.ProcessAsync(["cluster", "show"], _env);
            return run.ExitCode == 0 && run.Lines.Length == 5 && run.Lines.Take(4).All(l => l.Contains("| up | reachable |", StringComparison.Ordinal)) ? run : null;
        }, TimeSpan.FromSeconds(60));
        Assert.Equal("Count: 4 nodes", show.Lines[4]);
        Assert.Equal(Enumerable.Range(0, 4).Select(Address).Order(StringComparer.Ordinal), show.Lines.Take(4).Select(l => l.Split(" | ")[0]).Order(StringComparer.Ordinal));
        // Roles as pbm prints them: every role of the member, sorted (the region role included).
        var roles = show.Lines.Take(4).Select(l => l.Split(" | ")[1]).ToArray();
        Assert.Equal(["[edge, region-default]", "[region-default, storage]", "[region-default, storage]", "[region-default, storage]"], roles.Order(StringComparer.Ordinal));
        var storage = await Forgeone.InProcessAsync(["cluster", "show", "-r", "storage"], _env);
        Assert.Equal("Count: 3 nodes", storage.Lines[^1]);

        using var tail = new TailProcess(_env);
        await tail.Opened.WaitAsync(TimeSpan.FromSeconds(30));

        var leave = await Forgeone.ProcessAsync(["cluster", "leave", "-a", Address(2)], _env);
        Assert.True(leave.ExitCode == 0, leave.ToString());
        Assert.Equal($"{Address(2)} is leaving the cluster", leave.Lines.Single());

        var removed = await tail.WaitForLineAsync(l => l.Contains($" MemberRemoved {Address(2)} | [region-default, storage] | removed", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z MemberRemoved ", removed);
        Assert.Contains(tail.Lines, l => l.Contains($" MemberLeft {Address(2)} ", StringComparison.Ordinal));

        var after = await Forgeone.ProcessAsync(["cluster", "show", "--json"], _env);
        var view = JsonSerializer.Deserialize(after.Stdout, ApiJsonContext.Default.ClusterView)!;
        Assert.Equal(3, view.Members.Length);
        Assert.DoesNotContain(view.Members, m => m.Address == Address(2));

        var stats = await Forgeone.InProcessAsync(["cluster-sharding", "region-stats", "-r", "logs", "--json"], _env);
        var regions = JsonSerializer.Deserialize(stats.Stdout, ApiJsonContext.Default.RegionStatsView)!;
        Assert.Empty(regions.NotAnswered);
        Assert.All(regions.Nodes, n => Assert.NotEqual(Address(2), n.Node));
    }

    private static async Task<T> AwaitAsync<T>(Func<Task<T?>> probe, TimeSpan timeout)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } result)
            {
                return result;
            }

            Assert.True(watch.Elapsed < timeout, $"condition not met within {timeout}");
            await Task.Delay(250);
        }
    }

    /// <summary><c>forgeone cluster tail</c> as a running process, its lines collected as they come.</summary>
    private sealed class TailProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];

        public TailProcess(IDictionary<string, string> env)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(Forgeone.Dll);
            info.ArgumentList.Add("cluster");
            info.ArgumentList.Add("tail");
            info.Environment["FORGEONE_CONFIG"] = "/nonexistent";
            foreach (var (k, v) in env)
            {
                info.Environment[k] = v;
            }

            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => OnLine(e.Data);
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data?.StartsWith("Tailing member events", StringComparison.Ordinal) == true)
                {
                    _opened.TrySetResult();
                }
            };
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public Task Opened => _opened.Task;

        public IReadOnlyCollection<string> Lines => _lines;

        public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
        {
            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiters)
            {
                _waiters.Add((match, seen));
            }

            if (_lines.FirstOrDefault(match) is { } already)
            {
                return already;
            }

            try
            {
                return await seen.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"cluster tail never printed the line; it printed:\n{string.Join('\n', _lines)}");
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            _lines.Enqueue(line);
            lock (_waiters)
            {
                foreach (var w in _waiters.Where(w => w.Match(line)).ToList())
                {
                    w.Seen.TrySetResult(line);
                    _waiters.Remove(w);
                }
            }
        }
    }
}
