using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Sharding;
using ForgeOne.Common;
using static ForgeOne.Cluster.Protocol.LogProtocol;

namespace ForgeOne.Cluster.Tests;

public sealed class RoutingTests
{
    private readonly ShardMessageExtractor _logs = new(ShardKind.Logs, 8);

    [Fact]
    public void Extractor_RoutesByStableHashOfTopic()
    {
        var append = new AppendLog(Callers.Writer, "orders", TestHosts.Entry());
        var n = ShardRouter.ShardFor("orders", 8);
        Assert.Equal($"logs-{n}", _logs.EntityId(append));
        Assert.Equal(n.ToString(System.Globalization.CultureInfo.InvariantCulture), _logs.ShardId(append));
        Assert.Same(append, _logs.EntityMessage(append));
    }

    [Fact]
    public void Extractor_RoutesGetByIdToTheShardInsideTheId()
    {
        var id = RecordId.Create(1000, 5, 0);
        Assert.Equal("logs-5", _logs.EntityId(new GetLog(Callers.Reader, id)));
        Assert.Equal("5", _logs.ShardId(new GetLog(Callers.Reader, id)));
    }

    [Fact]
    public void Extractor_IgnoresOtherKindsAndOutOfRangeShards()
    {
        Assert.Null(_logs.EntityId(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Events, 0)));
        Assert.Null(_logs.EntityId(new ShardProtocol.GetShardStats(Callers.System, ShardKind.Logs, 8)));
        Assert.Null(_logs.EntityId(new GetLog(Callers.Reader, RecordId.Create(1, 9, 0))));
        Assert.Null(_logs.EntityId("not ours"));
    }

    [Fact]
    public void ShardId_OfEntityId_RejectsForeignIds()
    {
        Assert.Equal("3", _logs.ShardId("logs-3"));
        Assert.Throws<ArgumentException>(() => _logs.ShardId("events-3"));
        Assert.Throws<ArgumentException>(() => _logs.ShardId("logs-x"));
    }

    [Theory]
    [InlineData("system-0", ShardKind.System, 0)]
    [InlineData("logs-12", ShardKind.Logs, 12)]
    [InlineData("blobs-3", ShardKind.Blobs, 3)]
    public void EntityId_RoundTrips(string id, ShardKind kind, int n)
    {
        Assert.True(ShardEntityId.TryParse(id, out var k, out var parsed));
        Assert.Equal((kind, n), (k, parsed));
        Assert.Equal(id, ShardEntityId.Of(kind, n));
    }

    [Theory]
    [InlineData("")]
    [InlineData("logs")]
    [InlineData("logs-")]
    [InlineData("nope-1")]
    [InlineData("logs--1")]
    public void EntityId_RejectsMalformed(string id) => Assert.False(ShardEntityId.TryParse(id, out _, out _));
}
