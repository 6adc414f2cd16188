using Akka.Actor;
using ForgeOne.Backup;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Security;
using Microsoft.Extensions.Time.Testing;
using static ForgeOne.Cluster.Protocol.BackupProtocol;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Backup;

/// <summary>
/// The schedule runs on the injected clock: a full backup when there is none, drills of every
/// region once one exists, an incremental a day later, a full again after a week.
/// </summary>
public sealed class BackupScheduleSpec : IAsyncLifetime
{
    private static readonly PrincipalToken Operator = TestAuth.Token("ops", ["operator"], null, ["*"], 0);
    private readonly TempRoot _root = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private InProcessNode? _node;
    private BackupEvents? _events;

    public async Task InitializeAsync()
    {
        var port = InProcessNode.FreePort();
        var options = BackupCoordinatorSpec.WithTargets(InProcessNode.Options_(_root, port, port), _root, scheduled: true);
        options.SeedNodes = [];
        _node = await InProcessNode.StartAsync(options, time: _time);
        _events = new BackupEvents(_node.System);
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
    public async Task ScheduledBackupsAndDrills_FireOnTheInjectedClock()
    {
        var coordinator = _node!.Cluster.Backup;
        var events = _events!;
        await Append("scheduled", 5);

        // Nothing completed yet: a full is due at once (after the coordinator's start-up grace), then a drill of each region.
        Assert.IsType<BackupProtocol.BackupSchedule>(await coordinator.Ask<object>(new GetBackupSchedule(Operator), BackupCoordinatorSpec.Ask));
        _time.Advance(TimeSpan.FromSeconds(1));
        var started = await events.Next<BackupStarted>();
        // The schedule runs as the node's own principal.
        Assert.Equal((BackupType.Full, NodeSecurity.NodePrefix + _node.Address), (started.Type, started.By));
        await events.Next<BackupCompleted>(c => c.Id == started.Id);
        var drills = new[] { await events.Next<DrillRecorded>(), await events.Next<DrillRecorded>() };
        Assert.Equal(["eu-west", "us-east"], drills.Select(d => d.Region).Order());
        Assert.All(drills, d => Assert.True(d.Passed));

        // A day later: an incremental of the full.
        await Append("scheduled", 3);
        _time.Advance(TimeSpan.FromDays(1));
        var incremental = await events.Next<BackupStarted>();
        Assert.Equal((BackupType.Incremental, started.Id), (incremental.Type, incremental.Parent));
        await events.Next<BackupCompleted>(c => c.Id == incremental.Id);

        // A week after the full: a full again (and no drill yet: the last ones are a week old).
        _time.Advance(TimeSpan.FromDays(6));
        var second = await events.Next<BackupStarted>();
        Assert.Equal(BackupType.Full, second.Type);
        await events.Next<BackupCompleted>(c => c.Id == second.Id);
        var schedule = Assert.IsType<BackupProtocol.BackupSchedule>(await coordinator.Ask<object>(new GetBackupSchedule(Operator), BackupCoordinatorSpec.Ask));
        Assert.Equal((TimeSpan.FromDays(7), TimeSpan.FromDays(1), TimeSpan.FromDays(91)), (schedule.Full, schedule.Incremental, schedule.Drill));
        Assert.Equal(drills.Max(d => d.At) + TimeSpan.FromDays(91), schedule.NextDrillAt);
    }

    private async Task Append(string topic, int n)
    {
        for (var i = 0; i < n; i++)
        {
            Assert.IsType<LogAppended>(await _node!.Cluster.Region(ShardKind.Logs).Ask<object>(new AppendLog(Callers.Writer, topic, TestHosts.Entry($"{topic} {i}")), BackupCoordinatorSpec.Ask));
        }
    }

}
