using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Common;
using Microsoft.AspNetCore.Http;

namespace ForgeOne.Edge.Http;

/// <summary>
/// <c>Idempotency-Key</c> on appends and publishes, mapped onto the owning shard's request
/// de-duplication: the key (scoped there by the caller's principal) with a fingerprint of the
/// request (SHA-256 of method, path and body bytes) travels in the command's
/// <see cref="RequestId"/>. A retry with the same key and body gets the original ids back and
/// writes nothing (<c>Idempotent-Replayed: true</c>); the same key with another body is
/// <c>request.key_reused</c> (422); a retry while the first is still in flight is
/// <c>request.in_flight</c> (409). Within the shard's idempotency window
/// (<c>ForgeOne:Shards:IdempotencyWindow</c>).
/// </summary>
public static class Idempotency
{
    /// <summary>The request header.</summary>
    public const string Header = "Idempotency-Key";

    /// <summary>The response header set on a replayed answer.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>
    /// The body as <typeparamref name="T"/> and, when the request carries an
    /// <c>Idempotency-Key</c>, its request id. With a key the body is read whole first (JSON
    /// bodies are bounded by the route's limit) so it can be fingerprinted.
    /// </summary>
    public static async Task<(T Body, RequestId? Id)> ReadJsonAsync<T>(HttpContext http, JsonTypeInfo<T> type)
    {
        var key = Key(http);
        if (key is null)
        {
            return (await RequestBody.ReadJsonAsync(http, type).ConfigureAwait(false), null);
        }

        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted).ConfigureAwait(false);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(bytes.Span, type);
        }
        catch (JsonException e)
        {
            throw RequestBody.Malformed(e);
        }

        return (value ?? throw new ForgeOneException(ErrorCodes.MalformedBody, "The request body is empty or null; a JSON document is required."),
            RequestId.ForKey(key, Fingerprint(http, bytes.Span)));
    }

    /// <summary>The request's key, validated; null when it has none.</summary>
    public static string? Key(HttpContext http)
    {
        var values = http.Request.Headers[Header];
        if (values.Count == 0)
        {
            return null;
        }

        var key = values.Count == 1 ? values[0]!.Trim() : null;
        var error = key is null ? null : RequestId.ForKey(key).Validate();
        if (key is null || key.Length == 0 || error is not null || key.Any(c => c is < ' ' or > '~'))
        {
            throw new ForgeOneException(ErrorCodes.InvalidArgument, $"{Header} must be one value of 1..{RequestId.MaxProducerBytes} printable ASCII characters.");
        }

        return key;
    }

    /// <summary>SHA-256 over method, path and body: what the request was.</summary>
    public static byte[] Fingerprint(HttpContext http, ReadOnlySpan<byte> body)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{http.Request.Method} {http.Request.Path}\n"));
        sha.AppendData(body);
        return sha.GetHashAndReset();
    }

    /// <summary>Marks the response as the replay of an earlier attempt.</summary>
    public static void MarkReplayed(HttpContext http, bool replayed)
    {
        if (replayed)
        {
            http.Response.Headers[ReplayedHeader] = "true";
        }
    }
}
