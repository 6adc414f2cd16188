using ForgeOne.Cluster.Events;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Tests.Events;

/// <summary>The pure parts of subscriptions: in-flight window, catch-up/live merge, client dedup.</summary>
public sealed class SubscriptionFlowTests
{
    private static RecordId Id(int n) => new((ulong)n);

    private static CatchUpLiveMerge<RecordId> Merge(RecordId? after = null, int maxBuffer = 100) => new(id => id, after, maxBuffer);

    private static int[] Values(IEnumerable<RecordId> ids) => [.. ids.Select(i => (int)i.Value)];

    [Fact]
    public void Window_StopsAtCapacity_AndCumulativeAckReleasesEverythingCovered()
    {
        var window = new InFlightWindow(3);
        window.Sent(Id(1));
        window.Sent(Id(2));
        window.Sent(Id(5));
        Assert.Equal(0, window.Available);
        Assert.Throws<InvalidOperationException>(() => window.Sent(Id(6)));

        Assert.Equal(2, window.Ack(Id(4)));
        Assert.Equal(2, window.Available);
        Assert.Equal(Id(4), window.LastAcked);
        Assert.Equal(1, window.Ack(Id(5)));
        Assert.Equal(3, window.Available);
    }

    [Fact]
    public void Window_RefusesIdsThatDoNotIncrease()
    {
        var window = new InFlightWindow(10);
        window.Sent(Id(7));
        Assert.Throws<InvalidOperationException>(() => window.Sent(Id(7)));
        Assert.Throws<InvalidOperationException>(() => window.Sent(Id(3)));
    }

    [Fact]
    public void Window_AckBeyondWhatWasSent_ReleasesOnlyWhatWasSent()
    {
        var window = new InFlightWindow(2);
        window.Sent(Id(1));
        Assert.Equal(1, window.Ack(Id(99)));
        Assert.Equal(Id(1), window.LastAcked);
        Assert.Equal(0, window.Ack(Id(1)));
    }

    [Fact]
    public void Merge_CatchUpOverlappingLivePushes_DeliversEachIdOnceInOrderThenGoesLive()
    {
        var merge = Merge();
        Assert.True(merge.NeedsRead);
        Assert.Null(merge.BeginRead());

        // Commits 3 and 4 happen while the read runs: the read sees 3, not 4; both are pushed.
        merge.OnLive([Id(3), Id(4)]);
        merge.OnRead([Id(1), Id(2), Id(3)], reachedEnd: true);

        Assert.True(merge.IsLive);
        merge.OnLive([Id(5)]);
        Assert.Equal([1, 2, 3, 4, 5], Values(merge.Take(100)));
    }

    [Fact]
    public void Merge_ReadThatDidNotReachTheEnd_ReadsAgainAfterTheLastId()
    {
        var merge = Merge(Id(10));
        Assert.Equal(Id(10), merge.BeginRead());
        merge.OnRead([Id(11), Id(12)], reachedEnd: false);

        Assert.False(merge.IsLive);
        Assert.False(merge.NeedsRead); // events are ready: send them first
        Assert.Equal([11, 12], Values(merge.Take(10)));
        Assert.True(merge.NeedsRead);
        Assert.Equal(Id(12), merge.BeginRead());
    }

    [Fact]
    public void Merge_PushesDroppedDuringARead_KeepItCatchingUpUntilAReadWithoutDrops()
    {
        var merge = Merge(maxBuffer: 2);
        merge.BeginRead();
        merge.OnLive([Id(4), Id(5), Id(6)]); // over the buffer: dropped
        merge.OnRead([Id(1), Id(2), Id(3)], reachedEnd: true);

        Assert.False(merge.IsLive);
        Assert.Equal([1, 2, 3], Values(merge.Take(10)));

        Assert.Equal(Id(3), merge.BeginRead());
        merge.OnLive([Id(7)]);
        merge.OnRead([Id(4), Id(5), Id(6), Id(7)], reachedEnd: true);
        Assert.True(merge.IsLive);
        Assert.Equal([4, 5, 6, 7], Values(merge.Take(10)));
    }

    [Fact]
    public void Merge_SlowSubscriberWhileLive_DropsTheBacklogAndReadsItFromTheStoreWithoutAGap()
    {
        var merge = Merge(maxBuffer: 3);
        merge.BeginRead();
        merge.OnRead([], reachedEnd: true);
        Assert.True(merge.IsLive);

        merge.OnLive([Id(1), Id(2), Id(3), Id(4), Id(5)]);
        Assert.False(merge.IsLive);
        Assert.Equal([1, 2, 3], Values(merge.Take(10)));

        Assert.Equal(Id(3), merge.BeginRead());
        merge.OnRead([Id(4), Id(5)], reachedEnd: true);
        Assert.True(merge.IsLive);
        Assert.Equal([4, 5], Values(merge.Take(10)));
    }

    [Fact]
    public void Merge_FromNow_SendsNothingUpToTheTailAndEverythingAfter()
    {
        var merge = Merge();
        merge.BeginRead();
        merge.OnLive([Id(8), Id(9)]); // 8 committed before the tail read, 9 after
        merge.OnTail(Id(8));

        Assert.True(merge.IsLive);
        Assert.Equal([9], Values(merge.Take(10)));
    }

    [Fact]
    public void Merge_RandomInterleavingsOfReadsAndPushes_DeliverTheWholeTopicExactlyOnceInOrder()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var store = new List<RecordId>();
            var next = 1;
            var merge = Merge(maxBuffer: 1 + random.Next(8));
            var delivered = new List<RecordId>();
            RecordId? readAfter = null;
            var readOutstanding = false;
            var snapshot = new List<RecordId>();
            var limit = 0;
            var inbox = new Queue<RecordId>(); // pushes in flight to the source, in commit order

            for (var step = 0; step < 400; step++)
            {
                switch (random.Next(5))
                {
                    case 0 when next < 150: // commit, push later
                        store.Add(Id(next));
                        inbox.Enqueue(Id(next++));
                        break;
                    case 1 when inbox.Count > 0:
                        merge.OnLive([inbox.Dequeue()]);
                        break;
                    case 2 when !readOutstanding && merge.NeedsRead:
                        readAfter = merge.BeginRead();
                        limit = 1 + random.Next(5);
                        var after = readAfter;
                        snapshot = [.. store.Where(id => after is not { } a || id > a).Take(limit)];
                        readOutstanding = true;
                        break;
                    case 3 when readOutstanding:
                        merge.OnRead(snapshot, snapshot.Count < limit);
                        readOutstanding = false;
                        break;
                    default:
                        delivered.AddRange(merge.Take(1 + random.Next(4)));
                        break;
                }
            }

            // Drain: deliver pushes and finish reads until everything committed arrived.
            while (inbox.Count > 0)
            {
                merge.OnLive([inbox.Dequeue()]);
            }

            for (var guard = 0; guard < 1000 && delivered.Count < store.Count; guard++)
            {
                if (readOutstanding)
                {
                    merge.OnRead(snapshot, snapshot.Count < limit);
                    readOutstanding = false;
                }

                delivered.AddRange(merge.Take(10));
                if (merge.NeedsRead)
                {
                    var after = merge.BeginRead();
                    limit = 5;
                    snapshot = [.. store.Where(id => after is not { } a || id > a).Take(limit)];
                    readOutstanding = true;
                }
            }

            Assert.Equal(Values(store), Values(delivered));
        }
    }

    [Fact]
    public void Tracker_DropsDuplicatesAndOlderIds_AcrossResubscriptions()
    {
        var tracker = new DeliveryTracker(Id(5));
        Assert.False(tracker.Accept(Id(5)));
        Assert.True(tracker.Accept(Id(6)));
        Assert.True(tracker.Accept(Id(9)));
        Assert.False(tracker.Accept(Id(7)));
        Assert.True(tracker.HasUnacknowledged);

        Assert.True(tracker.Ack(Id(6)));
        Assert.False(tracker.Ack(Id(6)));
        Assert.False(tracker.Ack(Id(10))); // never delivered
        Assert.Equal(Id(6), tracker.LastAcked);

        // A new source resends 7.. after the last ack: 9 was delivered already and is dropped.
        Assert.False(tracker.Accept(Id(9)));
        Assert.True(tracker.Accept(Id(11)));
    }
}
