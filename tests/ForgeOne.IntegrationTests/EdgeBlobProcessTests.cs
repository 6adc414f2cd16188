using System.Globalization;
using System.IO.Hashing;
using ForgeOne.Client.Http;
using Xunit.Abstractions;

namespace ForgeOne.IntegrationTests;

/// <summary>
/// A 1 GiB blob of incompressible bytes streamed up (chunked, no Content-Length) and down through
/// a node's HTTP edge, while the node's anonymous memory (heap, not the mapped shard file) is
/// sampled: it grows by less than 100 MiB, so neither direction holds the blob whole.
/// </summary>
[Trait("Category", "MultiProcess")]
[Trait("Category", "Slow")]
public sealed class EdgeBlobProcessTests(ITestOutputHelper output) : IDisposable
{
    private const long Size = 1L << 30;
    private const long MaxGrowth = 100L << 20;
    private readonly TempDir _dir = new();
    private NodeProcess? _node;

    [Fact]
    public async Task OneGiBBlob_StreamsUpAndDownThroughTheEdge_WithNodeMemoryGrowingUnder100MiB()
    {
        _node = NodeProcess.Start("node", _dir.Path, [$"--ForgeOne:Port={NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture)}", "--ForgeOne:Shards:NoSync=true"]);
        await _node.WaitReadyAsync(TimeSpan.FromSeconds(90));
        var edge = _node.EdgeAddress ?? throw new InvalidOperationException("the node printed no edge address:\n" + _node.Output);
        var key = (await File.ReadAllTextAsync(Path.Combine(_dir.Path, "keys", "bootstrap-admin.key"))).Trim();
        var client = new ForgeOneHttpClient(new HttpClient { BaseAddress = edge, Timeout = Timeout.InfiniteTimeSpan }, new ForgeOneHttpClientOptions { ApiKey = key });

        // Warm-up: the same paths with a small blob (JIT, pools, the blob shard opened).
        var warm = await client.UploadBlobAsync(new RandomStream(8 << 20, seed: 1), "warm.bin", "application/octet-stream");
        await client.DownloadBlobAsync(warm.Id, new HashingSink());

        var baseline = AnonymousBytes(_node.Pid);
        using var stop = new CancellationTokenSource();
        var peak = baseline;
        // Sampling is the measurement itself (nothing waits on it): the peak over the transfer.
        var sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
            {
                peak = Math.Max(peak, AnonymousBytes(_node.Pid));
            }
        });

        var source = new RandomStream(Size, seed: 42);
        var uploaded = await client.UploadBlobAsync(source, "big.bin", "application/octet-stream");
        var sink = new HashingSink();
        var downloaded = await client.DownloadBlobAsync(uploaded.Id, sink);
        await stop.CancelAsync();
        await sampler.ContinueWith(_ => { }, TaskScheduler.Default);

        output.WriteLine($"node anonymous memory: baseline {baseline >> 20} MiB, peak {peak >> 20} MiB during 1 GiB up + down");
        Assert.Equal(Size, uploaded.Size);
        Assert.Equal(Size, downloaded.Size);
        Assert.Equal(Size, sink.Length);
        Assert.Equal(source.Hash, sink.Hash);
        Assert.True(peak - baseline < MaxGrowth, $"node anonymous memory grew by {(peak - baseline) >> 20} MiB (baseline {baseline >> 20} MiB, peak {peak >> 20} MiB)");
    }

    public void Dispose()
    {
        _node?.Dispose();
        _dir.Dispose();
    }

    // RssAnon: the process's resident anonymous memory (heaps, stacks), without the shard files
    // LMDB maps, which the page cache holds and any process may share.
    private static long AnonymousBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>A forward-only stream of <c>length</c> pseudo-random (incompressible) bytes, hashed as they are read.</summary>
    private sealed class RandomStream(long length, ulong seed) : Stream
    {
        private readonly XxHash128 _hash = new();
        private ulong _state = seed * 0x9E3779B97F4A7C15UL | 1;
        private long _position;

        public byte[] Hash => _hash.GetCurrentHash();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            if (n <= 0)
            {
                return 0;
            }

            // xorshift64, a word at a time; a partial last word takes the low bytes of one.
            var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(buffer[..(n & ~7)]);
            for (var i = 0; i < words.Length; i++)
            {
                words[i] = Next();
            }

            if ((n & 7) != 0)
            {
                BitConverter.GetBytes(Next()).AsSpan(0, n & 7).CopyTo(buffer[(n & ~7)..n]);
            }

            _hash.Append(buffer[..n]);
            _position += n;
            return n;
        }

        private ulong Next()
        {
            _state ^= _state << 13;
            _state ^= _state >> 7;
            _state ^= _state << 17;
            return _state;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A write-only stream that keeps only the length and hash of what it was given.</summary>
    private sealed class HashingSink : Stream
    {
        private readonly XxHash128 _hash = new();
        private long _length;

        public byte[] Hash => _hash.GetCurrentHash();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.Append(buffer);
            _length += buffer.Length;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
