using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using ForgeOne.Common;
using ForgeOne.Storage.Records;

namespace ForgeOne.Cluster.Shards.Blobs;

/// <summary>
/// The progress of one upload in flight, kept in the shard file (in <c>blob_index</c> under
/// <c>'u' | id</c>, record-encrypted) so a restart or a hand-off of the shard resumes the
/// upload instead of losing it. Written in the same transaction as every chunk.
/// <code>
///   u8 version (1) | i32 next chunk | i64 bytes received | i32 last chunk length
///   | i64 last activity (unix ms) | u8 flags (bit 0: some chunk compressed, bit 1: abandoned)
///   | 16 name token | 16 content-type token
/// </code>
/// The blind-index tokens are computed when the upload begins (the name is in clear only then)
/// and written to the index when it completes.
/// </summary>
public readonly record struct BlobUpload(
    int NextChunk,
    long Received,
    int LastChunkLength,
    DateTimeOffset LastActivity,
    bool AnyCompressed,
    bool Abandoned,
    byte[] NameToken,
    byte[] ContentTypeToken)
{
    /// <summary>The format version byte.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The kind byte of progress keys in <c>blob_index</c>; name ('n') and content-type ('c') entries never share it.</summary>
    public const byte KeyKind = (byte)'u';

    private const int TokenLength = RecordKeys.TokenLength;
    private const int Length = 1 + 4 + 8 + 4 + 8 + 1 + TokenLength + TokenLength;

    /// <summary>The progress key of upload <paramref name="id"/>.</summary>
    public static byte[] Key(RecordId id)
    {
        var key = new byte[1 + RecordKeys.IdLength];
        key[0] = KeyKind;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1), id.Value);
        return key;
    }

    /// <summary>The upload id in a progress key.</summary>
    public static RecordId ParseKey(ReadOnlySpan<byte> key) =>
        key.Length == 1 + RecordKeys.IdLength && key[0] == KeyKind
            ? new RecordId(BinaryPrimitives.ReadUInt64BigEndian(key[1..]))
            : throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, "corrupt blob upload key");

    /// <summary>Every progress key sorts in <c>['u', 'v')</c>.</summary>
    public static byte[] KeyRangeStart => [KeyKind];

    /// <summary>The exclusive end of the progress key range.</summary>
    public static byte[] KeyRangeEnd => [KeyKind + 1];

    /// <summary>True when the upload has been idle for longer than <paramref name="abandonAfter"/> at <paramref name="now"/>.</summary>
    public bool IsExpired(DateTimeOffset now, TimeSpan abandonAfter) => Abandoned || now - LastActivity > abandonAfter;

    /// <summary>The stored bytes.</summary>
    public byte[] Encode()
    {
        if (NameToken.Length != TokenLength || ContentTypeToken.Length != TokenLength)
        {
            throw new ArgumentException("tokens must be 16 bytes");
        }

        var b = new byte[Length];
        b[0] = FormatVersion;
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(1), NextChunk);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(5), Received);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(13), LastChunkLength);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(17), LastActivity.ToUnixTimeMilliseconds());
        b[25] = (byte)((AnyCompressed ? 1 : 0) | (Abandoned ? 2 : 0));
        NameToken.CopyTo(b, 26);
        ContentTypeToken.CopyTo(b, 26 + TokenLength);
        return b;
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static BlobUpload Decode(ReadOnlySpan<byte> b)
    {
        if (b.Length == 0 || b[0] != FormatVersion)
        {
            throw new ForgeOneException(ErrorCodes.StorageUnknownFormat, $"blob upload progress format {(b.Length == 0 ? -1 : b[0])} is unknown");
        }

        if (b.Length != Length || (b[25] & ~3) != 0)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, "corrupt blob upload progress record");
        }

        var next = BinaryPrimitives.ReadInt32BigEndian(b[1..]);
        var received = BinaryPrimitives.ReadInt64BigEndian(b[5..]);
        var last = BinaryPrimitives.ReadInt32BigEndian(b[13..]);
        if (next < 0 || received < 0 || last < 0)
        {
            throw new ForgeOneException(ErrorCodes.StorageCorruptRecord, "corrupt blob upload progress record: negative count");
        }

        return new BlobUpload(
            next,
            received,
            last,
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(b[17..])),
            (b[25] & 1) != 0,
            (b[25] & 2) != 0,
            b.Slice(26, TokenLength).ToArray(),
            b.Slice(26 + TokenLength, TokenLength).ToArray());
    }
}

/// <summary>
/// The whole-blob SHA-256 of uploads in flight, computed incrementally so completing a 2 GiB
/// upload does not re-read 2 GiB. A .NET hash state cannot be persisted, so this is a cache in
/// front of the file, and it must never run ahead of what is committed: a chunk's bytes are
/// hashed only once a later operation of the same upload sees the chunk committed (the
/// persisted chunk count moved past it). Until then the chunk is <em>staged</em>.
/// <code>
///   Sync(id, committed):  hashed == committed            -> drop a stale stage, ok
///                         hashed + 1 == committed, staged -> hash the staged chunk, ok
///                         anything else (restart, hand-off, an aborted group commit that
///                         had hashed ahead) -> rebuild from the committed chunks in the file
/// </code>
/// Used only from the owning shard actor's thread for a given upload; entries of different
/// uploads (and shards sharing the handler) are independent.
/// </summary>
public sealed class BlobUploadHashes
{
    private readonly ConcurrentDictionary<RecordId, Entry> _entries = new();

    /// <summary>Uploads with cached state (for tests and metrics).</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Makes the cached hash of <paramref name="id"/> cover exactly chunks
    /// <c>[0, committed)</c>, calling <paramref name="rebuild"/> (which must feed those chunks'
    /// plaintext in order) when the cache cannot vouch for it. Returns true when it rebuilt.
    /// </summary>
    public bool Sync(RecordId id, int committed, Action<IncrementalHash> rebuild)
    {
        if (_entries.TryGetValue(id, out var e))
        {
            if (e.Staged is not null && e.StagedIndex == e.Hashed && e.Hashed + 1 == committed)
            {
                e.Hash.AppendData(e.Staged);
                e.Hashed++;
            }

            e.Staged = null;
            e.StagedIndex = -1;
            if (e.Hashed == committed)
            {
                return false;
            }

            _entries.TryRemove(id, out _);
            e.Hash.Dispose();
        }

        var fresh = new Entry(IncrementalHash.CreateHash(HashAlgorithmName.SHA256));
        rebuild(fresh.Hash);
        fresh.Hashed = committed;
        _entries[id] = fresh;
        return true;
    }

    /// <summary>Stages chunk <paramref name="index"/> (being written now; hashed once seen committed). Call after <see cref="Sync"/>.</summary>
    public void Stage(RecordId id, int index, byte[] plain)
    {
        if (_entries.TryGetValue(id, out var e))
        {
            e.Staged = plain;
            e.StagedIndex = index;
        }
    }

    /// <summary>The SHA-256 of chunks <c>[0, committed)</c>; does not consume the state (a failed completion can be retried).</summary>
    public byte[] Current(RecordId id, int committed, Action<IncrementalHash> rebuild)
    {
        Sync(id, committed, rebuild);
        return _entries[id].Hash.GetCurrentHash();
    }

    /// <summary>Drops the state of a completed or abandoned upload.</summary>
    public void Forget(RecordId id)
    {
        if (_entries.TryRemove(id, out var e))
        {
            e.Hash.Dispose();
        }
    }

    private sealed class Entry(IncrementalHash hash)
    {
        public IncrementalHash Hash { get; } = hash;

        public int Hashed { get; set; }

        public byte[]? Staged { get; set; }

        public int StagedIndex { get; set; } = -1;
    }
}
