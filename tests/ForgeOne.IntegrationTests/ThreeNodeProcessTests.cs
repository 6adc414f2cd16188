using System.Globalization;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
using Xunit.Abstractions;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// Three ForgeOne.Node processes with the cluster-config 3-node files (ports and data root moved
/// to free ports and a temp dir), an actor client writing through the cluster, and one node
/// SIGKILLed: no acknowledged write is lost and the cluster keeps serving.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class ThreeNodeProcessTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new();
    private readonly List<NodeProcess> _nodes = [];
    private ForgeOneActorClient? _client;

    public ThreeNodeProcessTests(ITestOutputHelper output) => _output = output;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Cluster_KeepsEveryAcknowledgedWrite_WhenANodeIsKilled()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => NodeProcess.FreePort()).ToArray();
        string Seed(int i) => $"akka.ssl.tcp://forgeone@127.0.0.1:{ports[i].ToString(CultureInfo.InvariantCulture)}";
        NodeProcess StartNode(int i) => NodeProcess.Start($"storage-{i + 1}", _dir.Path,
        [
            "--config", Path.Combine(NodeProcess.RepoRoot, "cluster-config", $"storage-{i + 1}.json"),
            $"--ForgeOne:Port={ports[i].ToString(CultureInfo.InvariantCulture)}",
            $"--ForgeOne:SeedNodes:0={Seed(0)}",
            $"--ForgeOne:SeedNodes:1={Seed(1)}",
            $"--ForgeOne:DataRoot={Path.Combine(_dir.Path, "data")}",
            $"--ForgeOne:KeysDirectory={Path.Combine(_dir.Path, "keys")}",
            $"--ForgeOne:BootstrapKeyFile={Path.Combine(_dir.Path, "keys", "bootstrap-admin.key")}",
            "--ForgeOne:Failure:StableAfter=00:00:03",
            "--ForgeOne:Failure:AcceptableHeartbeatPause=00:00:02",
            "--ForgeOne:Failure:DownRemovalMargin=00:00:01",
            "--Logging:LogLevel:Akka=Warning",
        ]);

        _nodes.Add(StartNode(0));
        await _nodes[0].WaitReadyAsync(TimeSpan.FromSeconds(90));
        _nodes.Add(StartNode(1));
        _nodes.Add(StartNode(2));
        await Task.WhenAll(_nodes.Skip(1).Select(n => n.WaitReadyAsync(TimeSpan.FromSeconds(90))));

        // A service principal that writes and reads tenant acme, proven by a token minted with the
        // cluster's authentication key (the test holds the keys directory the nodes created).
        var keys = AuthenticationKeyring.LoadOrCreate(Path.Combine(_dir.Path, "keys"));
        var (token, _) = new TokenIssuer(keys, TimeProvider.System).Issue(Principal.Of("it-service", ["writer", "reader"], "acme", ["*"], 0), "it-service", TimeSpan.FromHours(1));
        _client = await ForgeOneActorClient.ConnectAsync([Seed(0), Seed(1)], new ShardCountOptions { Logs = 8, Events = 8, Blobs = 4 }, ClientCredential.FromToken(token),
            extraHocon: "akka.cluster.sharding.retry-interval = 200ms\nakka.remote.retry-gate-closed-for = 500ms",
            configure: o =>
            {
                // The client is a member too and may be the leader that applies the SBR decision.
                o.Failure = new FailureOptions
                {
                    StableAfter = TimeSpan.FromSeconds(3),
                    AcceptableHeartbeatPause = TimeSpan.FromSeconds(2),
                    DownRemovalMargin = TimeSpan.FromSeconds(1),
                };

                // The nodes' dev keys directory: the client issues itself a certificate from its CA.
                o.KeysDirectory = Path.Combine(_dir.Path, "keys");
            });

        var acked = new List<(RecordId Id, string Message)>();
        for (var round = 0; round < 4; round++)
        {
            var writes = Enumerable.Range(0, 50).Select(async i =>
            {
                var message = $"r{round}-e{i}";
                return (await _client.AppendLogAsync($"topic-{i}", new LogInput(DateTimeOffset.UtcNow, Severity.Info, message)), message);
            });
            acked.AddRange(await Task.WhenAll(writes));
        }

        var victim = _nodes[2];
        _output.WriteLine($"SIGKILL {victim.Name} (pid {victim.Pid}) after {acked.Count} acknowledged writes");
        victim.Kill();

        // Reads of shards that lived on the victim wait for the split brain resolver to down it
        // and for the shards to restart on the survivors from the shared data root.
        try
        {
            await Eventually(async () =>
            {
                foreach (var (id, message) in acked)
                {
                    Assert.Equal(message, (await _client.GetLogAsync(id)).Message);
                }
            }, TimeSpan.FromSeconds(90), "every acknowledged write readable after the kill");
        }
        catch (TimeoutException)
        {
            _output.WriteLine($"--- {_nodes[0].Name} output ---\n{_nodes[0].Output}");
            throw;
        }

        // And it keeps serving writes on every topic.
        var after = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => _client.AppendLogAsync($"topic-{i}", new LogInput(DateTimeOffset.UtcNow, Severity.Info, "after"))));
        Assert.Equal(50, after.Distinct().Count());
        Assert.False(_nodes[0].HasExited || _nodes[1].HasExited, "the survivors must keep running");
    }

    private static async Task Eventually(Func<Task> assertion, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
            }
            catch (Exception e)
            {
                throw new TimeoutException($"Timed out waiting for: {what}", e);
            }
        }
    }
}
