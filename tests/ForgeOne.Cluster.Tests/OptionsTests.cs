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
        Assert.Equal(["akka.tcp://forgeone@127.0.0.1:5000"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal("ddata", config.GetString("akka.cluster.sharding.state-store-mode"));
        Assert.Empty(config.GetStringList("akka.cluster.sharding.distributed-data.durable.keys"));
        Assert.Equal("SQLite.MS", config.GetString("akka.persistence.journal.sql.provider-name"));
        Assert.Equal("Data Source=/tmp/fo/singletons.db", config.GetString("akka.persistence.journal.sql.connection-string"));
    }
}
