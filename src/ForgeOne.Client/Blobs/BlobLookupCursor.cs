using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using ForgeOne.Common;
using ForgeOne.Common.Model;
using static ForgeOne.Cluster.Protocol.BlobProtocol;

namespace ForgeOne.Client;

/// <summary>
/// The client-side position of a scatter-gather blob lookup: for every blob shard, whether it
/// has not been asked yet, where it stopped (that shard's MAC-protected token, opaque here), or
/// that it is exhausted. Pure: <see cref="Merge"/> turns one round of shard pages into one
/// merged page (id order, which is time order) and the next position.
/// <code>
///   token = base64url( u8 version (1) | u16 shard count | per shard: u8 state
///                      (0 fresh, 1 resume, 2 done) [ | u16 length | UTF-8 shard token ] )
/// </code>
/// The composite needs no MAC of its own: every shard verifies the token it issued, so a
/// client can at most skip or repeat its own results.
/// </summary>
public sealed class BlobLookupCursor
{
    private const byte FormatVersion = 1;
    private const byte Fresh = 0;
    private const byte Resume = 1;
    private const byte Done = 2;

    private readonly byte[] _states;
    private readonly string?[] _tokens;

    private BlobLookupCursor(byte[] states, string?[] tokens)
    {
        _states = states;
        _tokens = tokens;
    }

    /// <summary>Number of shards the lookup spans.</summary>
    public int ShardCount => _states.Length;

    /// <summary>True when no shard has anything left.</summary>
    public bool Exhausted => _states.All(s => s == Done);

    /// <summary>The start of a lookup over <paramref name="shardCount"/> shards.</summary>
    public static BlobLookupCursor Start(int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        return new BlobLookupCursor(new byte[shardCount], new string?[shardCount]);
    }

    /// <summary>The position in <paramref name="token"/> (null: the start); throws <see cref="ErrorCodes.InvalidContinuationToken"/> for anything malformed or for another shard count.</summary>
    public static BlobLookupCursor Parse(string? token, int shardCount)
    {
        if (token is null)
        {
            return Start(shardCount);
        }

        try
        {
            var raw = Base64Url.DecodeFromChars(token);
            if (raw.Length < 3 || raw[0] != FormatVersion || BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(1)) != shardCount)
            {
                throw Invalid();
            }

            var states = new byte[shardCount];
            var tokens = new string?[shardCount];
            var at = 3;
            for (var s = 0; s < shardCount; s++)
            {
                states[s] = raw[at++];
                if (states[s] == Resume)
                {
                    var length = BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(at));
                    tokens[s] = Encoding.UTF8.GetString(raw, at + 2, length);
                    at += 2 + length;
                }
                else if (states[s] is not (Fresh or Done))
                {
                    throw Invalid();
                }
            }

            return at == raw.Length ? new BlobLookupCursor(states, tokens) : throw Invalid();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException)
        {
            throw Invalid();
        }
    }

    /// <summary>Shards to ask this round, with the token each resumes from (null = from the start).</summary>
    public IEnumerable<(int Shard, string? Token)> Pending() =>
        Enumerable.Range(0, _states.Length).Where(s => _states[s] != Done).Select(s => (s, _tokens[s]));

    /// <summary>
    /// Merges one round of pages (one per pending shard) into at most <paramref name="limit"/>
    /// blobs in id order, and the position after them: a shard whose page was taken whole moves
    /// to its page continuation (or is done); a shard cut part-way moves to the cursor of its last
    /// blob taken; a shard none of whose blobs were taken stays put.
    /// </summary>
    public (BlobMetadata[] Blobs, BlobLookupCursor Next) Merge(IReadOnlyCollection<BlobPage> pages, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var taken = pages
            .SelectMany(p => p.Blobs.Select((b, i) => (Blob: b, Page: p, Index: i)))
            .OrderBy(x => x.Blob.Id)
            .Take(limit)
            .ToList();
        var states = (byte[])_states.Clone();
        var tokens = (string?[])_tokens.Clone();
        foreach (var page in pages)
        {
            var k = taken.Count(x => ReferenceEquals(x.Page, page));
            if (k == page.Blobs.Length)
            {
                states[page.Shard] = page.Continuation is null ? Done : Resume;
                tokens[page.Shard] = page.Continuation;
            }
            else if (k > 0)
            {
                states[page.Shard] = Resume;
                tokens[page.Shard] = page.Cursors[k - 1];
            }
        }

        return ([.. taken.Select(x => x.Blob)], new BlobLookupCursor(states, tokens));
    }

    /// <summary>The token for this position, or null when exhausted.</summary>
    public string? ToToken()
    {
        if (Exhausted)
        {
            return null;
        }

        using var ms = new MemoryStream();
        ms.WriteByte(FormatVersion);
        Span<byte> u16 = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(u16, (ushort)_states.Length);
        ms.Write(u16);
        for (var s = 0; s < _states.Length; s++)
        {
            ms.WriteByte(_states[s]);
            if (_states[s] == Resume)
            {
                var bytes = Encoding.UTF8.GetBytes(_tokens[s]!);
                BinaryPrimitives.WriteUInt16BigEndian(u16, (ushort)bytes.Length);
                ms.Write(u16);
                ms.Write(bytes);
            }
        }

        return Base64Url.EncodeToString(ms.ToArray());
    }

    private static ForgeOneException Invalid() => new(ErrorCodes.InvalidContinuationToken, "The blob lookup continuation token is malformed or from another cluster shape.");
}
