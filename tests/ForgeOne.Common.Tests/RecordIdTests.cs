using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace ForgeOne.Common.Tests;

public class RecordIdTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Create_EncodesTimeShardAndSequence()
    {
        var id = RecordId.Create(123_456_789, 513, 4095);

        Assert.Equal(123_456_789, id.MillisSinceEpoch);
        Assert.Equal(513, id.Shard);
        Assert.Equal(4095, id.Sequence);
        Assert.Equal(RecordId.Epoch.AddMilliseconds(123_456_789), id.AssignedAt);
    }

    [Theory]
    [InlineData(-1, 0, 0)]
    [InlineData(1L << 42, 0, 0)]
    [InlineData(0, RecordId.MaxShards, 0)]
    [InlineData(0, 0, 4096)]
    public void Create_RejectsOutOfRangeParts(long ms, int shard, int seq) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RecordId.Create(ms, shard, seq));

    [Property]
    public bool StringForm_RoundTripsAndSortsLikeTheNumber(ulong a, ulong b)
    {
        var (x, y) = (new RecordId(a), new RecordId(b));
        Assert.True(RecordId.TryParse(x.ToString(), out var parsed));
        return parsed == x && Math.Sign(string.CompareOrdinal(x.ToString(), y.ToString())) == Math.Sign(a.CompareTo(b));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("123")]
    [InlineData("00000000000000000")]
    [InlineData("0000000000000ABC")]
    [InlineData("000000000000000g")]
    [InlineData(" 00000000000000a")]
    public void Parse_RejectsAnythingButSixteenLowercaseHexDigits(string? text)
    {
        Assert.False(RecordId.TryParse(text, out _));
        var error = Assert.Throws<ForgeOneException>(() => RecordId.Parse(text ?? ""));
        Assert.Equal(ErrorCodes.InvalidId, error.Code);
    }

    [Fact]
    public void Generator_IdsAreStrictlyIncreasingAndCarryTheShard()
    {
        var clock = new FakeTimeProvider(Start);
        var generator = new RecordIdGenerator(7, clock);

        var ids = Enumerable.Range(0, 10_000).Select(_ => generator.Next()).ToList();

        Assert.All(ids, id => Assert.Equal(7, id.Shard));
        Assert.Equal(ids.OrderBy(id => id.Value), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // 10,000 ids inside one frozen millisecond borrow from the following ones.
        Assert.Equal((long)(Start - RecordId.Epoch).TotalMilliseconds + 2, ids[^1].MillisSinceEpoch);
    }

    [Fact]
    public void Generator_StaysMonotonicWhenTheClockGoesBackwards()
    {
        var clock = new FakeTimeProvider(Start);
        var first = new RecordIdGenerator(3, clock);
        var before = first.Next();

        // The shard moves to a node whose clock is an hour behind; it restores its high-water mark.
        var behind = new FakeTimeProvider(Start.AddHours(-1));
        var moved = new RecordIdGenerator(3, behind, first.HighWaterMark);
        var after = moved.Next();

        Assert.True(after > before, $"{after} should follow {before}");
        Assert.Equal(before.MillisSinceEpoch, after.MillisSinceEpoch);
        Assert.Equal(before.Sequence + 1, after.Sequence);
    }

    [Fact]
    public void Generator_UsesTheClockWhenItMovesForward()
    {
        var clock = new FakeTimeProvider(Start);
        var generator = new RecordIdGenerator(0, clock);
        generator.Next();
        clock.Advance(TimeSpan.FromSeconds(1));

        var id = generator.Next();

        Assert.Equal(Start.AddSeconds(1), id.AssignedAt);
        Assert.Equal(0, id.Sequence);
    }

    [Fact]
    public void IdsOfDifferentShardsNeverCollide()
    {
        var clock = new FakeTimeProvider(Start);
        var a = new RecordIdGenerator(1, clock);
        var b = new RecordIdGenerator(2, clock);

        var ids = Enumerable.Range(0, 1000).SelectMany(_ => new[] { a.Next(), b.Next() }).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
