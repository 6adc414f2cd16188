using System.IO.Hashing;
using ForgeOne.Client;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Security;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.FaultTests.Harness;
using Xunit.Abstractions;

namespace ForgeOne.FaultTests.Scenarios;

/// <summary>
/// SIGKILL of the node that owns a large blob's shard while the upload is half done: the
/// upload goes on where the shard re-opens (its progress is in the shard file) and completes
/// intact, or fails with a typed error; either way no partial blob is ever visible.
/// </summary>
[Trait("Category", "Fault")]
public sealed class BlobUploadKillScenario(ITestOutputHelper output)
{
    private const int BlobBytes = 32 * 1024 * 1024;

    [Fact]
    public async Task SigkillDuringALargeBlobUpload_CompletesIntactOrFailsTyped_AndNoPartialBlobIsVisible()
    {
        await using var cluster = await FaultCluster.StartAsync(3, output);
        try
        {
            await using var load = await Workload.StartAsync(cluster);
            await Scenario.WarmUpAsync(cluster, load);
            var (victim, blobShards) = await Scenario.VictimAsync(cluster, atLeast: 1, which: s => s.Kind == ShardKind.Blobs);
            var shard = blobShards[0].Shard;
            var node = cluster.Node(victim);
            output.WriteLine($"victim {node.Name} hosts blobs-{shard}");

            // 32 MiB in the shard's default 1 MiB chunks, routed to the victim's shard. The source
            // stops at 12 MiB until the node is dead: the kill lands provably mid-upload, with
            // chunks stored, chunks in flight and chunks not sent yet.
            var uploadKey = Enumerable.Range(0, 10_000).Select(k => $"big-{k}").First(k => ShardRouter.ShardFor(k, FaultCluster.Counts.Blobs) == shard);
            var data = new byte[BlobBytes];
            new Random(17).NextBytes(data);
            var source = new GatedStream(data, pauseAt: 12 * 1024 * 1024);
            var name = $"big-blob-{Guid.NewGuid():N}";
            var uploader = new BlobClient(cluster.Client.Cluster.Region(ShardKind.Blobs), FaultCluster.Counts.Blobs, cluster.Client.Tokens);
            var upload = uploader.UploadAsync(source, name, "application/octet-stream", uploadKey: uploadKey);

            await source.Reached.Task.WaitAsync(TimeSpan.FromSeconds(120));
            var killed = await cluster.KillAsync(victim);
            source.Release.SetResult();

            BlobMetadata? stored = null;
            ForgeOneException? refused = null;
            try
            {
                stored = await upload;
                output.WriteLine($"upload completed {(DateTimeOffset.UtcNow - killed).TotalSeconds:0.00} s after the kill; blob client: {uploader.Counters}");
            }
            catch (ForgeOneException e)
            {
                refused = e;
                output.WriteLine($"upload failed typed {(DateTimeOffset.UtcNow - killed).TotalSeconds:0.00} s after the kill: {e.Error.Code} {e.Error.Message}; blob client: {uploader.Counters}");
            }

            // Only a completed blob is ever visible: exactly one under its name if the upload
            // completed (a retried begin or chunk made nothing twice), none if it failed.
            var reader = new BlobClient(cluster.Client.Cluster.Region(ShardKind.Blobs), FaultCluster.Counts.Blobs, new FixedTokenSource(cluster.Principals.Reader));
            var found = await reader.FindAsync(BlobProtocol.BlobLookupKind.Name, name);
            if (stored is not null)
            {
                var only = Assert.Single(found.Blobs);
                Assert.Equal(stored.Id, only.Id);
                Assert.Equal((long)BlobBytes, only.Size);
                Assert.Equal(XxHash128.Hash(data), only.Checksum);
                using var copy = new MemoryStream();
                await reader.DownloadAsync(stored.Id, copy);
                Assert.True(copy.ToArray().AsSpan().SequenceEqual(data), "the blob read back differs from what was uploaded");
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(refused!.Error.Code));
                Assert.Empty(found.Blobs);
            }

            await Scenario.RunForAsync(TimeSpan.FromSeconds(2));
            await load.StopAsync();
            await Scenario.VerifyAllAsync(cluster, load, new ClusterVerifier(cluster, load, output), sealedAfter: killed);
        }
        catch
        {
            cluster.DumpOutput();
            throw;
        }
    }

    /// <summary>A blob source that stops once at <c>pauseAt</c> bytes until released (the fault goes in there).</summary>
    private sealed class GatedStream(byte[] data, int pauseAt) : Stream
    {
        private int _position;

        /// <summary>Completes when the reader has taken the first <c>pauseAt</c> bytes and asks for more.</summary>
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completed by the scenario to let the reader go on.</summary>
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= pauseAt && !Release.Task.IsCompleted)
            {
                Reached.TrySetResult();
                await Release.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            // Never reads across the pause point, so the pause falls on a chunk boundary.
            var limit = _position < pauseAt ? pauseAt : data.Length;
            var n = Math.Min(buffer.Length, limit - _position);
            data.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
