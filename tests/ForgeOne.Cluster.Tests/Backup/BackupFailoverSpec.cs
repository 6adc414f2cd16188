using Akka.Actor;
using Akka.Cluster;
using ForgeOne.Backup;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;
using ForgeOne.Security;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.BackupProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Backup;

/// <summary>
/// Three ActorSystems sharing one data root; the node hosting the backup coordinator dies in
/// the middle of a backup. The coordinator's next incarnation on a survivor resumes it from its
/// journal: the shards already copied stay copied, the rest are copied again under new attempt
/// numbers, and the backup completes with every file in both regions and a chain that restores.
/// </summary>
public sealed class BackupFailoverSpec : IAsyncLifetime
{
    private static readonly PrincipalToken Operator = TestAuth.Token("ops", ["operator"], null, ["*"], 0);
    private readonly TempRoot _root = new();
    private readonly List<InProcessNode> _nodes = [];

    // Log shards wait here (on every node) until the test lets them go.
    private readonly ManualResetEventSlim _logsMayWrite = new(false);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _logsMayWrite.Set();
        foreach (var node in _nodes)
        {
            await node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _root.Dispose();
    }

    [Fact]
    public async Task CoordinatorDiesMidBackup_TheBackupIsResumedOnASurvivor_AndCompletesWithEveryFile()
    {
        var ports = Enumerable.Range(0, 3).Select(_ => InProcessNode.FreePort()).ToArray();
        ShardHost Gate(ShardHost host) => host with { Backup = new GatedWriter(host.Backup!, _logsMayWrite) };
        var a = await InProcessNode.StartAsync(
            BackupCoordinatorSpec.WithTargets(InProcessNode.Options_(_root, ports[0], ports[0]), _root),
            "akka.coordinated-shutdown.run-by-actor-system-terminate = off\nakka.cluster.run-coordinated-shutdown-when-down = off",
            tuneHost: Gate);
        _nodes.Add(a);
        _nodes.AddRange(await Task.WhenAll(
            InProcessNode.StartAsync(BackupCoordinatorSpec.WithTargets(InProcessNode.Options_(_root, ports[1], ports[0]), _root), tuneHost: Gate),
            InProcessNode.StartAsync(BackupCoordinatorSpec.WithTargets(InProcessNode.Options_(_root, ports[2], ports[0]), _root), tuneHost: Gate)));
        var (b, c) = (_nodes[1], _nodes[2]);
        var events = new BackupEvents(a.System, b.System, c.System);
        await Eventually(() => Akka.Cluster.Cluster.Get(a.System).State.Members.Count(m => m.Status == MemberStatus.Up) == 3);
        for (var i = 0; i < 30; i++)
        {
            Assert.IsType<LogAppended>(await b.Cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, $"t{i % 6}", TestHosts.Entry($"m{i}")), BackupCoordinatorSpec.Ask));
        }

        // The coordinator (on the oldest node, A) starts; the system shard is copied, the log shards block.
        var accepted = Assert.IsType<BackupAccepted>(await b.Cluster.Backup.Ask<object>(new RunBackup(Operator, BackupKind.Full), BackupCoordinatorSpec.Ask));
        var first = await events.Next<ShardBackedUp>(e => e.BackupId == accepted.Id);
        Assert.Equal(ShardKind.System, first.Entry.Ref.Kind);

        await a.System.Terminate();
        _nodes.Remove(a);
        _logsMayWrite.Set();

        var completed = await events.Next<BackupCompleted>(e => e.Id == accepted.Id, TimeSpan.FromSeconds(120));
        Assert.Equal(["eu-west", "us-east"], completed.Regions);
        var info = Assert.IsType<BackupInfo>(await b.Cluster.Backup.Ask<object>(new AwaitOperation(Operator, accepted.Id), BackupCoordinatorSpec.Ask));
        Assert.Equal("completed", info.Status);
        Assert.Equal(info.Shards, info.ShardsDone);

        // Every file of every shard is in both regions, the superseded attempts are gone, and it restores.
        using var signer = ForgeOne.Security.AuditSigner.LoadOrCreate(_root.KeysDirectory, _root.DataRoot);
        var targets = ForgeOne.Cluster.Hosting.BackupHosting.Targets(b.Options);
        var repository = new BackupRepository(targets, signer.ExportPublicKeyPem());
        var manifest = repository.Load(accepted.Id).Manifest;
        Assert.Equal(1 + 3 + 1 + 1, manifest.Shards.Length);
        foreach (var target in targets)
        {
            BackupPublisher.Check(manifest, target, rehash: true);
            Assert.Equal(manifest.Shards.Select(s => s.File).Order(StringComparer.Ordinal), target.Files(BackupTarget.BackupFolder(accepted.Id)).Where(f => f.EndsWith(".fob", StringComparison.Ordinal)));
        }

        Assert.Contains(manifest.Shards, s => s.Kind == "logs" && !s.File.EndsWith(".a1.fob", StringComparison.Ordinal));
        var scratch = Path.Combine(_root.Root, "verify");
        var restored = Restorer.RestoreInto(scratch, repository.Chain(accepted.Id), repository, new ForgeOne.Security.FileKekProvider(_root.KeysDirectory, _root.DataRoot));
        Assert.Equal(manifest.Shards.Length, restored.Shards.Count);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("cluster did not form");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Holds log shards' backup files until the gate opens (or the shard stops).</summary>
    private sealed class GatedWriter(IShardBackupWriter inner, ManualResetEventSlim gate) : IShardBackupWriter
    {
        public (ShardManifest Entry, IReadOnlyList<string> Regions) Write(IShardStore store, ShardBackupRequest request, CancellationToken cancellation)
        {
            if (request.Shard.Kind == ShardKind.Logs)
            {
                WaitHandle.WaitAny([gate.WaitHandle, cancellation.WaitHandle]);
                cancellation.ThrowIfCancellationRequested();
            }

            return inner.Write(store, request, cancellation);
        }
    }
}
