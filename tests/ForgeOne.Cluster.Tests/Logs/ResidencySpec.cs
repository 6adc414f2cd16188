using Akka.Actor;
using Akka.Cluster;
using ForgeOne.Cluster.Compliance;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Storage;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests.Logs;

/// <summary>Two storage nodes, region eu and region us, in one process on loopback, shared by the residency specs.</summary>
public sealed class TwoRegionCluster : IAsyncLifetime
{
    private readonly TempRoot _root = new();

    public InProcessNode Eu { get; private set; } = null!;

    public InProcessNode Us { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var (euPort, usPort) = (InProcessNode.FreePort(), InProcessNode.FreePort());
        Eu = await InProcessNode.StartAsync(Options(euPort, euPort, "eu"));
        Us = await InProcessNode.StartAsync(Options(usPort, euPort, "us"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Akka.Cluster.Cluster.Get(Eu.System).State.Members.Count(m => m.Status == MemberStatus.Up) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the eu and us nodes to be Up");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        await Task.WhenAll(Us.System.Terminate(), Eu.System.Terminate()).WaitAsync(TimeSpan.FromSeconds(30));
        _root.Dispose();
    }

    private Hosting.ForgeOneNodeOptions Options(int port, int seedPort, string region)
    {
        var options = InProcessNode.Options_(_root, port, seedPort);
        options.ShardCounts = new Hosting.ShardCountOptions { Logs = 4, Events = 2, Blobs = 2 };
        options.Region = region;
        options.ResidencyZones = ["eu", "us"];
        options.Compliance = new Hosting.ComplianceOptions { MetricsInterval = TimeSpan.FromHours(1), RetentionSweepInterval = TimeSpan.FromHours(1) };
        return options;
    }
}

/// <summary>Residency across two regions, metrics collection and the retention sweeper singleton.</summary>
public sealed class ResidencySpec : IClassFixture<TwoRegionCluster>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private readonly TwoRegionCluster _cluster;

    public ResidencySpec(TwoRegionCluster cluster)
    {
        _cluster = cluster;
    }

    [Theory]
    [InlineData("eu")]
    [InlineData("us")]
    public async Task ZoneData_LandsOnlyOnShardsOfNodesOfThatRegion(string zone)
    {
        var home = zone == "eu" ? _cluster.Eu : _cluster.Us;

        // Sent through the other node: the router must carry it to the zone's region.
        var via = zone == "eu" ? _cluster.Us : _cluster.Eu;
        var hosting = new HashSet<(string Node, string File)>();
        for (var i = 0; i < 6; i++)
        {
            var topic = $"{zone}.app{i}";
            Assert.IsType<LogTopicPolicySet>(await via.Cluster.AskAsync(new SetLogTopicPolicy(Callers.Admin, topic, TimeSpan.FromDays(30), false, zone), Timeout));
            var appended = Assert.IsType<LogAppended>(await via.Cluster.AskAsync(new AppendLog(Callers.Writer, topic, TestHosts.Entry("resident"), zone), Timeout));
            var found = Assert.IsType<LogFound>(await via.Cluster.AskAsync(new GetLog(Callers.Reader, appended.Id, zone), Timeout));
            Assert.Equal("resident", found.Entry.Message);
            var stats = await via.Cluster.ZoneRegions[(ShardKind.Logs, zone)].Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(ShardKind.Logs, appended.Id.Shard), Timeout);
            hosting.Add((stats.Node, stats.FilePath));
        }

        Assert.All(hosting, h =>
        {
            Assert.Equal(home.Address, h.Node);
            Assert.Contains($"{Path.DirectorySeparatorChar}zones{Path.DirectorySeparatorChar}{zone}{Path.DirectorySeparatorChar}logs{Path.DirectorySeparatorChar}", h.File, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Write_ForAZoneWithNoNode_IsRefusedWithoutBeingSent()
    {
        var reply = Assert.IsType<LogFailed>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(Callers.Writer, "ap.app", TestHosts.Entry(), "ap"), Timeout));

        Assert.Equal(ErrorCodes.ResidencyUnavailable, reply.Error.Code);
        Assert.Contains("'ap'", reply.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZoneLessWrites_StillUseTheDefaultRegion()
    {
        var appended = Assert.IsType<LogAppended>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(Callers.Writer, "plain.app", TestHosts.Entry("plain")), Timeout));
        var stats = await _cluster.Eu.Cluster.Region(ShardKind.Logs).Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(ShardKind.Logs, appended.Id.Shard), Timeout);

        Assert.DoesNotContain($"{Path.DirectorySeparatorChar}zones{Path.DirectorySeparatorChar}", stats.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsCollector_WritesNodeAndShardSamplesToTheSystemStore()
    {
        // Make sure at least one log shard is hosted on the eu node before collecting.
        await _cluster.Eu.Cluster.AskAsync(new AppendLog(Callers.Writer, "eu.metrics", TestHosts.Entry(), "eu"), Timeout);
        var collector = _cluster.Eu.System.ActorSelection("/user/metrics-collector");

        var recorded = await collector.Ask<object>(MetricsCollector.Collect.Instance, Timeout);
        var samples = Assert.IsType<SystemProtocol.MetricList>(await _cluster.Eu.Cluster.Region(ShardKind.System)
            .Ask<object>(new SystemProtocol.QueryMetrics(Callers.Admin, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)), Timeout)).Samples;

        Assert.IsType<SystemProtocol.MetricsRecorded>(recorded);
        Assert.Contains(samples, s => s.Name == "node.gc_heap_bytes" && s.Labels["node"] == _cluster.Eu.Address && s.Value > 0);
        Assert.Contains(samples, s => s.Name == "shard.commits" && s.Labels["node"] == _cluster.Eu.Address);
    }

    [Fact]
    public async Task RetentionSweeper_SweepsEveryLogShardOfEveryZoneOnDemand()
    {
        var topic = "eu.sweep";
        await _cluster.Eu.Cluster.AskAsync(new SetLogTopicPolicy(Callers.Admin, topic, TimeSpan.FromHours(1), false, "eu"), Timeout);
        var entry = new LogInput(DateTimeOffset.UtcNow.AddMinutes(-59).AddSeconds(-59), Severity.Info, "about to expire");
        Assert.IsType<LogAppended>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(Callers.Writer, topic, entry, "eu"), Timeout));

        // Expiry is a wall-clock matter on a live cluster: wait until the entry is past its hour.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long deleted = 0;
        while (deleted == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the sweeper to delete the expired entry");
            deleted = (await _cluster.Eu.Cluster.RetentionSweeperProxy.Ask<RetentionSweeper.SweepCompleted>(RetentionSweeper.SweepNow.Instance, Timeout)).Deleted;
        }

        var count = Assert.IsType<LogCount>(await _cluster.Eu.Cluster.AskAsync(new CountLogs(Callers.Reader, topic, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow, "eu"), Timeout));
        Assert.Equal(1, deleted);
        Assert.Equal(0, count.Count);
    }

    [Fact]
    public async Task RetentionSweeper_SweepsExpiredEventsOfEveryZoneOnDemand()
    {
        var topic = "us.sweep-events";
        var created = await _cluster.Eu.Cluster.AskAsync(new EventProtocol.CreateTopic(Callers.Admin, topic, new EventProtocol.TopicSettings(Retention: TimeSpan.FromHours(1), ResidencyZone: "us"), "us"), Timeout);
        Assert.IsType<EventProtocol.TopicCreated>(created);

        // Inside the hour when published (one timestamp, so they expire together), past it two seconds later.
        var expiring = DateTimeOffset.UtcNow.AddHours(-1).AddSeconds(2);
        var events = Enumerable.Range(0, 3).Select(i => new EventProtocol.EventInput(expiring, Priority.Normal, [(byte)i])).ToArray();
        Assert.IsType<EventProtocol.EventsPublished>(await _cluster.Eu.Cluster.AskAsync(new EventProtocol.PublishEvents(Callers.Writer, topic, events, "us"), Timeout));
        var fresh = Assert.IsType<EventProtocol.EventPublished>(await _cluster.Eu.Cluster.AskAsync(
            new EventProtocol.PublishEvent(Callers.Writer, topic, new EventProtocol.EventInput(DateTimeOffset.UtcNow, Priority.Normal, [9]), "us"), Timeout));

        // Expiry is a wall-clock matter on a live cluster: sweep until the round that deletes them.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long deleted = 0;
        while (deleted == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the sweeper to delete the expired events");
            deleted = (await _cluster.Eu.Cluster.RetentionSweeperProxy.Ask<RetentionSweeper.SweepCompleted>(RetentionSweeper.SweepNow.Instance, Timeout)).Deleted;
        }

        var page = Assert.IsType<EventProtocol.EventPage>(await _cluster.Eu.Cluster.AskAsync(
            new EventProtocol.QueryEvents(Callers.Reader, topic, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMinutes(1), Zone: "us"), Timeout));
        Assert.Equal(3, deleted);
        Assert.Equal([fresh.Id], page.Events.Select(e => e.Id));
    }
}
