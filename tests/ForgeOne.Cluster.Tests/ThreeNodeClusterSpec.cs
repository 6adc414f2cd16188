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
/// all nodes, the oldest node (hosting the singletons) dies and is downed by the split brain
/// resolver, another leaves gracefully; every acknowledged write stays readable and the audit
/// sealer continues its seal chain on the survivor without a gap.
/// </summary>
/// <remarks>
/// A's death is a crash as far as its files can tell: from that moment every commit of A fails
/// (as if its process were gone, nothing more reaches its files: no final flush, no hand-off),
/// and its actor system stops without leaving the cluster. Only then do its LMDB environments
/// close, because B and C open the same files in this same process, which LMDB allows only
/// once the first environment is closed. The multi-process tests SIGKILL a real node.
/// Waits are on membership and log events; requests during a fail-over are retried until
/// answered (sharding delivers at most once), never a state polled.
/// </remarks>
public sealed class ThreeNodeClusterSpec : IAsyncLifetime
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    // Shard and sealer start-up are Info log events the test waits on.
    private const string InfoHocon = "akka.loglevel = INFO";
    private readonly ITestOutputHelper _output;
    private readonly TempRoot _root = new();
    private readonly List<InProcessNode> _nodes = [];
    private volatile bool _aDead;

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
    public async Task Cluster_SurvivesACrashedNodeAndAGracefulLeave_WithoutLosingAcknowledgedWritesOrSealNumbers()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => InProcessNode.FreePort()).ToArray();
        var a = await InProcessNode.StartAsync(
            InProcessNode.Options_(_root, ports[0], ports[0]),
            // A does not leave: no coordinated shutdown when its system stops or is downed.
            $"{InfoHocon}\nakka.coordinated-shutdown.run-by-actor-system-terminate = off\nakka.cluster.run-coordinated-shutdown-when-down = off",
            tuneHost: host => host with
            {
                OpenStore = options => new HookedStore(host.OpenStore(options))
                {
                    BeforeCommit = () =>
                    {
                        if (_aDead)
                        {
                            throw new IOException("node A crashed: nothing it writes reaches its files any more");
                        }
                    },
                },
            });
        _nodes.Add(a);
        var shardsOn = new Dictionary<string, Task<string>> { [a.Address] = ClusterEvents.LogAsync(a.System, OpensALogShard) };
        var rest = await Task.WhenAll(
            InProcessNode.StartAsync(InProcessNode.Options_(_root, ports[1], ports[0]), InfoHocon),
            InProcessNode.StartAsync(InProcessNode.Options_(_root, ports[2], ports[0]), InfoHocon));
        var (b, c) = (rest[0], rest[1]);
        _nodes.AddRange(rest);
        shardsOn[b.Address] = ClusterEvents.LogAsync(b.System, OpensALogShard);
        shardsOn[c.Address] = ClusterEvents.LogAsync(c.System, OpensALogShard);
        await ClusterEvents.MembersAsync(a.System, m => m.Count(x => x.Status == MemberStatus.Up) == 3, "three members up", Wait);

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

        // Shards live on all three nodes (allocation or the rebalancer spreads them; a node that
        // opened one keeps at least one: the rebalancer moves shards off the most loaded node).
        foreach (var (node, opened) in shardsOn)
        {
            await opened.Within(Wait, $"a log shard opening on {node}");
        }

        var hosts = new HashSet<string>();
        for (var n = 0; n < 9; n++)
        {
            var stats = await b.Cluster.Region(ShardKind.Logs).Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, n), Ask);
            hosts.Add(stats.Node);
        }

        Assert.Equal(3, hosts.Count);

        // The backup coordinator (also on A) persists a schedule that must survive A's death.
        var schedule = await b.Cluster.Backup.Ask<BackupProtocol.BackupSchedule>(new BackupProtocol.SetBackupSchedule(Callers.Admin, TimeSpan.FromDays(7), TimeSpan.FromHours(6), TimeSpan.FromDays(91)), Ask);
        Assert.Equal(a.Address, schedule.Node);

        // The sealer runs on the oldest node (A). Make sure it has sealed before A dies.
        var sealBefore = Assert.IsType<SealerProtocol.SealDone>(await b.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.Admin), Ask));
        Assert.Equal(a.Address, sealBefore.Node);
        _output.WriteLine($"seal {sealBefore.Number} on {sealBefore.Node} before fail-over");

        // A crashes: the survivors' split brain resolver downs it, shards and singletons move.
        var sealerMoved = Task.WhenAny(ClusterEvents.LogAsync(b.System, IsSealerRecovered), ClusterEvents.LogAsync(c.System, IsSealerRecovered)).Unwrap();
        _aDead = true;
        await a.System.Terminate();
        _nodes.Remove(a);
        await ClusterEvents.MembersAsync(b.System, m => m.All(x => x.Address.ToString() != a.Address), "A downed and removed", Wait);

        await AssertAllReadable(b, acked);
        _output.WriteLine(await sealerMoved.Within(Wait, "the sealer recovering on B or C"));
        var afterDown = Assert.IsType<SealerProtocol.SealDone>(await RetriedRequests.UntilAnsweredAsync(t => b.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.Admin), t), "a seal after fail-over"));
        Assert.NotEqual(a.Address, afterDown.Node);
        var recovered = await b.Cluster.Backup.Ask<BackupProtocol.BackupSchedule>(new BackupProtocol.GetBackupSchedule(Callers.Admin), Ask);
        Assert.Equal(TimeSpan.FromHours(6), recovered.Incremental);
        Assert.Equal("root", recovered.SetBy);
        Assert.NotEqual(a.Address, recovered.Node);

        // C leaves gracefully: its shards hand off (flush + close) and restart on B, and so does
        // the sealer if C held it.
        var sealerOnB = afterDown.Node == b.Address ? Task.FromResult("already on B") : ClusterEvents.LogAsync(b.System, IsSealerRecovered);
        await CoordinatedShutdown.Get(c.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);
        _nodes.Remove(c);
        await ClusterEvents.MembersAsync(b.System, m => m.Count == 1, "C left", Wait);

        // More writes on the survivor, then everything acknowledged is readable.
        var late = await RetriedRequests.UntilAnsweredAsync(t => b.Cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, "topic-late", TestHosts.Entry("late")), t), "a write on the survivor");
        acked.Add((((LogAppended)late).Id, "late"));
        await AssertAllReadable(b, acked);

        _output.WriteLine(await sealerOnB.Within(Wait, "the sealer on B"));
        var last = Assert.IsType<SealerProtocol.SealDone>(await RetriedRequests.UntilAnsweredAsync(t => b.Cluster.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.Admin), t), "a seal on B"));
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

    private static bool OpensALogShard(string message) => message.StartsWith("Shard logs-", StringComparison.Ordinal) && message.Contains(" open on ", StringComparison.Ordinal);

    private static bool IsSealerRecovered(string message) => message.StartsWith("Audit sealer recovered on ", StringComparison.Ordinal);

    // Each read is retried until answered (a read sent to a shard's old home may be dropped
    // while it moves); the answer must then be exactly the acknowledged entry.
    private static async Task AssertAllReadable(InProcessNode via, List<(RecordId Id, string Message)> acked)
    {
        var reads = acked.Select(async w => (w, await RetriedRequests.UntilAnsweredAsync(t => via.Cluster.Region(ShardKind.Logs).Ask<object>(new GetLog(Callers.Reader, w.Id), t), $"reading {w.Id}")));
        foreach (var (w, reply) in await Task.WhenAll(reads))
        {
            var found = Assert.IsType<LogFound>(reply);
            Assert.Equal(w.Message, found.Entry.Message);
        }
    }
}
