using Akka.Actor;
using Akka.Cluster;
using ForgeOne.Client;
using ForgeOne.Cluster.Compliance;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
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
        await ClusterEvents.MembersAsync(Eu.System, m => m.Count(x => x.Status == MemberStatus.Up) == 2, "the eu and us nodes Up", TimeSpan.FromSeconds(60));
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
            var stats = await via.Cluster.ZoneRegions[(ShardKind.Logs, zone)].Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, appended.Id.Shard), Timeout);
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
        var stats = await _cluster.Eu.Cluster.Region(ShardKind.Logs).Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, appended.Id.Shard), Timeout);

        Assert.DoesNotContain($"{Path.DirectorySeparatorChar}zones{Path.DirectorySeparatorChar}", stats.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DirectoryZone_SendsALogAppendAndAnEventPublishToTheZoneShards_WithoutTheRequestNamingIt()
    {
        // Registered through the eu node, sent through the us node: the us router must learn it.
        Assert.Equal("eu", Assert.IsType<SystemProtocol.ResidencySet>(await _cluster.Eu.Cluster.AskAsync(
            new SystemProtocol.SetResidency(Callers.Admin, SystemProtocol.ResidencyScope.LogTopic, "dir.logs", "eu"), Timeout)).Entry.Zone);
        Assert.IsType<EventProtocol.TopicCreated>(await _cluster.Eu.Cluster.AskAsync(
            new EventProtocol.CreateTopic(Callers.Admin, "dir.events", new EventProtocol.TopicSettings(ResidencyZone: "eu")), Timeout));
        await AwaitZone(_cluster.Us, SystemProtocol.ResidencyScope.LogTopic, "dir.logs", "eu");
        await AwaitZone(_cluster.Us, SystemProtocol.ResidencyScope.EventTopic, "dir.events", "eu");

        var appended = Assert.IsType<LogAppended>(await _cluster.Us.Cluster.AskAsync(new AppendLog(Callers.Writer, "dir.logs", TestHosts.Entry("placed by the directory")), Timeout));
        var published = Assert.IsType<EventProtocol.EventPublished>(await _cluster.Us.Cluster.AskAsync(
            new EventProtocol.PublishEvent(Callers.Writer, "dir.events", new EventProtocol.EventInput(DateTimeOffset.UtcNow, Priority.Normal, [1])), Timeout));
        var range = Assert.IsType<LogRange>(await _cluster.Us.Cluster.AskAsync(
            new ReadLogRange(Callers.Reader, "dir.logs", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1)), Timeout));

        await AssertStoredOnlyInZone(ShardKind.Logs, appended.Id, "eu");
        await AssertStoredOnlyInZone(ShardKind.Events, published.Id, "eu");
        Assert.Equal(["placed by the directory"], range.Entries.Select(e => e.Message));
    }

    [Fact]
    public async Task ActorClient_RoutesByTheDirectory_AndRefusesAContradictingZone()
    {
        await using var client = await ForgeOneActorClient.ConnectAsync(
            [_cluster.Eu.Address], _cluster.Eu.Options.ShardCounts, ClientCredential.FromToken(Callers.Writer), configure: o =>
            {
                o.ResidencyZones = ["eu", "us"];
                o.KeysDirectory = _cluster.Eu.Options.KeysDirectory;
            });
        await SetResidency(SystemProtocol.ResidencyScope.LogTopic, "client.dir", "us");
        await ZoneSeen(client.Cluster.Residency, SystemProtocol.ResidencyScope.LogTopic, "client.dir", "us", "the client");

        var id = await client.AppendLogAsync("client.dir", TestHosts.Entry("from the client"));
        var refused = Assert.IsType<LogFailed>(await client.Ask(new AppendLog(Callers.Writer, "client.dir", TestHosts.Entry(), "eu")));

        await AssertStoredOnlyInZone(ShardKind.Logs, id, "us");
        Assert.Equal(ErrorCodes.ResidencyMismatch, refused.Error.Code);
    }

    [Fact]
    public async Task DirectoryZoneWithNoStorageNode_IsRefusedWithAClearError()
    {
        Assert.IsType<SystemProtocol.ResidencySet>(await _cluster.Eu.Cluster.AskAsync(
            new SystemProtocol.SetResidency(Callers.Admin, SystemProtocol.ResidencyScope.LogTopic, "dir.ap", "ap"), Timeout));

        var refused = Assert.IsType<LogFailed>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(Callers.Writer, "dir.ap", TestHosts.Entry()), Timeout));

        Assert.Equal(ErrorCodes.ResidencyUnavailable, refused.Error.Code);
        Assert.Contains("Residency zone 'ap' (the residency directory entry of topic 'dir.ap') is not served by this cluster", refused.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TenantZone_AppliesToItsCallers_ATopicEntryWinsOverIt_AndClearingItIsSeen()
    {
        var globex = TestAuth.Token("gina", ["writer"], "globex", ["*"], 0);
        await SetResidency(SystemProtocol.ResidencyScope.Tenant, "globex", "us");
        await SetResidency(SystemProtocol.ResidencyScope.LogTopic, "globex.pinned", "eu");
        await AwaitZone(_cluster.Eu, SystemProtocol.ResidencyScope.Tenant, "globex", "us");

        var byTenant = Assert.IsType<LogAppended>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(globex, "globex.app", TestHosts.Entry()), Timeout));
        var byTopic = Assert.IsType<LogAppended>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(globex, "globex.pinned", TestHosts.Entry()), Timeout));
        await AssertStoredOnlyInZone(ShardKind.Logs, byTenant.Id, "us");
        await AssertStoredOnlyInZone(ShardKind.Logs, byTopic.Id, "eu");

        // Cleared on us, seen on eu: the tenant's topics go back to the default region.
        await SetResidency(SystemProtocol.ResidencyScope.Tenant, "globex", null, via: _cluster.Us);
        await AwaitZone(_cluster.Eu, SystemProtocol.ResidencyScope.Tenant, "globex", null);
        var unzoned = Assert.IsType<LogAppended>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(globex, "globex.app", TestHosts.Entry()), Timeout));
        Assert.IsType<LogFound>(await _cluster.Eu.Cluster.Region(ShardKind.Logs).Ask<object>(new GetLog(Callers.Reader, unzoned.Id), Timeout));
    }

    [Fact]
    public async Task DeclaredZoneThatContradictsTheDirectory_IsRefused()
    {
        await SetResidency(SystemProtocol.ResidencyScope.LogTopic, "dir.conflict", "eu");
        Assert.IsType<EventProtocol.TopicCreated>(await _cluster.Eu.Cluster.AskAsync(
            new EventProtocol.CreateTopic(Callers.Admin, "dir.conflict-events", new EventProtocol.TopicSettings(ResidencyZone: "eu")), Timeout));

        var log = Assert.IsType<LogFailed>(await _cluster.Eu.Cluster.AskAsync(new AppendLog(Callers.Writer, "dir.conflict", TestHosts.Entry(), "us"), Timeout));
        var evt = Assert.IsType<EventProtocol.EventFailed>(await _cluster.Eu.Cluster.AskAsync(
            new EventProtocol.PublishEvent(Callers.Writer, "dir.conflict-events", new EventProtocol.EventInput(DateTimeOffset.UtcNow, Priority.Normal, [1]), "us"), Timeout));
        var agreeing = await _cluster.Eu.Cluster.AskAsync(new AppendLog(Callers.Writer, "dir.conflict", TestHosts.Entry(), "eu"), Timeout);

        Assert.Equal(ErrorCodes.ResidencyMismatch, log.Error.Code);
        Assert.Equal("The request declares residency zone 'us', but the residency directory entry of topic 'dir.conflict' says 'eu'; it was refused rather than sent to either zone. Drop the zone from the request or change the directory entry.", log.Error.Message);
        Assert.Equal(ErrorCodes.ResidencyMismatch, evt.Error.Code);
        Assert.IsType<LogAppended>(agreeing);
    }

    [Fact]
    public async Task SetResidency_ByANonAdmin_IsRefusedAndChangesNothing()
    {
        var ops = TestAuth.Token("ops", ["operator"], null, ["*"], 0);

        var refused = Assert.IsType<SystemProtocol.SystemFailed>(await _cluster.Eu.Cluster.AskAsync(
            new SystemProtocol.SetResidency(ops, SystemProtocol.ResidencyScope.LogTopic, "dir.ops", "us"), Timeout));

        Assert.Equal(ErrorCodes.Forbidden, refused.Error.Code);
        Assert.Null(_cluster.Eu.Cluster.Residency.ZoneOf(SystemProtocol.ResidencyScope.LogTopic, "dir.ops"));
    }

    private async Task SetResidency(SystemProtocol.ResidencyScope scope, string name, string? zone, InProcessNode? via = null) =>
        Assert.IsType<SystemProtocol.ResidencySet>(await (via ?? _cluster.Eu).Cluster.AskAsync(new SystemProtocol.SetResidency(Callers.Admin, scope, name, zone), Timeout));

    // Waits until the node's router sees the directory entry: woken by each merge into its cache.
    private static Task AwaitZone(InProcessNode node, SystemProtocol.ResidencyScope scope, string name, string? zone) =>
        ZoneSeen(node.Cluster.Residency, scope, name, zone, node.Address);

    private static async Task ZoneSeen(ResidencyCache cache, SystemProtocol.ResidencyScope scope, string name, string? zone, string who)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check(object? sender, EventArgs e)
        {
            if (string.Equals(cache.ZoneOf(scope, name), zone, StringComparison.Ordinal))
            {
                seen.TrySetResult();
            }
        }

        // Subscribed before the first look, so no merge slips between the two.
        cache.Changed += Check;
        try
        {
            Check(null, EventArgs.Empty);
            await seen.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"timed out waiting for {who} to see {scope} '{name}' in zone '{zone ?? "(none)"}'", e);
        }
        finally
        {
            cache.Changed -= Check;
        }
    }

    // The record is in the zone's shard (hosted by that region's node) and in no other region's:
    // asked of each region directly, bypassing the router.
    private async Task AssertStoredOnlyInZone(ShardKind kind, RecordId id, string zone)
    {
        var home = zone == "eu" ? _cluster.Eu : _cluster.Us;
        var stats = await _cluster.Eu.Cluster.ZoneRegions[(kind, zone)].Ask<ShardProtocol.ShardStats>(new ShardProtocol.GetShardStats(Callers.System, kind, id.Shard), Timeout);
        Assert.Equal(home.Address, stats.Node);
        Assert.Contains($"{Path.DirectorySeparatorChar}zones{Path.DirectorySeparatorChar}{zone}{Path.DirectorySeparatorChar}{kind.FolderName()}{Path.DirectorySeparatorChar}", stats.FilePath, StringComparison.Ordinal);

        IShardMessage Get() => kind == ShardKind.Logs ? new GetLog(Callers.Reader, id) : new EventProtocol.GetEvent(Callers.Reader, id);
        var other = zone == "eu" ? "us" : "eu";
        var inZone = await _cluster.Eu.Cluster.ZoneRegions[(kind, zone)].Ask<object>(Get(), Timeout);
        var inDefault = await _cluster.Eu.Cluster.Region(kind).Ask<object>(Get(), Timeout);
        var inOther = await _cluster.Eu.Cluster.ZoneRegions[(kind, other)].Ask<object>(Get(), Timeout);
        Assert.IsType(kind == ShardKind.Logs ? typeof(LogFound) : typeof(EventProtocol.EventFound), inZone);
        Assert.Equal(ErrorCodes.NotFound, Assert.IsAssignableFrom<IFailureReply>(inDefault).Error.Code);
        Assert.Equal(ErrorCodes.NotFound, Assert.IsAssignableFrom<IFailureReply>(inOther).Error.Code);
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
            deleted = (await _cluster.Eu.Cluster.RetentionSweeperProxy.Ask<RetentionSweeper.SweepCompleted>(new RetentionSweeper.SweepNow(Callers.Admin), Timeout)).Deleted;
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
            deleted = (await _cluster.Eu.Cluster.RetentionSweeperProxy.Ask<RetentionSweeper.SweepCompleted>(new RetentionSweeper.SweepNow(Callers.Admin), Timeout)).Deleted;
        }

        var page = Assert.IsType<EventProtocol.EventPage>(await _cluster.Eu.Cluster.AskAsync(
            new EventProtocol.QueryEvents(Callers.Reader, topic, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMinutes(1), Zone: "us"), Timeout));
        Assert.Equal(3, deleted);
        Assert.Equal([fresh.Id], page.Events.Select(e => e.Id));
    }
}
