namespace ForgeOne.Common.Tests;

public class ShardRouterTests
{
    // "" hashes to 0xEF46DB3751D8E999, the published XxHash64 test vector (seed 0): % 16 = 9.
    // Pinned values: data on disk was placed by this function, so a change here must fail a test.
    [Theory]
    [InlineData("payments.audit", 16, 0)]
    [InlineData("orders", 16, 5)]
    [InlineData("orders", 7, 2)]
    [InlineData("", 16, 9)]
    [InlineData("überwachung.eu", 1024, 352)]
    public void ShardFor_IsStableAcrossProcessesAndVersions(string key, int count, int expected) =>
        Assert.Equal(expected, ShardRouter.ShardFor(key, count));

    [Fact]
    public void ShardFor_SpreadsTopicsOverAllShards()
    {
        var counts = new int[8];
        for (var i = 0; i < 8000; i++)
        {
            counts[ShardRouter.ShardFor($"topic-{i}", 8)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(RecordId.MaxShards + 1)]
    public void ShardFor_RejectsInvalidShardCounts(int count) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ShardRouter.ShardFor("x", count));

    [Fact]
    public void ShardFor_HandlesLongKeys() =>
        Assert.InRange(ShardRouter.ShardFor(new string('a', 10_000), 5), 0, 4);
}
