using Akka.Event;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Shards;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace ForgeOne.Node.Tests;

/// <summary>What a person sees on the console: the banner once the node serves, and one readable line per Akka event.</summary>
public sealed class NodeLoggingTests
{
    private const string Address = "akka.tcp://forgeone@127.0.0.1:4053";

    [Fact]
    public void Banner_OfTheQuickStartNode_NamesWhereItListensItsDataKeysAdminKeyAndHowToStop()
    {
        var options = new ForgeOneNodeOptions { DataRoot = "/srv/forgeone/data", KeysDirectory = "/srv/forgeone/keys" };
        var lines = NodeBanner.Lines(options, Address, new Uri("http://127.0.0.1:8080/"));

        Assert.Equal(
            [
                $"ForgeOne node ready: {Address} roles=[storage,edge] region=default data=/srv/forgeone/data keys=/srv/forgeone/keys",
                $"  cluster  forgeone: this node formed it (no ForgeOne:SeedNodes); others join with SeedNodes=[\"{Address}\"]",
                "  http     http://127.0.0.1:8080/  (API reference http://127.0.0.1:8080/docs, dashboard http://127.0.0.1:8080/dashboard/, health http://127.0.0.1:8080/healthz)",
                "  data     /srv/forgeone/data",
                "  keys     /srv/forgeone/keys  (admin API key: /srv/forgeone/keys/bootstrap-admin.key)",
                "  logs     text (ForgeOne:LogFormat text|json); Akka's own events at Warning (Logging:LogLevel:Akka)",
                "  stop     Ctrl-C or SIGTERM: shards hand off and close, then \"ForgeOne node stopped (exit code 0)\"",
            ],
            lines);
    }

    [Fact]
    public void Banner_OfAJoiningNodeWithoutEdgeOrStorage_HasNoHttpOrDataLine()
    {
        var options = new ForgeOneNodeOptions { Roles = ["edge"], SeedNodes = [Address], KeysDirectory = "/k", LogFormat = "json" };
        var lines = NodeBanner.Lines(options, "akka.tcp://forgeone@127.0.0.1:4054", edge: null);

        Assert.Equal(5, lines.Count);
        Assert.Equal($"  cluster  forgeone: joined through {Address}", lines[1]);
        Assert.Equal("  keys     /k", lines[2]);
        Assert.StartsWith("  logs     json ", lines[3], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("  http", StringComparison.Ordinal) || l.StartsWith("  data", StringComparison.Ordinal));
    }

    [Fact]
    public void AkkaEvent_OfForgeOne_IsItsMessageAlone_OfAkka_KeepsItsSource_BracesAreText()
    {
        Assert.Equal(
            "Shard logs-3 open on n1 {epoch 2}",
            NodeAkkaLogger.MessageOf(new Info("akka://forgeone/system/sharding/logs/3/logs-3", typeof(ShardActor), "Shard logs-3 open on n1 {epoch 2}")));
        Assert.Equal(
            "Cluster (akka://forgeone): Leader is moving node [n1] to [Up]",
            NodeAkkaLogger.MessageOf(new Info("Cluster (akka://forgeone)", typeof(Akka.Cluster.Cluster), "Leader is moving node [n1] to [Up]")));
    }

    [Fact]
    public void AkkaLevels_MapOneToOne_AnErrorStaysAnError()
    {
        Assert.Equal(LogLevel.Debug, NodeAkkaLogger.LevelOf(Akka.Event.LogLevel.DebugLevel));
        Assert.Equal(LogLevel.Information, NodeAkkaLogger.LevelOf(Akka.Event.LogLevel.InfoLevel));
        Assert.Equal(LogLevel.Warning, NodeAkkaLogger.LevelOf(Akka.Event.LogLevel.WarningLevel));
        Assert.Equal(LogLevel.Error, NodeAkkaLogger.LevelOf(Akka.Event.LogLevel.ErrorLevel));
    }
}
