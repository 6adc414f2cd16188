using System.Buffers.Binary;
using System.Collections.Concurrent;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Security;
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
/// The whole-blob checksum (<see cref="BlobHasher"/>) of uploads in flight, computed
/// incrementally so completing a 2 GiB upload does not re-read 2 GiB. A hash state cannot be
/// persisted, so this is a cache in front of the file, keyed by how many chunks the file holds:
/// it keeps a snapshot (a cloned hash state) for each of the last <see cref="Snapshots"/> chunk
/// counts it reached.
/// <code>
///   Advance(id, committed n, chunk n): state at n -> append chunk -> snapshot at n + 1
///   state at n:  snapshot n exists  -> clone it (dropping snapshots beyond n: they came from a
///                                       transaction that was aborted, e.g. re-run after the map grew)
///                otherwise          -> rebuild from the committed chunks in the file
///                                       (restart, hand-off to this node, a rewind too far back)
/// </code>
/// So the cache never vouches for chunks the file does not hold. Used only from the owning shard
/// actor's thread for a given upload; entries of different uploads (and shards sharing the
/// handler) are independent.
/// </summary>
public sealed class BlobUploadHashes
{
    /// <summary>Snapshots kept per upload: a rewind deeper than this (a group commit of more chunks of one upload) rebuilds.</summary>
    public const int Snapshots = 64;

    private readonly ConcurrentDictionary<RecordId, SortedList<int, BlobHasher>> _entries = new();

    /// <summary>Uploads with cached state (for tests and metrics).</summary>
    public int Count => _entries.Count;

    /// <summary>Rebuilds from the file so far (for tests and metrics).</summary>
    public long Rebuilds { get; private set; }

    /// <summary>
    /// Appends chunk number <paramref name="committed"/> to the hash of chunks
    /// <c>[0, committed)</c>; <paramref name="rebuild"/> must feed those chunks' plaintext in
    /// order when the cache has no state for that count.
    /// </summary>
    public void Advance(RecordId id, int committed, ReadOnlySpan<byte> chunk, Action<BlobHasher> rebuild)
    {
        var states = _entries.GetOrAdd(id, _ => []);
        var hash = At(states, committed, rebuild);
        hash.Append(chunk);
        states[committed + 1] = hash;
        while (states.Count > Snapshots)
        {
            states.GetValueAtIndex(0).Dispose();
            states.RemoveAt(0);
        }
    }

    /// <summary>The checksum of chunks <c>[0, committed)</c>; does not consume the state (a failed completion can be retried).</summary>
    public byte[] Current(RecordId id, int committed, Action<BlobHasher> rebuild)
    {
        using var hash = At(_entries.GetOrAdd(id, _ => []), committed, rebuild);
        return hash.Finish();
    }

    /// <summary>Drops the state of a completed or abandoned upload.</summary>
    public void Forget(RecordId id)
    {
        if (_entries.TryRemove(id, out var states))
        {
            foreach (var hash in states.Values)
            {
                hash.Dispose();
            }
        }
    }

    /// <summary>A new hash positioned after <paramref name="committed"/> chunks (the snapshot stays untouched).</summary>
    private BlobHasher At(SortedList<int, BlobHasher> states, int committed, Action<BlobHasher> rebuild)
    {
        while (states.Count > 0 && states.Keys[^1] > committed)
        {
            states.GetValueAtIndex(states.Count - 1).Dispose();
            states.RemoveAt(states.Count - 1);
        }

        if (!states.TryGetValue(committed, out var snapshot))
        {
            foreach (var stale in states.Values)
            {
                stale.Dispose();
            }

            states.Clear();
            snapshot = new BlobHasher();
            rebuild(snapshot);
            Rebuilds++;
            states[committed] = snapshot;
        }

        return snapshot.Clone();
    }
}

/// <summary>
/// A <see cref="BlobProtocol.PutBlobChunk"/> after <see cref="BlobShardHandler.Prepare"/>: the
/// encrypted frame in a sealed storage envelope, ready to store, in the first
/// <paramref name="SealedLength"/> bytes of a pooled buffer. Lives only inside the shard actor;
/// never sent.
/// </summary>
internal sealed record PreparedChunk(BlobProtocol.PutBlobChunk Put, byte[] Sealed, int SealedLength, byte[] Checksum, bool Compressed) : IShardCommand
{
    public PrincipalToken Token => Put.Token;

    public ShardKind Kind => Put.Kind;

    public string? RoutingKey => Put.RoutingKey;

    public int? ShardNumber => Put.ShardNumber;
}
