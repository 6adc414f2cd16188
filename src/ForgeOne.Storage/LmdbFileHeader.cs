using System.Buffers.Binary;
using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>
/// Checks an existing LMDB 1.0 data file before LMDB maps it. LMDB itself rejects a file
/// whose meta pages are garbage, but it happily opens a file cut short after its meta pages
/// (the missing pages only fault later, or read as zeros) and treats an empty file as a new
/// environment, which would silently replace a lost shard with an empty one.
/// </summary>
/// <remarks>
/// Layout read here (LMDB 1.0.1, 64-bit, mdb.c <c>MDB_page_header</c> + <c>MDB_meta</c>):
/// pages 0 and 1 are meta pages; each starts with a 24-byte page header followed by
/// <code>
///   +0  u32 magic 0xBEEFC0DE   +4  u32 data version (3)   +8 ptr address  +16 u64 mapsize
///   +24 MDB_db free (u32 md_pad = page size, ...)  +72 MDB_db main  +120 u64 last_pg  +128 u64 txnid
/// </code>
/// The newer meta (higher txnid) says how many pages the file must hold.
/// </remarks>
internal static class LmdbFileHeader
{
    private const uint Magic = 0xBEEFC0DE;
    private const uint DataVersion = 3;
    private const int MetaOffset = 24;
    private const int MinPageSize = 512;

    public static void Validate(string path)
    {
        var length = new FileInfo(path).Length;
        if (length == 0)
        {
            throw Truncated(path, "the file is empty");
        }

        using var file = File.OpenRead(path);
        Span<byte> first = stackalloc byte[MetaOffset + 136];
        if (file.ReadAtLeast(first, first.Length, throwOnEndOfStream: false) < first.Length)
        {
            throw Truncated(path, $"the file is {length} bytes, shorter than an LMDB meta page");
        }

        var meta0 = ReadMeta(path, first);
        var pageSize = meta0.PageSize;
        if (pageSize < MinPageSize || (pageSize & (pageSize - 1)) != 0)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{path}: meta page 0 records page size {pageSize}");
        }

        if (length < 2L * pageSize)
        {
            throw Truncated(path, $"the file is {length} bytes, shorter than its two {pageSize}-byte meta pages");
        }

        Span<byte> second = stackalloc byte[MetaOffset + 136];
        file.Position = pageSize;
        file.ReadExactly(second);
        var meta1 = ReadMeta(path, second);
        var newest = meta1.TxnId > meta0.TxnId ? meta1 : meta0;
        var needed = (newest.LastPage + 1) * pageSize;
        if ((ulong)length < needed)
        {
            throw Truncated(path, $"the file is {length} bytes but its last committed transaction uses {needed} bytes ({newest.LastPage + 1} pages)");
        }
    }

    private static (uint PageSize, ulong LastPage, ulong TxnId) ReadMeta(string path, ReadOnlySpan<byte> page)
    {
        var meta = page[MetaOffset..];
        if (BinaryPrimitives.ReadUInt32LittleEndian(meta) != Magic)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptFile, $"{path} is not an LMDB file (bad magic in meta page)");
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(meta[4..]);
        if (version != DataVersion)
        {
            throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"{path} has LMDB data format {version}; this build reads format {DataVersion} (LMDB 1.0)");
        }

        return (BinaryPrimitives.ReadUInt32LittleEndian(meta[24..]), BinaryPrimitives.ReadUInt64LittleEndian(meta[120..]), BinaryPrimitives.ReadUInt64LittleEndian(meta[128..]));
    }

    private static ForgeOneException Truncated(string path, string why) =>
        new(ErrorCodes.StorageTruncatedFile, $"{path} is truncated: {why}. The file is left untouched; restore it from a backup.");
}
