using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// Canonical bytes for a string-to-string metadata map: this is what the security layer
/// field-encrypts, and the same map always gives the same bytes (keys in ordinal order).
/// <code>
///   u8 version (1) | u32 count | count x (u32 len | UTF-8 key, u32 len | UTF-8 value)
/// </code>
/// Decoding refuses unsorted or duplicate keys, so there is exactly one encoding per map.
/// </summary>
public static class MetadataCodec
{
    /// <summary>The format version written in the first byte.</summary>
    public const byte FormatVersion = 1;

    /// <summary>An empty map, shared.</summary>
    public static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Encodes <paramref name="metadata"/> canonically.</summary>
    public static byte[] Encode(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var writer = new RecordWriter();
        writer.WriteByte(FormatVersion);
        writer.WriteInt32(metadata.Count);
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.WriteString(key);
            writer.WriteString(value ?? throw new ArgumentException($"metadata value for '{key}' is null", nameof(metadata)));
        }

        return writer.ToArray();
    }

    /// <summary>Decodes bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static IReadOnlyDictionary<string, string> Decode(ReadOnlySpan<byte> data)
    {
        var reader = new RecordReader(data, "metadata");
        var version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new ForgeOneException(ErrorCodes.StorageUnknownFormat,
                $"metadata format version {version} is unknown (this code reads version {FormatVersion})");
        }

        var count = reader.ReadCount(minElementBytes: 8);
        var result = new Dictionary<string, string>(count, StringComparer.Ordinal);
        string? previous = null;
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            if (previous is not null && string.CompareOrdinal(previous, key) >= 0)
            {
                throw RecordReader.Corrupt("metadata", "keys are not in strictly ascending ordinal order");
            }

            result[key] = reader.ReadString();
            previous = key;
        }

        reader.End();
        return result;
    }

    internal static void Write(RecordWriter writer, IReadOnlyDictionary<string, string> metadata) => writer.WriteBytes(Encode(metadata));

    internal static IReadOnlyDictionary<string, string> Read(ref RecordReader reader) => Decode(reader.ReadBytesSpan());
}
