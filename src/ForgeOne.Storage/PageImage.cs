using System.Buffers.Binary;
using ForgeOne.Common;
using Microsoft.Win32.SafeHandles;

namespace ForgeOne.Storage;

/// <summary>
/// Rebuilds a shard file from the page streams of <see cref="SnapshotPages"/>: a full stream,
/// then each incremental of its chain in order, each written over the same image. Every frame
/// lands at its own page number, so the result is byte for byte the pages the last snapshot
/// can reach, plus stale pages that its free list says are unused. The image is a plain LMDB
/// file: <see cref="ShardStore.Open"/> opens it.
/// </summary>
/// <remarks>
/// Stream layout (little-endian), in ascending page order, meta pages first:
/// <code>
///   frame = u64 page number | u32 page count | u32 reserved (0) | page count * page size bytes
/// </code>
/// A stream arrives in pieces of any size (it is decrypted and decompressed chunk by chunk),
/// so the writer keeps the position inside the current frame between calls.
/// </remarks>
public sealed class PageImage : IDisposable
{
    private const int FrameHeader = 16;

    private readonly SafeFileHandle _file;
    private readonly string _path;
    private readonly byte[] _header = new byte[FrameHeader];
    private int _pageSize;
    private ulong _nextPage;
    private int _headerFill;
    private long _offset;
    private long _remaining;
    private ulong _lastFrameEnd;
    private bool _inStream;

    private PageImage(string path, SafeFileHandle file)
    {
        _path = path;
        _file = file;
    }

    /// <summary>The image file.</summary>
    public string Path => _path;

    /// <summary>Pages the image must hold after the streams applied so far (its LMDB file length in pages).</summary>
    public ulong Pages { get; private set; }

    /// <summary>Creates a new image file (never overwrites one).</summary>
    public static PageImage Create(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.Read };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return new PageImage(path, File.OpenHandle(path, options.Mode, options.Access, options.Share, FileOptions.None));
    }

    /// <summary>Starts applying one stream of a snapshot of <paramref name="nextPage"/> pages of <paramref name="pageSize"/> bytes.</summary>
    public void BeginStream(int pageSize, ulong nextPage)
    {
        if (_inStream)
        {
            throw new InvalidOperationException("the previous stream was not ended");
        }

        if (pageSize < 512 || (pageSize & (pageSize - 1)) != 0 || (_pageSize != 0 && pageSize != _pageSize))
        {
            throw Corrupt($"page size {pageSize} is invalid or differs from the image's {_pageSize}");
        }

        if (nextPage < 2)
        {
            throw Corrupt($"a snapshot of {nextPage} pages cannot hold LMDB's two meta pages");
        }

        _pageSize = pageSize;
        _nextPage = nextPage;
        _lastFrameEnd = 0;
        _headerFill = 0;
        _remaining = 0;
        _inStream = true;
    }

    /// <summary>Applies the next bytes of the current stream.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (!_inStream)
        {
            throw new InvalidOperationException("BeginStream first");
        }

        while (!data.IsEmpty)
        {
            if (_remaining == 0)
            {
                var take = Math.Min(FrameHeader - _headerFill, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerFill));
                _headerFill += take;
                data = data[take..];
                if (_headerFill == FrameHeader)
                {
                    StartFrame();
                }

                continue;
            }

            var chunk = (int)Math.Min(_remaining, data.Length);
            RandomAccess.Write(_file, data[..chunk], _offset);
            _offset += chunk;
            _remaining -= chunk;
            data = data[chunk..];
        }
    }

    /// <summary>Ends the current stream; the image now holds that snapshot.</summary>
    public void EndStream()
    {
        if (!_inStream || _remaining != 0 || _headerFill != 0 && _headerFill != FrameHeader)
        {
            throw Corrupt("the page stream ends inside a frame");
        }

        if (_lastFrameEnd == 0)
        {
            throw Corrupt("the page stream has no meta pages");
        }

        _inStream = false;
        Pages = Math.Max(Pages, _nextPage);
    }

    /// <summary>
    /// Drops the current stream half-way (its source turned out bad). The pages it wrote stay:
    /// applying the same stream again from a sound copy rewrites them with the same bytes.
    /// </summary>
    public void AbortStream()
    {
        _inStream = false;
        _headerFill = 0;
        _remaining = 0;
    }

    /// <summary>Gives the file the length its last snapshot needs and flushes it to disk.</summary>
    public void Complete()
    {
        if (_inStream)
        {
            throw new InvalidOperationException("the last stream was not ended");
        }

        var length = checked((long)Pages * _pageSize);
        if (RandomAccess.GetLength(_file) < length)
        {
            // Free pages at the end were never written; LMDB still expects the file to span them.
            RandomAccess.SetLength(_file, length);
        }

        RandomAccess.FlushToDisk(_file);
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();

    private void StartFrame()
    {
        _headerFill = 0;
        var page = BinaryPrimitives.ReadUInt64LittleEndian(_header);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(8));
        var first = _lastFrameEnd == 0;
        if (count == 0 || page + count > _nextPage || page + count < page)
        {
            throw Corrupt($"frame of {count} pages at page {page} lies outside the snapshot's {_nextPage} pages");
        }

        if (first ? page != 0 || count != 2 : page < _lastFrameEnd)
        {
            throw Corrupt(first ? "the page stream does not start with the two meta pages" : $"frame at page {page} is out of order (previous frame ended at page {_lastFrameEnd})");
        }

        _lastFrameEnd = page + count;
        _offset = checked((long)page * _pageSize);
        _remaining = checked((long)count * _pageSize);
    }

    private ForgeOneException Corrupt(string why) => new(ErrorCodes.StorageCorruptFile, $"{_path}: {why}");
}
