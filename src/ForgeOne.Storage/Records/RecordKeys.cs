using System.Buffers.Binary;
using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// Key layouts of the data tables. All integers are big-endian so LMDB's bytewise order is
/// numeric order, and timestamps come before ids so a range scan returns entries in time order.
/// Tokens (<see cref="TokenLength"/> bytes) are blind-index HMACs computed by the security layer:
/// no plaintext topic, group, blob name or setting key ever appears in a key.
/// <code>
///   logs / events      id(8)
///   log/event index    topicToken(16) | ts(8, unix ms, sign bit flipped) | id(8)
///   blob chunks        blobId(8) | chunk(4)
///   blob index         kind(1: 'n' name, 'c' content type) | token(16) | id(8)
///   checkpoints        topicToken(16) | nameLength(2) | name(UTF-8) | version(8)
///   consumer offsets   groupToken(16) | topicToken(16)
///   settings history   keyToken(16) | version(8)
/// </code>
/// Parsers throw <see cref="ForgeOneException"/> with <see cref="ErrorCodes.StorageCorruptRecord"/>
/// on a key of the wrong shape; builders throw <see cref="ArgumentException"/> on bad arguments
/// (a programming error, not bad data).
/// </summary>
public static class RecordKeys
{
    /// <summary>Length of every blind-index token.</summary>
    public const int TokenLength = 16;

    /// <summary>Length of a record id in a key.</summary>
    public const int IdLength = 8;

    /// <summary>Length of a log or event index key.</summary>
    public const int TopicIndexLength = TokenLength + 8 + IdLength;

    /// <summary>Length of a blob chunk key.</summary>
    public const int BlobChunkLength = IdLength + 4;

    /// <summary>Length of a blob index key.</summary>
    public const int BlobIndexLength = 1 + TokenLength + IdLength;

    /// <summary>Longest checkpoint name in UTF-8 bytes, so the key stays within LMDB's 511-byte limit.</summary>
    public const int MaxCheckpointNameBytes = 400;

    // The two halves of blob_index share one table: the kind byte keeps a content-type scan from
    // ever returning name entries, whatever the tokens are.
    private const byte BlobNameKind = (byte)'n';
    private const byte BlobContentTypeKind = (byte)'c';

    /// <summary>The primary key of a log entry or event: its id.</summary>
    public static byte[] Primary(RecordId id)
    {
        var key = new byte[IdLength];
        BinaryPrimitives.WriteUInt64BigEndian(key, id.Value);
        return key;
    }

    /// <summary>The id in a primary key.</summary>
    public static RecordId ParsePrimary(ReadOnlySpan<byte> key)
    {
        CheckLength(key, IdLength, "primary key");
        return new RecordId(BinaryPrimitives.ReadUInt64BigEndian(key));
    }

    /// <summary>A log or event index key.</summary>
    public static byte[] TopicIndex(ReadOnlySpan<byte> topicToken, DateTimeOffset timestamp, RecordId id)
    {
        var key = new byte[TopicIndexLength];
        WriteToken(key, topicToken, nameof(topicToken));
        WriteTime(key.AsSpan(TokenLength), timestamp.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(TokenLength + 8), id.Value);
        return key;
    }

    /// <summary>Inclusive lower bound of a topic's index scan from <paramref name="from"/> (ms precision).</summary>
    public static byte[] TopicIndexFrom(ReadOnlySpan<byte> topicToken, DateTimeOffset from) => TopicIndex(topicToken, from, default);

    /// <summary>
    /// Exclusive upper bound of a topic's index scan: every entry with a timestamp before
    /// <paramref name="until"/> (ms precision) sorts below it, every later one at or above it.
    /// </summary>
    public static byte[] TopicIndexUntil(ReadOnlySpan<byte> topicToken, DateTimeOffset until) => TopicIndex(topicToken, until, default);

    /// <summary>The timestamp (unix ms precision) and id in a topic index key.</summary>
    public static (DateTimeOffset Timestamp, RecordId Id) ParseTopicIndex(ReadOnlySpan<byte> key)
    {
        CheckLength(key, TopicIndexLength, "topic index key");
        var ms = ReadTime(key[TokenLength..]);
        if (ms < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw RecordReader.Corrupt("topic index key", $"timestamp {ms} ms is out of range");
        }

        return (DateTimeOffset.FromUnixTimeMilliseconds(ms), new RecordId(BinaryPrimitives.ReadUInt64BigEndian(key[(TokenLength + 8)..])));
    }

    /// <summary>The key of one chunk of a blob.</summary>
    public static byte[] BlobChunk(RecordId blobId, int chunkIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(chunkIndex);
        var key = new byte[BlobChunkLength];
        BinaryPrimitives.WriteUInt64BigEndian(key, blobId.Value);
        BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(IdLength), chunkIndex);
        return key;
    }

    /// <summary>The prefix shared by every chunk of a blob, in chunk order.</summary>
    public static byte[] BlobChunkPrefix(RecordId blobId) => Primary(blobId);

    /// <summary>The blob id and chunk index in a chunk key.</summary>
    public static (RecordId BlobId, int ChunkIndex) ParseBlobChunk(ReadOnlySpan<byte> key)
    {
        CheckLength(key, BlobChunkLength, "blob chunk key");
        var index = BinaryPrimitives.ReadInt32BigEndian(key[IdLength..]);
        if (index < 0)
        {
            throw RecordReader.Corrupt("blob chunk key", $"negative chunk index {index}");
        }

        return (new RecordId(BinaryPrimitives.ReadUInt64BigEndian(key)), index);
    }

    /// <summary>The blob index entry for a blob's name token.</summary>
    public static byte[] BlobNameIndex(ReadOnlySpan<byte> nameToken, RecordId blobId) => BlobIndex(BlobNameKind, nameToken, blobId);

    /// <summary>The blob index entry for a blob's content-type token.</summary>
    public static byte[] BlobContentTypeIndex(ReadOnlySpan<byte> contentTypeToken, RecordId blobId) => BlobIndex(BlobContentTypeKind, contentTypeToken, blobId);

    /// <summary>The prefix of every blob with this name token.</summary>
    public static byte[] BlobNameIndexPrefix(ReadOnlySpan<byte> nameToken) => BlobIndex(BlobNameKind, nameToken, default)[..(1 + TokenLength)];

    /// <summary>The prefix of every blob with this content-type token.</summary>
    public static byte[] BlobContentTypeIndexPrefix(ReadOnlySpan<byte> contentTypeToken) =>
        BlobIndex(BlobContentTypeKind, contentTypeToken, default)[..(1 + TokenLength)];

    /// <summary>The blob id in a blob index key.</summary>
    public static RecordId ParseBlobIndex(ReadOnlySpan<byte> key)
    {
        CheckLength(key, BlobIndexLength, "blob index key");
        if (key[0] is not (BlobNameKind or BlobContentTypeKind))
        {
            throw RecordReader.Corrupt("blob index key", $"unknown index kind {key[0]}");
        }

        return new RecordId(BinaryPrimitives.ReadUInt64BigEndian(key[(1 + TokenLength)..]));
    }

    /// <summary>The key of one version of a named checkpoint in a topic.</summary>
    public static byte[] Checkpoint(ReadOnlySpan<byte> topicToken, string name, long version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var prefix = CheckpointPrefix(topicToken, name);
        var key = new byte[prefix.Length + 8];
        prefix.CopyTo(key, 0);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(prefix.Length), version);
        return key;
    }

    /// <summary>The prefix of every version of one checkpoint; the last key under it is the newest version.</summary>
    public static byte[] CheckpointPrefix(ReadOnlySpan<byte> topicToken, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        if (nameBytes.Length > MaxCheckpointNameBytes)
        {
            throw new ArgumentException($"checkpoint names are at most {MaxCheckpointNameBytes} UTF-8 bytes", nameof(name));
        }

        // The length prefix ends the name unambiguously: "a" and "ab" never share a prefix scan.
        var key = new byte[TokenLength + 2 + nameBytes.Length];
        WriteToken(key, topicToken, nameof(topicToken));
        BinaryPrimitives.WriteUInt16BigEndian(key.AsSpan(TokenLength), (ushort)nameBytes.Length);
        nameBytes.CopyTo(key, TokenLength + 2);
        return key;
    }

    /// <summary>The checkpoint name and version in a checkpoint key.</summary>
    public static (string Name, long Version) ParseCheckpoint(ReadOnlySpan<byte> key)
    {
        if (key.Length < TokenLength + 2 + 8)
        {
            throw RecordReader.Corrupt("checkpoint key", $"{key.Length} bytes is too short");
        }

        var nameLength = BinaryPrimitives.ReadUInt16BigEndian(key[TokenLength..]);
        CheckLength(key, TokenLength + 2 + nameLength + 8, "checkpoint key");
        string name;
        try
        {
            name = RecordWriter.StrictUtf8.GetString(key.Slice(TokenLength + 2, nameLength));
        }
        catch (DecoderFallbackException)
        {
            throw RecordReader.Corrupt("checkpoint key", "name is not valid UTF-8");
        }

        var version = BinaryPrimitives.ReadInt64BigEndian(key[(TokenLength + 2 + nameLength)..]);
        return version >= 0 ? (name, version) : throw RecordReader.Corrupt("checkpoint key", $"negative version {version}");
    }

    /// <summary>The key of a consumer group's offset in a topic.</summary>
    public static byte[] ConsumerOffset(ReadOnlySpan<byte> groupToken, ReadOnlySpan<byte> topicToken)
    {
        var key = new byte[2 * TokenLength];
        WriteToken(key, groupToken, nameof(groupToken));
        WriteToken(key.AsSpan(TokenLength), topicToken, nameof(topicToken));
        return key;
    }

    /// <summary>The key of one version of a setting or metadata key; the last key under the token is the current value.</summary>
    public static byte[] SettingHistory(ReadOnlySpan<byte> keyToken, long version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var key = new byte[TokenLength + 8];
        WriteToken(key, keyToken, nameof(keyToken));
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(TokenLength), version);
        return key;
    }

    /// <summary>The version in a settings history key.</summary>
    public static long ParseSettingVersion(ReadOnlySpan<byte> key)
    {
        CheckLength(key, TokenLength + 8, "settings history key");
        var version = BinaryPrimitives.ReadInt64BigEndian(key[TokenLength..]);
        return version >= 0 ? version : throw RecordReader.Corrupt("settings history key", $"negative version {version}");
    }

    /// <summary>
    /// The smallest key greater than every key starting with <paramref name="prefix"/>, i.e. the
    /// exclusive end of a prefix scan; empty when the prefix is all 0xFF, which a scan reads as
    /// "to the end of the table".
    /// </summary>
    public static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        var end = prefix.ToArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] != 0xFF)
            {
                end[i]++;
                return end[..(i + 1)];
            }
        }

        return [];
    }

    /// <summary>
    /// The smallest key greater than <paramref name="key"/>: the key followed by a zero byte
    /// (where a scan resumes after the last key it returned).
    /// </summary>
    public static byte[] After(ReadOnlySpan<byte> key)
    {
        var next = new byte[key.Length + 1];
        key.CopyTo(next);
        return next;
    }

    private static byte[] BlobIndex(byte kind, ReadOnlySpan<byte> token, RecordId blobId)
    {
        var key = new byte[BlobIndexLength];
        key[0] = kind;
        WriteToken(key.AsSpan(1), token, "token");
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1 + TokenLength), blobId.Value);
        return key;
    }

    // Sign bit flipped: pre-1970 (negative) times sort before later ones in unsigned byte order.
    private static void WriteTime(Span<byte> destination, long unixMs) =>
        BinaryPrimitives.WriteUInt64BigEndian(destination, unchecked((ulong)unixMs ^ 0x8000_0000_0000_0000UL));

    private static long ReadTime(ReadOnlySpan<byte> source) =>
        unchecked((long)(BinaryPrimitives.ReadUInt64BigEndian(source) ^ 0x8000_0000_0000_0000UL));

    private static void WriteToken(Span<byte> destination, ReadOnlySpan<byte> token, string parameter)
    {
        if (token.Length != TokenLength)
        {
            throw new ArgumentException($"a blind-index token is exactly {TokenLength} bytes, not {token.Length}", parameter);
        }

        token.CopyTo(destination);
    }

    private static void CheckLength(ReadOnlySpan<byte> key, int expected, string what)
    {
        if (key.Length != expected)
        {
            throw RecordReader.Corrupt(what, $"{key.Length} bytes, expected {expected}");
        }
    }
}
