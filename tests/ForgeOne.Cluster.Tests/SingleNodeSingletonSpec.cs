using Akka.Actor;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests;

/// <summary>The key rotation coordinator on a one-node cluster: on-demand rotation of every shard.</summary>
public sealed class SingleNodeSingletonSpec : IAsyncLifetime
{
    private static readonly TimeSpan Ask = TimeSpan.FromSeconds(30);
    private readonly TempRoot _root = new();
    private InProcessNode? _node;

    public async Task InitializeAsync()
    {
        var port = InProcessNode.FreePort();
        var options = InProcessNode.Options_(_root, port, port);
        options.SeedNodes = [];
        _node = await InProcessNode.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.System.Terminate().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _root.Dispose();
    }

    [Fact]
    public async Task RotateAll_RotatesEveryShardRecordsKeyEventsAndOldRecordsStillDecrypt()
    {
        var logs = _node!.Cluster.Region(ShardKind.Logs);
        var before = (LogAppended)await logs.Ask<object>(new AppendLog(Callers.Writer, "rotating", TestHosts.Entry("before rotation")), Ask);

        var done = await _node.Cluster.KeyRotation.Ask<KeyRotationProtocol.RotationDone>(new KeyRotationProtocol.RotateAll(Callers.Admin, "test"), Ask);
        var shardCount = _node.Options.ShardCounts.ToCounts().All().Count();
        Assert.Empty(done.Failures);
        Assert.Equal(shardCount, done.Checked);
        Assert.Equal(shardCount, done.Rotated);

        var history = await _node.Cluster.KeyRotation.Ask<KeyRotationProtocol.KeyEventHistory>(new KeyRotationProtocol.GetKeyEventHistory(Callers.Admin), Ask);
        Assert.Contains(history.Events, e => e.Contains("logs-", StringComparison.Ordinal));
        Assert.True(history.Events.Length >= shardCount);

        // Old record: written under v1, now decrypt-only. New record: written under v2.
        var found = (LogFound)await logs.Ask<object>(new GetLog(Callers.Reader, before.Id), Ask);
        Assert.Equal("before rotation", found.Entry.Message);
        var after = (LogAppended)await logs.Ask<object>(new AppendLog(Callers.Writer, "rotating", TestHosts.Entry("after rotation")), Ask);
        Assert.Equal("after rotation", ((LogFound)await logs.Ask<object>(new GetLog(Callers.Reader, after.Id), Ask)).Entry.Message);

        // Not due again: a scheduled check rotates nothing.
        var stats = await logs.Ask<ShardProtocol.KeyRotated>(new ShardProtocol.RotateKey(Callers.System, ShardKind.Logs, before.Id.Shard, "check", OnlyIfDue: true), Ask);
        Assert.False(stats.Rotated);
        Assert.Equal(2, stats.ActiveVersion);
    }

    [Fact]
    public async Task Singletons_RefuseAPrincipalWithoutThePermission_WithTheirOwnFailureReply()
    {
        var node = _node!.Cluster;
        var op = TestAuth.Token("ops", ["operator"], null, ["*"], 0);

        var seal = await node.Sealer.Ask<object>(new SealerProtocol.SealNow(Callers.Reader), Ask);
        var rotate = await node.KeyRotation.Ask<object>(new KeyRotationProtocol.RotateAll(Callers.Writer, "not yours"), Ask);
        var schedule = await node.Backup.Ask<object>(new BackupProtocol.GetBackupSchedule(Callers.Reader), Ask);
        var set = await node.Backup.Ask<object>(new BackupProtocol.SetBackupSchedule(op, TimeSpan.FromDays(1), TimeSpan.FromHours(6), TimeSpan.FromDays(7)), Ask);

        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<SealerProtocol.SealFailed>(seal).Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<KeyRotationProtocol.RotationFailed>(rotate).Error.Code);
        Assert.Equal(ErrorCodes.Forbidden, Assert.IsType<BackupProtocol.BackupOperationFailed>(schedule).Error.Code);
        var stored = Assert.IsType<BackupProtocol.BackupSchedule>(set);
        Assert.Equal((TimeSpan.FromHours(6), "ops"), (stored.Incremental, stored.SetBy));
    }
}
