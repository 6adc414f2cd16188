using ForgeOne.Client;
using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Cluster.Tests.Blobs;

/// <summary>Pure parts of blobs: the persisted upload progress, the incremental-hash cache, the lookup cursor.</summary>
public sealed class BlobUploadStateTests
{
    private static readonly RecordId Id = RecordId.Create(1000, 2, 7);

    [Fact]
    public void UploadProgress_RoundTrips_AndRefusesOtherBytes()
    {
        var upload = new BlobUpload(5, 5000, 1000, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), true, false, Enumerable.Repeat((byte)1, 16).ToArray(), Enumerable.Repeat((byte)2, 16).ToArray());

        var back = BlobUpload.Decode(upload.Encode());

        Assert.Equal((upload.NextChunk, upload.Received, upload.LastChunkLength, upload.LastActivity, upload.AnyCompressed, upload.Abandoned), (back.NextChunk, back.Received, back.LastChunkLength, back.LastActivity, back.AnyCompressed, back.Abandoned));
        Assert.Equal(upload.NameToken, back.NameToken);
        Assert.Equal(upload.ContentTypeToken, back.ContentTypeToken);
        Assert.Equal(Id, BlobUpload.ParseKey(BlobUpload.Key(Id)));
        var bytes = upload.Encode();
        bytes[0] = 9;
        Assert.Equal(ErrorCodes.StorageUnknownFormat, Assert.Throws<ForgeOneException>(() => BlobUpload.Decode(bytes)).Code);
        Assert.Equal(ErrorCodes.StorageCorruptRecord, Assert.Throws<ForgeOneException>(() => BlobUpload.Decode(upload.Encode()[..20])).Code);
    }

    [Fact]
    public void UploadProgress_ExpiresAfterTheTimeoutOrWhenFlaggedAbandoned()
    {
        var t0 = DateTimeOffset.UnixEpoch.AddDays(20000);
        var upload = new BlobUpload(1, 1, 1, t0, false, false, new byte[16], new byte[16]);

        Assert.False(upload.IsExpired(t0.AddMinutes(10), TimeSpan.FromMinutes(10)));
        Assert.True(upload.IsExpired(t0.AddMinutes(10).AddMilliseconds(1), TimeSpan.FromMinutes(10)));
        Assert.True((upload with { Abandoned = true }).IsExpired(t0, TimeSpan.FromMinutes(10)));
    }

    [Fact]
    public void HashCache_FollowsTheCommittedChunkCount_RewindingAfterAnAbortedGroupWithoutRebuilding()
    {
        var hashes = new BlobUploadHashes();
        var chunks = Enumerable.Range(0, 4).Select(i => BlobHosts.Bytes(100, i)).ToArray();
        void Rebuild(BlobHasher h, int n)
        {
            for (var i = 0; i < n; i++)
            {
                h.Append(chunks[i]);
            }
        }

        byte[] Expected(int n) => BlobHasher.Of(chunks.Take(n).SelectMany(c => c).ToArray());

        // A group of chunks 0..2 in one transaction, aborted and re-run (the map grew): chunk 0 is
        // applied again with 0 committed, and the state rewinds to the snapshot instead of rebuilding.
        for (var i = 0; i < 3; i++)
        {
            hashes.Advance(Id, i, chunks[i], h => Rebuild(h, i));
        }

        for (var i = 0; i < 3; i++)
        {
            hashes.Advance(Id, i, chunks[i], h => Rebuild(h, i));
        }

        hashes.Advance(Id, 3, chunks[3], h => Rebuild(h, 3));
        Assert.Equal(Expected(4), hashes.Current(Id, 4, h => Rebuild(h, 4)));
        Assert.Equal(Expected(4), hashes.Current(Id, 4, h => Rebuild(h, 4)));
        Assert.Equal(1, hashes.Rebuilds);

        // Another node took the upload (no state here): rebuilt from the file once.
        var fresh = new BlobUploadHashes();
        Assert.Equal(Expected(2), fresh.Current(Id, 2, h => Rebuild(h, 2)));
        fresh.Advance(Id, 2, chunks[2], h => Rebuild(h, 2));
        Assert.Equal(Expected(3), fresh.Current(Id, 3, h => Rebuild(h, 3)));
        Assert.Equal(1, fresh.Rebuilds);

        hashes.Forget(Id);
        Assert.Equal(0, hashes.Count);
    }

    [Fact]
    public void LookupCursor_MergesShardPagesInIdOrder_AndResumesWhereEachShardStopped()
    {
        static BlobMetadata Blob(int shard, int ms) => new(RecordId.Create(ms, shard, 0), "n", "text/plain", 1, DateTimeOffset.UnixEpoch, "a", [], true, false, 1, new Dictionary<string, string>());
        var cursor = BlobLookupCursor.Start(3);
        var p0 = new BlobPage(0, [Blob(0, 1), Blob(0, 5)], "s0-next", ["s0-a", "s0-b"]);
        var p1 = new BlobPage(1, [Blob(1, 2), Blob(1, 3)], null, ["s1-a", "s1-b"]);
        var p2 = new BlobPage(2, [], null, []);

        var (blobs, next) = cursor.Merge([p0, p1, p2], 3);

        Assert.Equal([1L, 2, 3], blobs.Select(b => b.Id.MillisSinceEpoch));
        var reparsed = BlobLookupCursor.Parse(next.ToToken(), 3);
        Assert.Equal([(0, (string?)"s0-a")], reparsed.Pending());

        var (rest, end) = reparsed.Merge([new BlobPage(0, [Blob(0, 5)], null, ["s0-b"])], 3);
        Assert.Equal([5L], rest.Select(b => b.Id.MillisSinceEpoch));
        Assert.True(end.Exhausted);
        Assert.Null(end.ToToken());
    }

    [Fact]
    public void LookupCursor_RefusesMalformedTokensAndTokensForAnotherShardCount()
    {
        var (_, next) = BlobLookupCursor.Start(2).Merge([new BlobPage(0, [], "t", []), new BlobPage(1, [], null, [])], 10);
        var token = next.ToToken();

        Assert.Equal(ErrorCodes.InvalidContinuationToken, Assert.Throws<ForgeOneException>(() => BlobLookupCursor.Parse(token, 3)).Code);
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Assert.Throws<ForgeOneException>(() => BlobLookupCursor.Parse("!!", 2)).Code);
        Assert.Equal(ErrorCodes.InvalidContinuationToken, Assert.Throws<ForgeOneException>(() => BlobLookupCursor.Parse(token + "AA", 2)).Code);
    }
}
