using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ForgeOne.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ForgeOne.Edge.Http;

/// <summary>
/// Endpoint metadata: the route reads a body of one of <paramref name="ContentTypes"/> (media
/// types without parameters) of at most <paramref name="MaxBytes"/>. <see cref="BodyLimitMiddleware"/>
/// enforces both before the handler runs, so a wrong type is a 415 and a declared oversized body a
/// 413 without a byte of it read; an undeclared (chunked) one is cut at the limit while read.
/// </summary>
public sealed record BodyLimit(long MaxBytes, params string[] ContentTypes);

/// <summary>Applies <see cref="BodyLimit"/> metadata (see there).</summary>
public sealed class BodyLimitMiddleware(RequestDelegate next)
{
    /// <summary>Runs the checks, then the endpoint.</summary>
    public Task InvokeAsync(HttpContext http)
    {
        var limit = http.GetEndpoint()?.Metadata.GetMetadata<BodyLimit>();
        if (limit is not null)
        {
            // No content types listed: the body is opaque (a blob) and any type is stored as given.
            var mediaType = MediaType(http.Request.ContentType);
            if (limit.ContentTypes.Length > 0 && (mediaType is null || !limit.ContentTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase)))
            {
                throw new ForgeOneException(ErrorCodes.UnsupportedMediaType,
                    $"This route takes Content-Type {string.Join(" or ", limit.ContentTypes)}, not '{http.Request.ContentType ?? "(none)"}'.");
            }

            if (http.Request.ContentLength > limit.MaxBytes)
            {
                throw TooLarge(limit.MaxBytes);
            }

            var feature = http.Features.Get<IHttpMaxRequestBodySizeFeature>();
            if (feature is { IsReadOnly: false })
            {
                feature.MaxRequestBodySize = limit.MaxBytes;
            }
        }

        return next(http);
    }

    /// <summary>The error for a body over <paramref name="limit"/> bytes.</summary>
    public static ForgeOneException TooLarge(long limit) =>
        new(ErrorCodes.BodyTooLarge, $"The request body is larger than this route's limit of {limit} bytes.");

    private static string? MediaType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
    }
}

/// <summary>Reads JSON request bodies with typed errors.</summary>
public static class RequestBody
{
    /// <summary>Media type of JSON bodies.</summary>
    public const string Json = "application/json";

    /// <summary>Media type of NDJSON bodies (also accepted: <c>application/ndjson</c>, <c>application/jsonl</c>).</summary>
    public const string Ndjson = "application/x-ndjson";

    /// <summary>Media types accepted as NDJSON.</summary>
    public static readonly string[] NdjsonTypes = [Ndjson, "application/ndjson", "application/jsonl"];

    /// <summary>
    /// The body as <typeparamref name="T"/>; malformed JSON, a missing body or a wrong shape is
    /// <see cref="ErrorCodes.MalformedBody"/> naming where it went wrong.
    /// </summary>
    public static async Task<T> ReadJsonAsync<T>(HttpContext http, JsonTypeInfo<T> type)
    {
        T? value;
        try
        {
            value = await JsonSerializer.DeserializeAsync(http.Request.Body, type, http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw Malformed(e);
        }

        return value ?? throw new ForgeOneException(ErrorCodes.MalformedBody, "The request body is empty or null; a JSON document is required.");
    }

    /// <summary>The typed error for a JSON parse or shape failure.</summary>
    public static ForgeOneException Malformed(JsonException e, string? where = null)
    {
        var position = e.Path is { Length: > 0 } path ? $" at {path}" : string.Empty;
        var line = e.LineNumber is { } l ? $" (line {l + 1}{(e.BytePositionInLine is { } b ? $", byte {b + 1}" : string.Empty)})" : string.Empty;
        // JsonException messages name the .NET type; the first sentence says what was wrong.
        var reason = e.Message.Split(". Path:", 2)[0];
        return new ForgeOneException(ErrorCodes.MalformedBody, $"The request body is not valid{where}: {reason}{position}{line}.");
    }
}
