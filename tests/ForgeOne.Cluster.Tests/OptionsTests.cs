using ForgeOne.Cluster.Hosting;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_AreValid() => Assert.Empty(new ForgeOneNodeOptions().Validate());

    [Fact]
    public void Validate_RefusesKeysInsideTheDataRoot()
    {
        var options = new ForgeOneNodeOptions { DataRoot = "/tmp/x/data", KeysDirectory = "/tmp/x/data/keys" };
        Assert.Contains(options.Validate(), e => e.Contains("KeysDirectory", StringComparison.Ordinal) && e.Contains("inside", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ListsEveryProblemWithItsKey()
    {
        var options = new ForgeOneNodeOptions
        {
            Port = 70000,
            Roles = ["storage", "chef"],
            SeedNodes = ["http://nope"],
            ShardCounts = new ShardCountOptions { Logs = 0 },
            Persistence = new PersistenceOptions { Provider = "oracle" },
        };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("ForgeOne:Port", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ForgeOne:Roles entry 'chef'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ForgeOne:SeedNodes", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ForgeOne:ShardCounts:Logs", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ForgeOne:Persistence:Provider", StringComparison.Ordinal));
        var thrown = Assert.Throws<ForgeOneException>(options.ThrowIfInvalid);
        Assert.Equal(ErrorCodes.InvalidConfiguration, thrown.Code);
    }

    [Fact]
    public void Hocon_CarriesRolesRegionSeedsAndSqlitePersistence()
    {
        var options = new ForgeOneNodeOptions { Port = 5000, Region = "eu", SeedNodes = ["akka.tcp://forgeone@127.0.0.1:5000"], DataRoot = "/tmp/fo" };
        var config = ClusterConfig.Build(options);
        Assert.Equal(["storage", "edge", "region-eu"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal(["akka.ssl.tcp://forgeone@127.0.0.1:5000"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.True(config.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("ddata", config.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.Empty(config.GetStringList("akka.cluster.sharding.distributed-data.durable.keys"));
        Assert.Equal("SQLite.MS", config.GetString("akka.persistence.journal.sql.provider-name"));
        Assert.Equal("Data Source=/tmp/fo/singletons.db", config.GetString("akka.persistence.journal.sql.connection-string"));
    }

    [Fact]
    public void Hocon_CarriesTheFailoverTimings_KeepMajorityOfStorageNodes()
    {
        var config = ClusterConfig.Build(new ForgeOneNodeOptions());

        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal("storage", config.GetString("akka.cluster.split-brain-resolver.keep-majority.role"));
        Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(15), config.GetTimeSpan("akka.cluster.split-brain-resolver.down-all-when-unstable"));
        Assert.Equal(TimeSpan.FromSeconds(1), config.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval"));
        Assert.Equal(TimeSpan.FromSeconds(2.5), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.GetTimeSpan("akka.cluster.down-removal-margin"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("akka.cluster.sharding.handoff-timeout"));
    }

    [Fact]
    public void Validate_RefusesFailureTimingsThatUndoTheResolver()
    {
        var options = new ForgeOneNodeOptions
        {
            Failure = new FailureOptions { HeartbeatInterval = TimeSpan.FromSeconds(2), AcceptableHeartbeatPause = TimeSpan.FromSeconds(1), StableAfter = TimeSpan.FromMilliseconds(500), DownRemovalMargin = TimeSpan.Zero, DownAllWhenUnstable = TimeSpan.FromMilliseconds(400) },
        };

        var errors = options.Validate();

        Assert.Equal(4, errors.Count(e => e.StartsWith("ForgeOne:Failure:", StringComparison.Ordinal)));
        Assert.Contains(errors, e => e.StartsWith("ForgeOne:Failure:DownRemovalMargin", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ForgeOne:Failure:StableAfter", StringComparison.Ordinal));
    }
}
