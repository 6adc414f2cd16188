using System.Buffers.Binary;
using System.Text;

namespace ForgeOne.Security;

/// <summary>
/// Where a ciphertext lives: shard (store) id, table and record key. Bound into the AES-GCM
/// associated data, so a ciphertext copied to another key, table or shard fails to decrypt.
/// A ref struct so the hot path passes the record key as a span without allocating.
/// </summary>
public readonly ref struct RecordContext
{
    /// <summary>Creates a context.</summary>
    public RecordContext(string storeId, string table, ReadOnlySpan<byte> key)
    {
        StoreId = storeId ?? throw new ArgumentNullException(nameof(storeId));
        Table = table ?? throw new ArgumentNullException(nameof(table));
        Key = key;
    }

    /// <summary>Shard id, e.g. <c>logs-0003</c>.</summary>
    public string StoreId { get; }

    /// <summary>Table name, e.g. <c>logs</c>.</summary>
    public string Table { get; }

    /// <summary>The record's key bytes as stored.</summary>
    public ReadOnlySpan<byte> Key { get; }
}

/// <summary>
/// Associated-data encoding shared by record and field ciphertexts:
/// <c>header prefix | u16 len + store id | u16 len + table | u32 len + key</c>.
/// </summary>
internal static class ContextAad
{
    /// <summary>Inputs up to this size are built on the stack.</summary>
    public const int StackLimit = 512;

    public static int Length(int prefixLength, in RecordContext ctx) =>
        prefixLength + 2 + Utf8.Length16(ctx.StoreId, "store id") + 2 + Utf8.Length16(ctx.Table, "table") + 4 + ctx.Key.Length;

    public static void Write(Span<byte> dest, ReadOnlySpan<byte> prefix, in RecordContext ctx)
    {
        prefix.CopyTo(dest);
        var p = prefix.Length;
        var n = Encoding.UTF8.GetBytes(ctx.StoreId, dest[(p + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(dest[p..], (ushort)n);
        p += 2 + n;
        n = Encoding.UTF8.GetBytes(ctx.Table, dest[(p + 2)..]);
        BinaryPrimitives.WriteUInt16BigEndian(dest[p..], (ushort)n);
        p += 2 + n;
        BinaryPrimitives.WriteUInt32BigEndian(dest[p..], (uint)ctx.Key.Length);
        ctx.Key.CopyTo(dest[(p + 4)..]);
    }
}
