using ForgeOne.Common;

namespace ForgeOne.Storage.Records.Tests;

public class RetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Month = TimeSpan.FromDays(30);
    private static readonly byte[] Topic = Gen.Token(0x42);

    [Fact]
    public void IsExpired_OnlyStrictlyBeforeNowMinusThePeriod()
    {
        var policy = new RetentionPolicy(Month, LegalHold: false);

        Assert.True(policy.IsExpired(Now - Month - TimeSpan.FromTicks(1), Now));
        Assert.False(policy.IsExpired(Now - Month, Now));
        Assert.False(policy.IsExpired(Now, Now));
    }

    [Fact]
    public void IsExpired_NeverWithoutAPeriodOrWithAPeriodLongerThanTime()
    {
        Assert.False(RetentionPolicy.KeepForever.IsExpired(DateTimeOffset.MinValue, Now));
        Assert.False(new RetentionPolicy(TimeSpan.MaxValue, false).IsExpired(DateTimeOffset.MinValue, Now));
    }

    [Fact]
    public void CheckWrite_RefusesAnEntryAlreadyPastRetentionEvenUnderLegalHold()
    {
        var old = Now - Month - TimeSpan.FromDays(1);

        Assert.Equal(ErrorCodes.RetentionExpired, new RetentionPolicy(Month, false).CheckWrite(old, Now)?.Code);
        Assert.Equal(ErrorCodes.RetentionExpired, new RetentionPolicy(Month, true).CheckWrite(old, Now)?.Code);
        Assert.Null(new RetentionPolicy(Month, false).CheckWrite(Now - TimeSpan.FromDays(1), Now));
    }

    [Fact]
    public void For_TakesPeriodAndHoldFromTheTopic()
    {
        var topic = new TopicInfo("t", Now, Month, null, 0, true, MetadataCodec.Empty);
        Assert.Equal(new RetentionPolicy(Month, true), RetentionPolicy.For(topic));
    }

    private static byte[] KeyAt(long ms, ulong id, byte[]? token = null) =>
        RecordKeys.TopicIndex(token ?? Topic, DateTimeOffset.FromUnixTimeMilliseconds(ms), new RecordId(id));

    [Fact]
    public void Batches_YieldExactlyTheExpiredEntriesInBoundedBatches()
    {
        // Entries at 0..9 s; retention 5 s at now = 10.0005 s: cutoff 5.0005 s, so 0..4 s expire.
        var keys = Enumerable.Range(0, 10).Select(i => KeyAt(i * 1000L, (ulong)i)).ToList();
        var now = DateTimeOffset.FromUnixTimeMilliseconds(10_000).AddTicks(5000);
        var policy = new RetentionPolicy(TimeSpan.FromSeconds(5), false);

        var batches = new RetentionPlanner(maxBatchSize: 2).Batches(Topic, keys, policy, now).ToList();

        Assert.Equal([2, 2, 1], batches.Select(b => b.Count));
        Assert.Equal([0UL, 1, 2, 3, 4], batches.SelectMany(b => b).Select(e => e.Id.Value));
        Assert.Same(keys[3], batches[1][1].IndexKey);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(4000), batches[2][0].Timestamp);
    }

    [Fact]
    public void Batches_UnderLegalHold_DeleteNothingAndDoNotReadTheScan()
    {
        var policy = new RetentionPolicy(TimeSpan.FromSeconds(1), LegalHold: true);

        Assert.Empty(new RetentionPlanner().Batches(Topic, ThrowingScan(), policy, Now));
        Assert.Null(new RetentionPlanner().ScanRange(Topic, policy, Now));
    }

    [Fact]
    public void Batches_WithoutAPeriod_DeleteNothing()
    {
        Assert.Empty(new RetentionPlanner().Batches(Topic, ThrowingScan(), RetentionPolicy.KeepForever, Now));
    }

    [Fact]
    public void Batches_StopAtTheFirstUnexpiredEntryWithoutReadingFurther()
    {
        static IEnumerable<byte[]> Scan()
        {
            yield return KeyAt(1000, 1);
            yield return KeyAt(9000, 2);
            throw new InvalidOperationException("read past the first unexpired entry");
        }

        var policy = new RetentionPolicy(TimeSpan.FromSeconds(5), false);
        var batches = new RetentionPlanner().Batches(Topic, Scan(), policy, DateTimeOffset.FromUnixTimeMilliseconds(10_000)).ToList();

        Assert.Equal([1UL], batches.SelectMany(b => b).Select(e => e.Id.Value));
    }

    [Fact]
    public void Batches_StopAtAnotherTopicsEntries()
    {
        byte[][] keys = [KeyAt(1000, 1), KeyAt(1000, 2, Gen.Token(0x43))];
        var policy = new RetentionPolicy(TimeSpan.FromSeconds(5), false);

        var expired = new RetentionPlanner().Batches(Topic, keys, policy, DateTimeOffset.FromUnixTimeMilliseconds(10_000)).SelectMany(b => b);

        Assert.Equal([1UL], expired.Select(e => e.Id.Value));
    }

    [Fact]
    public void ScanRange_BracketsExactlyTheExpiredMilliseconds()
    {
        var policy = new RetentionPolicy(TimeSpan.FromSeconds(5), false);
        var (from, until) = new RetentionPlanner().ScanRange(Topic, policy, DateTimeOffset.FromUnixTimeMilliseconds(10_000))!.Value;

        static int Cmp(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);
        Assert.True(Cmp(KeyAt(-5000, 0), from) >= 0);
        Assert.True(Cmp(KeyAt(4999, ulong.MaxValue), until) < 0);
        Assert.True(Cmp(KeyAt(5000, 0), until) >= 0);
    }

    [Fact]
    public void Planner_RefusesANonPositiveBatchSize()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetentionPlanner(0));
    }

    private static IEnumerable<byte[]> ThrowingScan()
    {
        throw new InvalidOperationException("the scan must not be read");
#pragma warning disable CS0162 // unreachable: makes this an iterator, so the throw happens on enumeration
        yield break;
#pragma warning restore CS0162
    }
}
