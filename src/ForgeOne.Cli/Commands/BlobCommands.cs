using System.CommandLine;
using System.Globalization;
using System.IO.Hashing;
using ForgeOne.Cli.Infrastructure;
using ForgeOne.Common;
using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using BlobLookupKind = ForgeOne.Cluster.Protocol.BlobProtocol.BlobLookupKind;

namespace ForgeOne.Cli.Commands;

/// <summary>
/// <c>blob put | get | ls | rm</c>: files of any size streamed both ways (never held whole), a
/// progress bar on a terminal, and the XXH3-128 checksum (what <c>xxh128sum</c> prints) computed
/// locally over the bytes sent or received and compared with the one the node stored.
/// </summary>
public static class BlobCommands
{
    /// <summary>Builds the <c>blob</c> group.</summary>
    public static Command Build(Verbs verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        return Verbs.Group("blob", "Blobs: streamed upload and download, lookup, delete", Put(verbs), Get(verbs), List(verbs), Remove(verbs));
    }

    private static Command Put(Verbs verbs)
    {
        var file = new Argument<FileInfo>("file") { Description = "The file to upload" };
        var name = new Option<string?>("--name") { Description = "The blob's name (default: the file's name)" };
        var type = new Option<string>("--content-type") { Description = "Its Content-Type", DefaultValueFactory = _ => "application/octet-stream" };
        var meta = new Option<string[]>("--meta", "-m") { Description = "Metadata key=value (repeatable)" };
        var put = new Command("put", "Uploads a file as a blob (streamed; invisible until complete, so Ctrl-C leaves nothing behind)") { file, name, type, meta };
        verbs.Action(put, async (ctx, ct) =>
        {
            var source = ctx.Get(file);
            if (!source.Exists)
            {
                throw CliException.Usage($"{source.FullName} does not exist");
            }

            var blobName = ctx.Get(name) ?? source.Name;
            var metadata = Views.Metadata(ctx.Get(meta), "--meta");
            var client = ctx.Client;
            await using var stream = new FileStream(source.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var hashing = new HashingStream(stream);
            var meta2 = await TransferProgress.RunAsync(ctx.Output, $"put {blobName}", stream.Length, bytes: true, progress =>
            {
                hashing.Progress = progress;
                return client.UploadBlobAsync(hashing, blobName, ctx.Get(type), metadata, ct);
            }).ConfigureAwait(false);
            return Report(ctx, meta2, hashing.Checksum, source.FullName);
        });
        return put;
    }

    private static Command Get(Verbs verbs)
    {
        var id = new Argument<string>("id") { Description = "The blob id" };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write it ('-': standard output; default: the blob's name in the current directory)" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file" };
        var get = new Command("get", "Downloads a blob (streamed; written to a temporary file and renamed only once its checksum verified)") { id, output, force };
        verbs.Action(get, async (ctx, ct) =>
        {
            var blobId = ParseId(ctx.Get(id));
            var client = ctx.Client;
            var meta = await client.GetBlobAsync(blobId, ct).ConfigureAwait(false);
            var target = ctx.Get(output) ?? SafeName(meta.Name, blobId);
            if (target == "-")
            {
                var stdout = ctx.Console.StandardOutput();
                var toStdout = new HashingStream(stdout);
                await TransferProgress.RunAsync(ctx.Output, $"get {meta.Name}", meta.Size, bytes: true, progress =>
                {
                    toStdout.Progress = progress;
                    return client.DownloadBlobAsync(blobId, toStdout, ct);
                }).ConfigureAwait(false);
                await stdout.FlushAsync(ct).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var path = Path.GetFullPath(target);
            if (File.Exists(path) && !ctx.Get(force))
            {
                throw CliException.Usage($"{path} exists; give --force to overwrite it");
            }

            var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.forgeone-{Guid.NewGuid():N}.part");
            try
            {
                BlobMetadata done;
                string checksum;
                await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
                {
                    var hashing = new HashingStream(file);
                    done = await TransferProgress.RunAsync(ctx.Output, $"get {meta.Name}", meta.Size, bytes: true, progress =>
                    {
                        hashing.Progress = progress;
                        return client.DownloadBlobAsync(blobId, hashing, ct);
                    }).ConfigureAwait(false);
                    checksum = hashing.Checksum;
                    await file.FlushAsync(ct).ConfigureAwait(false);
                    file.Flush(flushToDisk: true);
                }

                File.Move(temporary, path, overwrite: true);
                return Report(ctx, done, checksum, path);
            }
            finally
            {
                File.Delete(temporary);
            }
        });
        return get;
    }

    private static Command List(Verbs verbs)
    {
        var name = new Option<string?>("--name") { Description = "Blobs with exactly this name" };
        var type = new Option<string?>("--content-type") { Description = "Blobs with exactly this Content-Type" };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many", DefaultValueFactory = _ => 1000 };
        var ls = new Command("ls", "Lists blobs by name or by Content-Type, across every shard") { name, type, limit };
        verbs.Action(ls, async (ctx, ct) =>
        {
            var (by, value) = (ctx.Get(name), ctx.Get(type)) switch
            {
                ({ } n, null) => (BlobLookupKind.Name, n),
                (null, { } t) => (BlobLookupKind.ContentType, t),
                _ => throw CliException.Usage("give exactly one of --name or --content-type"),
            };
            var max = ctx.Get(limit) > 0 ? ctx.Get(limit) : throw CliException.Usage("--limit must be positive");
            var found = new List<BlobView>();
            string? continuation = null;
            do
            {
                var page = await ctx.Client.FindBlobsAsync(by, value, Math.Min(1000, max - found.Count), continuation, ct).ConfigureAwait(false);
                found.AddRange(page.Blobs.Take(max - found.Count).Select(Views.View));
                continuation = page.Continuation;
            }
            while (continuation is not null && found.Count < max);

            if (ctx.Output.Mode == OutputMode.Human)
            {
                ctx.Output.Table(["id", "name", "size", "content type", "created", "checksum"],
                    found.Select(b => new[] { b.Id, b.Name, b.Size.ToString(CultureInfo.InvariantCulture), b.ContentType, CliOutput.Time(b.CreatedAt), b.Checksum }));
                ctx.Output.WriteLine($"Count: {found.Count.ToString(CultureInfo.InvariantCulture)} blobs");
            }
            else
            {
                foreach (var b in found)
                {
                    ctx.Output.Line(b, ApiJsonContext.Default.BlobView, b.Id, quiet: b.Id);
                }
            }

            return ExitCodes.Ok;
        });
        return ls;
    }

    private static Command Remove(Verbs verbs)
    {
        var id = new Argument<string>("id") { Description = "The blob id" };
        var rm = new Command("rm", "Deletes a blob: its chunks are destroyed, a tombstone remains") { id };
        verbs.Action(rm, async (ctx, ct) =>
        {
            var blobId = ParseId(ctx.Get(id));
            var chunks = await ctx.Client.DeleteBlobAsync(blobId, ct).ConfigureAwait(false);
            ctx.Output.Result(new BlobDeleted(blobId.ToString(), chunks), ApiJsonContext.Default.BlobDeleted,
                o => o.WriteLine($"{blobId} deleted ({chunks.ToString(CultureInfo.InvariantCulture)} chunks destroyed)"), quiet: blobId.ToString());
            return ExitCodes.Ok;
        });
        return rm;
    }

    private static int Report(CliContext ctx, BlobMetadata meta, string localChecksum, string? path)
    {
        var view = Views.View(meta);
        if (!string.Equals(view.Checksum, localChecksum, StringComparison.Ordinal) && meta.Checksum.Length == 16)
        {
            throw new CliException(ExitCodes.Failed, $"{ErrorCodes.ChecksumMismatch}: the node stored checksum {view.Checksum} but the bytes transferred hash to {localChecksum}", ErrorCodes.ChecksumMismatch);
        }

        ctx.Output.Result(new BlobTransferView(view, localChecksum, path), CliJsonContext.Default.BlobTransferView,
            o => o.WriteLine($"{view.Id}  {view.Size.ToString(CultureInfo.InvariantCulture)} bytes  xxh128 {localChecksum}  {view.Name}"),
            quiet: view.Id);
        return ExitCodes.Ok;
    }

    private static RecordId ParseId(string text) =>
        RecordId.TryParse(text, out var id) ? id : throw CliException.Usage($"'{text}' is not a blob id (16 hex digits)");

    /// <summary>A download's default file name: the blob name's last path segment, or the id when that is empty or a dot name.</summary>
    private static string SafeName(string name, RecordId id)
    {
        var last = name.Replace('\\', '/').Split('/').LastOrDefault(s => s.Length > 0) ?? string.Empty;
        return last is "" or "." or ".." || last.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 ? id.ToString() : last;
    }

    /// <summary>Passes bytes through while hashing them (XXH3-128) and reporting how many went by.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly XxHash128 _hash = new();
        private long _count;

        public IProgressReporter? Progress { get; set; }

        public string Checksum => Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException("a hashing stream only moves forward");
        }

        public override int Read(byte[] buffer, int offset, int count) => Seen(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            return Seen(buffer.Span[..n]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Seen(buffer.AsSpan(offset, count));
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Seen(buffer.Span);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("a hashing stream only moves forward");

        public override void SetLength(long value) => throw new NotSupportedException();

        private int Seen(ReadOnlySpan<byte> bytes)
        {
            _hash.Append(bytes);
            _count += bytes.Length;
            Progress?.Report(_count);
            return bytes.Length;
        }
    }
}
