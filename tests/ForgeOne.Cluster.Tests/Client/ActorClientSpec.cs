using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using ForgeOne.Client;
using ForgeOne.Cluster.Protocol;

namespace ForgeOne.Cluster.Tests.Client;

/// <summary>Records every warning and error of the actor systems that load it (<c>akka.loggers</c>).</summary>
public sealed class RecordingLogger : ReceiveActor
{
    public static readonly ConcurrentQueue<(string Source, string Message)> Warnings = new();

    public RecordingLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<Warning>(w => Warnings.Enqueue((w.LogSource, w.Message?.ToString() ?? "")));
        Receive<Error>(e => Warnings.Enqueue((e.LogSource, e.Message?.ToString() ?? "")));
        ReceiveAny(_ => { });
    }

    public static string Hocon => $"akka.loggers = [\"{typeof(RecordingLogger).FullName}, {typeof(RecordingLogger).Assembly.GetName().Name}\"]";
}

/// <summary>One storage node and a .NET actor client joined to it.</summary>
public sealed class ActorClientSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Connect_StartsNoSingletonProxies_AndLogsNoSingletonWarning()
    {
        using var root = new TempRoot();
        var port = InProcessNode.FreePort();
        var node = await InProcessNode.StartAsync(InProcessNode.Options_(root, port, port));
        try
        {
            var client = await ForgeOneActorClient.ConnectAsync([$"akka.ssl.tcp://forgeone@127.0.0.1:{port}"], node.Options.ShardCounts, ClientCredential.FromToken(Callers.Writer), extraHocon: RecordingLogger.Hocon, configure: o => o.KeysDirectory = root.KeysDirectory);
            var clientAddress = Akka.Cluster.Cluster.Get(client.System).SelfAddress.ToString();
            try
            {
                // A round trip through the cluster: anything the client logs at start is logged by now.
                await client.AppendLogAsync("client.app", TestHosts.Entry());

                foreach (var name in new[] { "audit-sealer-proxy", "key-rotation-proxy", "backup-proxy", "retention-sweeper-proxy" })
                {
                    await Assert.ThrowsAsync<ActorNotFoundException>(() => client.System.ActorSelection($"/user/{name}").ResolveOne(Wait));
                }

                Assert.DoesNotContain(RecordingLogger.Warnings, w => w.Source.StartsWith(clientAddress, StringComparison.Ordinal) && w.Message.Contains("Singleton", StringComparison.OrdinalIgnoreCase));
            }
            finally
            {
                await client.DisposeAsync();
            }
        }
        finally
        {
            await node.System.Terminate();
        }
    }

    [Fact]
    public async Task ConcurrentSingleAppends_AreCoalesced_EachWrittenOnceWithItsOwnId()
    {
        using var root = new TempRoot();
        var port = InProcessNode.FreePort();
        var node = await InProcessNode.StartAsync(InProcessNode.Options_(root, port, port));
        try
        {
            await using var client = await ForgeOneActorClient.ConnectAsync([$"akka.ssl.tcp://forgeone@127.0.0.1:{port}"], node.Options.ShardCounts, ClientCredential.FromToken(Callers.Writer), configure: o => o.KeysDirectory = root.KeysDirectory);
            var from = DateTimeOffset.UtcNow.AddMinutes(-1);
            var topics = Enumerable.Range(0, 4).Select(i => $"coalesce-{i}").ToArray();

            var ids = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => client.AppendLogAsync(topics[i % 4], TestHosts.Entry($"m{i}"))));

            Assert.Equal(2000, ids.Distinct().Count());
            var counters = client.Counters;
            Assert.Equal(2000, counters.CoalescedWrites);
            Assert.True(counters.CoalescedBatches < 2000 / 5, $"2000 concurrent appends took {counters.CoalescedBatches} batches");
            foreach (var topic in topics)
            {
                var count = Assert.IsType<LogProtocol.LogCount>(await client.Ask(new LogProtocol.CountLogs(Callers.Reader, topic, from, DateTimeOffset.UtcNow.AddMinutes(1))));
                Assert.Equal(500, count.Count);
            }

            var entry = Assert.IsType<LogProtocol.LogFound>(await client.Ask(new LogProtocol.GetLog(Callers.Reader, ids[1234]))).Entry;
            Assert.Equal("m1234", entry.Message);
        }
        finally
        {
            await node.System.Terminate();
        }
    }
}
