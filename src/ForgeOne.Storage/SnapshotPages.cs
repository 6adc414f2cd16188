using System.Reflection;
using System.Runtime.InteropServices;
using ForgeOne.Common;
using LightningDB;

namespace ForgeOne.Storage;

/// <summary>
/// The pages of one read snapshot of a shard file that were written after transaction
/// <see cref="Since"/> (0: every page), as a byte stream of frames (see <see cref="PageImage"/>
/// for the layout). Pages on the snapshot's free list are left out; the two meta pages are made
/// from the snapshot itself, so applying the stream to an image reproduces exactly this snapshot.
/// Made by <see cref="ShardStore.Snapshot{T}"/> and valid only inside its callback.
/// </summary>
/// <remarks>
/// LMDB 1.0 stamps every page with the transaction that wrote it and copy-on-write rewrites a
/// page (and its path to the root) whenever anything in it changes, so the pages newer than a
/// parent backup's snapshot are exactly what changed since, for every table and every kind of
/// change: an incremental costs the changed pages, not a walk of the data. The dump itself is C
/// in our LMDB build (<c>Native/forgeone_lmdb.c</c>) because it reads LMDB's internal page layout.
/// </remarks>
public sealed unsafe class SnapshotPages : IDisposable
{
    private static readonly FieldInfo? TxnHandle = typeof(LightningTransaction).GetField("_handle", BindingFlags.Instance | BindingFlags.NonPublic);

    private readonly string _file;
    private nint _dump;

    private SnapshotPages(string file, nint dump, in DumpInfo info, ulong since)
    {
        _file = file;
        _dump = dump;
        TxnId = info.TxnId;
        NextPage = info.NextPgno;
        PageSize = checked((int)info.PageSize);
        FreePages = info.FreePages;
        Since = since;
    }

    /// <summary>The snapshot's transaction id: the <see cref="Since"/> of the next incremental.</summary>
    public ulong TxnId { get; }

    /// <summary>Pages 0 .. NextPage-1 make up the snapshot's file.</summary>
    public ulong NextPage { get; }

    /// <summary>LMDB page size of the file.</summary>
    public int PageSize { get; }

    /// <summary>Pages on the snapshot's free list (left out of the stream).</summary>
    public ulong FreePages { get; }

    /// <summary>Only pages written by transactions after this one are in the stream.</summary>
    public ulong Since { get; }

    /// <summary>Data pages emitted so far (meta pages not counted).</summary>
    public ulong PagesEmitted => _dump == 0 ? 0 : Functions.Pages(_dump);

    /// <summary>Fills <paramref name="buffer"/> with the next bytes of the stream; fewer than its length only at the end (0 once done).</summary>
    /// <exception cref="ForgeOneException"><see cref="ErrorCodes.StorageCorruptFile"/> when a page does not carry its own number.</exception>
    public int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_dump == 0, this);
        nuint written;
        int rc;
        fixed (byte* p = buffer)
        {
            rc = Functions.Read(_dump, p, (nuint)buffer.Length, &written);
        }

        if (rc != 0)
        {
            throw LmdbErrors.ToForgeOne((MDBResultCode)rc, $"dumping the pages of {_file}");
        }

        return checked((int)written);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_dump != 0)
        {
            Functions.End(_dump);
            _dump = 0;
        }
    }

    internal static SnapshotPages Begin(LightningTransaction txn, ulong since, string file)
    {
        var handle = TxnHandle?.GetValue(txn) is nint h && h != 0
            ? h
            : throw new ForgeOneException(ErrorCodes.StorageIo, $"cannot reach the LMDB transaction of {file}: LightningDB's internals changed (expected LightningTransaction._handle)");
        nint dump;
        DumpInfo info;
        var rc = Functions.Begin(handle, since, &dump, &info);
        if (rc != 0)
        {
            throw LmdbErrors.ToForgeOne((MDBResultCode)rc, $"starting the page dump of {file}");
        }

        return new SnapshotPages(file, dump, info, since);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DumpInfo
    {
        public ulong TxnId;
        public ulong NextPgno;
        public uint PageSize;
        public uint Reserved;
        public ulong FreePages;
    }

    /// <summary>The dump's entry points, resolved once from the loaded ForgeOne LMDB build.</summary>
    private static class Functions
    {
        private static readonly nint Library = NativeLmdb.ForgeOneBuild is var h and not 0
            ? h
            : throw new ForgeOneException(ErrorCodes.StorageIo,
                "backups need ForgeOne's LMDB build (libforgeone-lmdb.so), but LightningDB loaded another LMDB library; remove the bundled runtimes/*/native/liblmdb.so from the installation");

        public static readonly delegate* unmanaged<nint, ulong, nint*, DumpInfo*, int> Begin =
            (delegate* unmanaged<nint, ulong, nint*, DumpInfo*, int>)NativeLibrary.GetExport(Library, "fo_dump_begin");

        public static readonly delegate* unmanaged<nint, byte*, nuint, nuint*, int> Read =
            (delegate* unmanaged<nint, byte*, nuint, nuint*, int>)NativeLibrary.GetExport(Library, "fo_dump_read");

        public static readonly delegate* unmanaged<nint, ulong> Pages =
            (delegate* unmanaged<nint, ulong>)NativeLibrary.GetExport(Library, "fo_dump_pages");

        public static readonly delegate* unmanaged<nint, void> End =
            (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(Library, "fo_dump_end");
    }
}
