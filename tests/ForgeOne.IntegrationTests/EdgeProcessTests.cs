using System.Globalization;
using ForgeOne.Client.Http;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using Xunit.Abstractions;
using static ForgeOne.Cluster.Protocol.EventProtocol;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// Two storage node processes and one edge-only node process, used only over HTTP: an SSE
/// subscription keeps delivering every event once, in order, when the node hosting the topic's
/// shard is SIGKILLed; and a fresh stream resumed with Last-Event-ID continues exactly after it.
/// </summary>
[Trait("Category", "MultiProcess")]
public sealed class EdgeProcessTests(ITestOutputHelper output) : IDisposable
{
    private const int EventShards = 4;
    private readonly TempDir _dir = new();
    private readonly List<NodeProcess> _nodes = [];

    [Fact]
    public async Task Subscription_DeliversEveryEventOnceInOrder_WhenTheHostingNodeIsKilled()
    {
        // Two storage nodes split one against one: keep-majority keeps the side with the lowest
        // address, so storage-1 gets the lower port and storage-2 (higher) is the one killed;
        // otherwise the survivors down themselves and the edge process exits with them.
        var ports = Enumerable.Range(0, 3).Select(_ => NodeProcess.FreePort()).ToArray();
        (ports[0], ports[1]) = (Math.Min(ports[0], ports[1]), Math.Max(ports[0], ports[1]));
        string Seed(int i) => $"akka.ssl.tcp://forgeone@127.0.0.1:{ports[i].ToString(CultureInfo.InvariantCulture)}";
        NodeProcess StartNode(string name, int i, string role) => NodeProcess.Start(name, _dir.Path,
        [
            $"--ForgeOne:Port={ports[i].ToString(CultureInfo.InvariantCulture)}",
            $"--ForgeOne:SeedNodes:0={Seed(0)}",
            $"--ForgeOne:SeedNodes:1={Seed(1)}",
            $"--ForgeOne:Roles:0={role}",
            $"--ForgeOne:DataRoot={Path.Combine(_dir.Path, "data")}",
            $"--ForgeOne:KeysDirectory={Path.Combine(_dir.Path, "keys")}",
            $"--ForgeOne:BootstrapKeyFile={Path.Combine(_dir.Path, "keys", "bootstrap-admin.key")}",
            $"--ForgeOne:ShardCounts:Events={EventShards.ToString(CultureInfo.InvariantCulture)}",
            "--ForgeOne:Shards:NoSync=true",
            "--ForgeOne:Failure:StableAfter=00:00:03",
            "--ForgeOne:Failure:AcceptableHeartbeatPause=00:00:02",
            "--ForgeOne:Failure:DownRemovalMargin=00:00:01",
            "--Logging:LogLevel:Akka=Warning",
        ]);

        _nodes.Add(StartNode("storage-1", 0, "storage"));
        await _nodes[0].WaitReadyAsync(TimeSpan.FromSeconds(90));
        _nodes.Add(StartNode("storage-2", 1, "storage"));
        _nodes.Add(StartNode("edge", 2, "edge"));
        await Task.WhenAll(_nodes.Skip(1).Select(n => n.WaitReadyAsync(TimeSpan.FromSeconds(90))));
        var key = (await File.ReadAllTextAsync(Path.Combine(_dir.Path, "keys", "bootstrap-admin.key"))).Trim();
        var edge = _nodes[2].EdgeAddress ?? throw new InvalidOperationException("the edge printed no address:\n" + _nodes[2].Output);
        var client = new ForgeOneHttpClient(new HttpClient { BaseAddress = edge, Timeout = Timeout.InfiniteTimeSpan },
            new ForgeOneHttpClientOptions { ApiKey = key, RetryDeadline = TimeSpan.FromSeconds(90), SubscriptionReconnectDelay = TimeSpan.FromMilliseconds(200) });

        // A topic whose shard the non-seed storage node hosts (killing it keeps the seed's view simple).
        var storage2 = $"akka.ssl.tcp://forgeone@127.0.0.1:{ports[1].ToString(CultureInfo.InvariantCulture)}";
        string? topic = null;
        for (var i = 0; topic is null && i < 16; i++)
        {
            var candidate = $"orders.t{i}";
            await client.CreateTopicAsync(candidate, new TopicSettings());
            var placement = await client.GetShardPlacementAsync();
            var shard = ShardRouter.ShardFor(candidate, EventShards);
            if (placement.Placements.Any(p => p.Region == "events" && p.Node == storage2 && p.Shards.Contains(shard)))
            {
                topic = candidate;
            }
        }

        Assert.True(topic is not null, "no topic landed on storage-2");
        var published = new List<RecordId>(await client.PublishBatchAsync(topic, Events(0, 20)));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        var seen = new List<RecordId>();
        try
        {
            await SubscribeThroughKillAsync(topic);
        }
        catch (Exception e) when (_nodes[0].HasExited || _nodes[2].HasExited)
        {
            throw new InvalidOperationException($"a survivor exited (storage-1: {_nodes[0].HasExited}, edge: {_nodes[2].HasExited}):\n{_nodes[2].Output}", e);
        }

        Assert.Equal(published, seen);

        // A new stream resumed with Last-Event-ID = the 10th event delivers exactly the rest.
        var resumed = new List<RecordId>();
        await foreach (var e in client.SubscribeAsync(topic, SubscriptionStart.AfterId(published[9]), timeout.Token))
        {
            resumed.Add(e.Id);
            if (resumed.Count == 30)
            {
                break;
            }
        }

        Assert.Equal(published.Skip(10), resumed);
        Assert.False(_nodes[0].HasExited || _nodes[2].HasExited, "storage-1 and the edge keep running");

        async Task SubscribeThroughKillAsync(string topic)
        {
            await foreach (var e in client.SubscribeAsync(topic, SubscriptionStart.Beginning, timeout.Token))
            {
                seen.Add(e.Id);
                if (seen.Count == 10)
                {
                    output.WriteLine($"SIGKILL storage-2 (pid {_nodes[1].Pid}) after {seen.Count} events");
                    _nodes[1].Kill();
                    // Retried through the outage (the shard restarts on storage-1), written once.
                    for (var batch = 0; batch < 4; batch++)
                    {
                        published.AddRange(await client.PublishBatchAsync(topic, Events(20 + (batch * 5), 5), timeout.Token));
                    }
                }

                if (seen.Count == published.Count && published.Count == 40)
                {
                    break;
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        _dir.Dispose();
    }

    private static EventInput[] Events(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => new EventInput(DateTimeOffset.UtcNow, Priority.Normal, BitConverter.GetBytes(i)))];
}
