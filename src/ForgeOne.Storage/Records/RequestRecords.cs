using ForgeOne.Common;

namespace ForgeOne.Storage.Records;

/// <summary>
/// The remembered outcome of a write that carried a client request id (<c>requests</c> table):
/// when it was recorded, the request's fingerprint, and the ids the write produced. A retry
/// with the same fingerprint is answered with <see cref="Ids"/> and writes nothing.
/// </summary>
public sealed record RequestOutcome(DateTimeOffset RecordedAt, byte[] Fingerprint, RecordId[] Ids)
{
    /// <summary>The stored bytes (see <see cref="RecordFormat"/>).</summary>
    public byte[] Encode()
    {
        var w = RecordWriter.ForRecord(RecordType.RequestOutcome, 24 + Fingerprint.Length + (8 * Ids.Length));
        w.WriteTimestamp(RecordedAt);
        w.WriteBytes(Fingerprint);
        w.WriteInt32(Ids.Length);
        foreach (var id in Ids)
        {
            w.WriteId(id);
        }

        return w.ToArray();
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="ForgeOneException"/> on anything else.</summary>
    public static RequestOutcome Decode(ReadOnlySpan<byte> data)
    {
        var r = RecordReader.ForRecord(data, RecordType.RequestOutcome);
        var at = r.ReadTimestamp();
        var fingerprint = r.ReadBytes();
        var ids = new RecordId[r.ReadCount(8)];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = r.ReadId();
        }

        r.End();
        return new RequestOutcome(at, fingerprint, ids);
    }
}

/// <summary>
/// Key layouts of the idempotency tables:
/// <code>
///   requests        producerToken (16) | sequence (8)            -> Encrypt(RequestOutcome)
///   request_expiry  recordedAt ms (8) | producerToken | sequence -> empty
/// </code>
/// The producer token is a blind-index HMAC of the caller's principal id and the request's
/// producer, so no principal or client-chosen key is stored in clear and principals' key spaces
/// are disjoint. A producer's requests are adjacent and ascending, so recording them appends to
/// the B-tree instead of dirtying a random page per request; the expiry index is time-ordered
/// for the same reason, and pruning takes its oldest keys.
/// </summary>
public static class RequestKeys
{
    /// <summary>Length of a <c>requests</c> key.</summary>
    public const int LedgerKeyLength = 16 + 8;

    /// <summary>Length of a <c>request_expiry</c> key.</summary>
    public const int ExpiryKeyLength = 8 + LedgerKeyLength;

    /// <summary>The <c>requests</c> key of <paramref name="sequence"/> of the producer with <paramref name="producerToken"/>.</summary>
    public static byte[] Ledger(ReadOnlySpan<byte> producerToken, long sequence)
    {
        if (producerToken.Length != 16)
        {
            throw new ArgumentException("A producer token is 16 bytes.", nameof(producerToken));
        }

        var key = new byte[LedgerKeyLength];
        producerToken.CopyTo(key);
        KeyCodec.WriteInt64(key.AsSpan(16), sequence);
        return key;
    }

    /// <summary>The <c>request_expiry</c> key of a ledger entry recorded at <paramref name="recordedAt"/>.</summary>
    public static byte[] Expiry(DateTimeOffset recordedAt, ReadOnlySpan<byte> ledgerKey)
    {
        var key = new byte[8 + ledgerKey.Length];
        KeyCodec.WriteInt64(key, recordedAt.ToUnixTimeMilliseconds());
        ledgerKey.CopyTo(key.AsSpan(8));
        return key;
    }

    /// <summary>The exclusive upper bound of expiry keys recorded before <paramref name="cutoff"/>.</summary>
    public static byte[] ExpiryUntil(DateTimeOffset cutoff)
    {
        var key = new byte[8];
        KeyCodec.WriteInt64(key, cutoff.ToUnixTimeMilliseconds());
        return key;
    }

    /// <summary>The ledger key inside an expiry key.</summary>
    public static ReadOnlySpan<byte> LedgerKeyOf(ReadOnlySpan<byte> expiryKey) => expiryKey[8..];
}
