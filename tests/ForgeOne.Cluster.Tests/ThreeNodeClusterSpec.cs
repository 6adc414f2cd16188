using Akka.Actor;
using Akka.Cluster;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Security;
using Xunit.Abstractions;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests;

/// <summary>
/// Three ActorSystems on loopback in one process, sharing one data root: writes spread over
/// all nodes, the oldest node (hosting the singletons) dies abruptly and is downed by the split
/// brain resolver, another leaves gracefully; every acknowledged write stays readable and the
/// audit sealer continues its seal chain on the survivor without a gap.
/// </summary>
public sealed class ThreeNodeClusterSpec : IAsyncLifetime
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(30);
    private readonly ITestOutputHelper _output;
    private readonly TempRoot _root = new();
    private readonly List<InProcessNode> _nodes = [];

    public ThreeNodeClusterSpec(ITestOutputHelper output)
    {
        _output = output;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _root.Dispose();
    }

    [Fact]
    public async Task Cluster_SurvivesAbruptDownAndGracefulLeave_WithoutLosingAcknowledgedWritesOrSealNumbers()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => InProcessNode.FreePort()).ToArray();
        var a = await InProcessNode.StartAsync(
            InProcessNode.Options_(_root, ports[0], ports[0]),
            // A dies like a killed process: no coordinated shutdown, no leave.
            "akka.coordinated-shutdown.run-by-actor-system-terminate = off\nakka.cluster.run-coordinated-shutdown-when-down = off");
        _nodes.Add(a);
        var rest = await Task.WhenAll(
            InProcessNode.StartAsync(InProcessNode.Options_(_root, ports[1], ports[0])),
            InProcessNode.StartAsync(InProcessNode.Options_(_root, ports[2], ports[0])));
        var (b, c) = (rest[0], rest[1]);
        _nodes.AddRange(rest);
        await Eventually(() => Assert.Equal(3, Akka.Cluster.Cluster.Get(a.System).State.Members.Count(m => m.Status == MemberStatus.Up)), "three members up");

        // Writes through every node, over many topics.
        var acked = new List<(RecordId Id, string Message)>();
        var writes = Enumerable.Range(0, 300).Select(async i =>
        {
            var via = _nodes[i % 3].Cluster.Region(ShardKind.Logs);
            var message = $"entry-{i}";
            var reply = await via.Ask<object>(new AppendLog(Callers.Writer, $"topic-{i}", TestHosts.Entry(message)), Ask);
            return (((LogAppended)reply).Id, message);
        });
        acked.AddRange(await Task.WhenAll(writes));

        // Shards live on all three nodes (allocation or the rebalancer spreads them).
        await Eventually(async () =>
        {
            var hosts = new HashSet<string>();
            for (var n = 0; n < 9; n++)
            {
                var stats = await b.Cluster.Region(ShardKind.Logs).Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, n), Ask);
                hosts.Add(stats.Node);
            }

            Assert.Equal(3, hosts.Count);
        }, "log shards hosted on all three nodes");

        // The backup coordinator (also on A) persists a schedule that must survive A's death.
        var schedule = await b.Cluster.Backup.Ask<BackupProtocol.BackupSchedule>(new BackupProtocol.SetBackupSchedule(Callers.Admin, TimeSpan.FromDays(7), TimeSpan.FromHours(6), TimeSpan.FromDays(91)), TimeSpan.FromSeconds(30));
        Assert.Equal(a.Address, schedule.Node);

        // The sealer runs on the oldest node (A). Make sure it has sealed before A dies.
        var before = await b.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.Admin), TimeSpan.FromSeconds(30));
        var sealBefore = Assert.IsType<SealerProtocol.SealDone>(before);
        Assert.Equal(a.Address, sealBefore.Node);
        _output.WriteLine($"seal {sealBefore.Number} on {sealBefore.Node} before fail-over");

        // A dies abruptly: the survivors' split brain resolver downs it, shards and singletons move.
        await a.System.Terminate();
        _nodes.Remove(a);
        await Eventually(() => Assert.DoesNotContain(Akka.Cluster.Cluster.Get(b.System).State.Members, m => m.Address.ToString() == a.Address), "A downed and removed");

        await AssertAllReadable(b, acked);
        var afterDown = await Eventually(async () => Assert.IsType<SealerProtocol.SealDone>(await b.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.Admin), Ask)), "sealer failed over");
        Assert.NotEqual(a.Address, afterDown.Node);
        var recovered = await b.Cluster.Backup.Ask<BackupProtocol.BackupSchedule>(new BackupProtocol.GetBackupSchedule(Callers.Admin), Ask);
        Assert.Equal(TimeSpan.FromHours(6), recovered.Incremental);
        Assert.Equal("root", recovered.SetBy);
        Assert.NotEqual(a.Address, recovered.Node);

        // C leaves gracefully: its shards hand off (flush + close) and restart on B.
        await CoordinatedShutdown.Get(c.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        _nodes.Remove(c);
        await Eventually(() => Assert.Single(Akka.Cluster.Cluster.Get(b.System).State.Members), "C left");

        // More writes on the survivor, then everything acknowledged is readable.
        var late = await b.Cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, "topic-late", TestHosts.Entry("late")), Ask);
        acked.Add((((LogAppended)late).Id, "late"));
        await AssertAllReadable(b, acked);

        var last = await Eventually(async () => Assert.IsType<SealerProtocol.SealDone>(await b.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.Admin), Ask)), "sealer on B");
        Assert.Equal(b.Address, last.Node);
        var history = await b.Cluster.Sealer.Ask<SealerProtocol.SealHistory>(new SealerProtocol.GetSealHistory(Callers.Admin), Ask);
        Assert.Equal(Enumerable.Range(1, history.Numbers.Length).Select(i => (long)i), history.Numbers);
        Assert.True(last.Number > sealBefore.Number);

        // The chain of seals verifies with the public key alone.
        using var signer = AuditSigner.LoadOrCreate(_root.KeysDirectory, _root.DataRoot);
        using var verifier = new SealVerifier(signer.ExportPublicKeyPem());
        var verification = verifier.VerifyHistory(history.Seals.Select(s => SealCodec.Decode(s)));
        Assert.True(verification.IsValid, verification.Message);
    }

    private static async Task AssertAllReadable(InProcessNode via, List<(RecordId Id, string Message)> acked) =>
        await Eventually(async () =>
        {
            var reads = acked.Select(async w => (w, await via.Cluster.Region(ShardKind.Logs).Ask<object>(new GetLog(Callers.Reader, w.Id), Ask)));
            foreach (var (w, reply) in await Task.WhenAll(reads))
            {
                var found = Assert.IsType<LogFound>(reply);
                Assert.Equal(w.Message, found.Entry.Message);
            }
        }, "every acknowledged write readable");

    private static Task Eventually(Action assertion, string what) => Eventually(() =>
    {
        assertion();
        return Task.CompletedTask;
    }, what);

    private static async Task Eventually(Func<Task> assertion, string what)
    {
        await Eventually(async () =>
        {
            await assertion();
            return 0;
        }, what);
    }

    private static async Task<T> Eventually<T>(Func<Task<T>> assertion, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await assertion();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            catch (Exception e)
            {
                throw new TimeoutException($"Timed out waiting for: {what}", e);
            }
        }
    }
}
