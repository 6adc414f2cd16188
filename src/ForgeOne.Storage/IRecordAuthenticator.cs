namespace ForgeOne.Storage;

/// <summary>
/// A keyed MAC over stored values that are not encrypted (the shard's keys supply it): the store
/// tags <c>shard_meta</c> and <c>schema_history</c> with it once one is attached
/// (<see cref="ShardStore.UseAuthenticator"/>), and handlers tag their index entries. The
/// envelope checksum only catches accidents (anyone can recompute it); a tag cannot be made
/// without the key.
/// </summary>
public interface IRecordAuthenticator
{
    /// <summary>Tag length in bytes.</summary>
    int TagLength { get; }

    /// <summary>Writes the tag of (<paramref name="table"/>, <paramref name="key"/>, <paramref name="value"/>) into <paramref name="tag"/>.</summary>
    void Compute(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, Span<byte> tag);

    /// <summary>True when <paramref name="tag"/> is the tag of the value (constant time).</summary>
    bool Verify(string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ReadOnlySpan<byte> tag);
}

/// <summary>Values with a trailing tag: <c>value | tag</c>.</summary>
public static class TaggedValue
{
    /// <summary><paramref name="value"/> followed by its tag.</summary>
    public static byte[] Append(IRecordAuthenticator mac, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(mac);
        var tagged = new byte[value.Length + mac.TagLength];
        value.CopyTo(tagged);
        mac.Compute(table, key, value, tagged.AsSpan(value.Length));
        return tagged;
    }

    /// <summary>The value without its tag when the tag verifies, else false.</summary>
    public static bool TryOpen(IRecordAuthenticator mac, string table, ReadOnlySpan<byte> key, ReadOnlySpan<byte> tagged, out ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(mac);
        value = default;
        if (tagged.Length < mac.TagLength)
        {
            return false;
        }

        var body = tagged[..^mac.TagLength];
        if (!mac.Verify(table, key, body, tagged[^mac.TagLength..]))
        {
            return false;
        }

        value = body;
        return true;
    }
}
