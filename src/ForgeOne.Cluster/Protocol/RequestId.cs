using System.Text;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// A client request id: makes a write safe to retry. The shard that owns the write remembers,
/// in the same transaction as the write, that <see cref="Producer"/>'s request
/// <see cref="Sequence"/> produced these record ids; a retry within the shard's idempotency
/// window gets the same ids back and writes nothing. Scoped by the caller's principal id:
/// two principals using the same producer and sequence never see each other's outcomes.
/// </summary>
/// <remarks>
/// Two ways to use it:
/// <list type="bullet">
///   <item>producer id + sequence (the actor client): a random producer id per client instance,
///   sequence 1, 2, 3... per request. A producer's ids then sit next to each other in the
///   shard's <c>requests</c> table, so recording them costs appends, not random inserts.</item>
///   <item>an opaque key (an HTTP <c>Idempotency-Key</c>): <see cref="ForKey"/>, producer = the
///   key, sequence 0.</item>
/// </list>
/// <para><see cref="Fingerprint"/> says what the request was, so the same id sent with a
/// different request is refused (<see cref="ErrorCodes.RequestKeyReused"/>) instead of being
/// answered with another request's ids. Null: the shard fingerprints the command's content.
/// The HTTP edge passes a hash of the request body.</para>
/// </remarks>
/// <param name="Producer">Who numbers the requests: 1..<see cref="MaxProducerBytes"/> UTF-8 bytes, no control characters.</param>
/// <param name="Sequence">The request's number within the producer, &gt;= 0.</param>
/// <param name="Fingerprint">What the request was (1..<see cref="MaxFingerprintBytes"/> bytes), or null for the shard's own fingerprint of the command.</param>
public sealed record RequestId(string Producer, long Sequence, byte[]? Fingerprint = null)
{
    /// <summary>Longest producer id or opaque key, in UTF-8 bytes.</summary>
    public const int MaxProducerBytes = 200;

    /// <summary>Longest caller-supplied fingerprint.</summary>
    public const int MaxFingerprintBytes = 64;

    /// <summary>An opaque idempotency key (e.g. HTTP <c>Idempotency-Key</c>) with the request's fingerprint.</summary>
    public static RequestId ForKey(string key, byte[]? fingerprint = null) => new(key, 0, fingerprint);

    /// <summary>A fresh random producer id (128 bits, 32 hex digits).</summary>
    public static string NewProducer() => Guid.NewGuid().ToString("N");

    /// <summary>Null when well formed, else why not (<see cref="ErrorCodes.InvalidArgument"/>).</summary>
    public ForgeOneError? Validate()
    {
        if (string.IsNullOrEmpty(Producer) || Encoding.UTF8.GetByteCount(Producer) > MaxProducerBytes || Producer.Any(char.IsControl))
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, $"A request id's producer (or idempotency key) is 1..{MaxProducerBytes} UTF-8 bytes without control characters.");
        }

        if (Sequence < 0)
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument, "A request id's sequence must be 0 or more.");
        }

        return Fingerprint is { Length: 0 or > MaxFingerprintBytes }
            ? new ForgeOneError(ErrorCodes.InvalidArgument, $"A request fingerprint is 1..{MaxFingerprintBytes} bytes (or none).")
            : null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Producer}/{Sequence}";
}
