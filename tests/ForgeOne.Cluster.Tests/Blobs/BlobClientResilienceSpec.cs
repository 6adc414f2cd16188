using System.IO.Hashing;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using ForgeOne.Client;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Cluster.Shards.Blobs;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Tests.Blobs;

/// <summary>
/// The blob client when requests get lost on the way (as they do when a node dies or a shard
/// moves): an upload still completes, intact and written once, and a completion whose reply
/// was lost is confirmed.
/// </summary>
public sealed class BlobClientResilienceSpec : TestKit, IDisposable
{
    private static readonly RetryPolicy Fast = new() { AttemptTimeout = TimeSpan.FromMilliseconds(300), InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(50) };
    private readonly TempRoot _root = new();
    private readonly IActorRef _region;

    public BlobClientResilienceSpec()
        : base(ConfigurationFactory.ParseString(ClusterConfig.ShardActorHocon), "blob-client-resilience-spec")
    {
        _region = Sys.ActorOf(LocalShardRegion.Props(BlobHosts.Create(_root, new BlobShardHandler()), ShardKind.Blobs));
    }

    /// <summary>Forwards to the region, but drops the messages its predicate picks (by the n-th message of its type, 1-based), or only their replies.</summary>
    private sealed class Lossy : ReceiveActor
    {
        public Lossy(IActorRef region, Func<object, int, bool> drop, bool dropReplyInstead)
        {
            var seen = new Dictionary<Type, int>();
            Receive<IShardMessage>(m =>
            {
                var n = seen[m.GetType()] = seen.GetValueOrDefault(m.GetType()) + 1;
                if (!drop(m, n))
                {
                    region.Forward(m);
                }
                else if (dropReplyInstead)
                {
                    region.Tell(m, ActorRefs.Nobody);
                }
            });
        }
    }

    private BlobClient Client(Func<object, int, bool> drop, bool dropReplyInstead = false) =>
        new(Sys.ActorOf(Props.Create(() => new Lossy(_region, drop, dropReplyInstead))), 3, new FixedTokenSource(Callers.Admin), window: 4, retry: Fast);

    [Fact]
    public async Task LostChunks_AreSentAgainInOrder_TheBlobIsIntact()
    {
        var data = BlobHosts.Bytes(20 * 4096 + 123);

        // Chunks 6..8 (the 6th to 8th sent) vanish, as with a node that died holding them.
        var client = Client((m, n) => m is BlobProtocol.PutBlobChunk && n is >= 6 and <= 8);
        var meta = await client.UploadAsync(new MemoryStream(data), "lossy", "application/octet-stream", chunkSize: 4096);

        Assert.Equal(data.Length, meta.Size);
        Assert.Equal(XxHash128.Hash(data), meta.Checksum);
        using var copy = new MemoryStream();
        await Client((_, _) => false).DownloadAsync(meta.Id, copy);
        Assert.Equal(data, copy.ToArray());
        // The begin, the lost chunks sent again one by one (at least the three), the completion.
        Assert.True(client.Counters.Requests >= 5, $"the three lost chunks were not sent again ({client.Counters})");
    }

    [Fact]
    public async Task ACompletionWhoseReplyWasLost_IsConfirmedFromTheBlobsMetadata()
    {
        var data = BlobHosts.Bytes(3 * 4096);

        // The shard completes the upload, but its reply never arrives; the retry finds no upload in progress.
        var client = Client((m, n) => m is BlobProtocol.CompleteBlobUpload && n == 1, dropReplyInstead: true);
        var meta = await client.UploadAsync(new MemoryStream(data), "confirmed", "application/octet-stream", chunkSize: 4096);

        Assert.Equal(data.Length, meta.Size);
        Assert.Equal(XxHash128.Hash(data), meta.Checksum);
    }

    [Fact]
    public async Task ALostBegin_StartsAnotherUpload_AndTheBlobIsWrittenOnce()
    {
        var data = BlobHosts.Bytes(2 * 4096);

        var client = Client((m, n) => m is BlobProtocol.BeginBlobUpload && n == 1);
        var meta = await client.UploadAsync(new MemoryStream(data), "begun-twice", "application/octet-stream", chunkSize: 4096);

        var found = await Client((_, _) => false).FindAsync(BlobProtocol.BlobLookupKind.Name, "begun-twice");
        Assert.Equal([meta.Id], found.Blobs.Select(b => b.Id));
    }

    public new void Dispose()
    {
        base.Dispose();
        _root.Dispose();
    }
}
