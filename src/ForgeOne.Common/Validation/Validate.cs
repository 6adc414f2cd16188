using System.Text;

namespace ForgeOne.Common.Validation;

/// <summary>
/// Field validators shared by every boundary. Each returns <c>null</c> when the value is valid,
/// otherwise a typed error with a stable code and a message that names the field and the limit.
/// Pure functions of their inputs: time comes in as an argument.
/// </summary>
public static class Validate
{
    /// <summary>
    /// Topics are dot-separated segments of ASCII letters, digits, '_' and '-', for example
    /// <c>payments.eu-west.audit</c>: no empty segments, no leading or trailing dot, no spaces or
    /// control characters, so a topic is safe in a URL path, a file name and a log line.
    /// </summary>
    public static ForgeOneError? Topic(string? topic, Limits? limits = null)
    {
        limits ??= Limits.Default;
        if (string.IsNullOrEmpty(topic))
        {
            return new(ErrorCodes.InvalidTopic, "Topic is required.");
        }

        if (topic.Length > limits.MaxTopicLength)
        {
            return new(ErrorCodes.InvalidTopic, $"Topic is {topic.Length} characters; the limit is {limits.MaxTopicLength}.");
        }

        var segmentLength = 0;
        foreach (var c in topic)
        {
            if (c == '.')
            {
                if (segmentLength == 0)
                {
                    return new(ErrorCodes.InvalidTopic, "Topic has an empty segment (leading, trailing or doubled '.').");
                }

                segmentLength = 0;
                continue;
            }

            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')
            {
                return new(ErrorCodes.InvalidTopic, "Topic may contain only ASCII letters, digits, '_', '-' and '.' between segments.");
            }

            segmentLength++;
        }

        return segmentLength == 0
            ? new(ErrorCodes.InvalidTopic, "Topic has an empty segment (leading, trailing or doubled '.').")
            : null;
    }

    public static ForgeOneError? Timestamp(DateTimeOffset timestamp, DateTimeOffset now, Limits? limits = null)
    {
        limits ??= Limits.Default;
        if (timestamp < limits.MinTimestamp)
        {
            return new(ErrorCodes.InvalidTimestamp, $"Timestamp {timestamp:O} is before {limits.MinTimestamp:O}; was it given in seconds instead of milliseconds?");
        }

        if (timestamp > now + limits.MaxFutureSkew)
        {
            return new(ErrorCodes.InvalidTimestamp, $"Timestamp {timestamp:O} is more than {limits.MaxFutureSkew.TotalMinutes:0} minutes in the future.");
        }

        return null;
    }

    public static ForgeOneError? Message(string? message, Limits? limits = null)
    {
        limits ??= Limits.Default;
        if (message is null)
        {
            return new(ErrorCodes.InvalidArgument, "Message is required (it may be empty).");
        }

        var bytes = Encoding.UTF8.GetByteCount(message);
        return bytes > limits.MaxMessageBytes
            ? new(ErrorCodes.MessageTooLarge, $"Message is {bytes} bytes; the limit is {limits.MaxMessageBytes}.")
            : null;
    }

    public static ForgeOneError? Payload(ReadOnlySpan<byte> payload, Limits? limits = null)
    {
        limits ??= Limits.Default;
        return payload.Length > limits.MaxPayloadBytes
            ? new(ErrorCodes.PayloadTooLarge, $"Payload is {payload.Length} bytes; the limit is {limits.MaxPayloadBytes}.")
            : null;
    }

    public static ForgeOneError? Metadata(IReadOnlyDictionary<string, string>? metadata, Limits? limits = null)
    {
        limits ??= Limits.Default;
        if (metadata is null)
        {
            return null;
        }

        if (metadata.Count > limits.MaxMetadataEntries)
        {
            return new(ErrorCodes.MetadataTooLarge, $"Metadata has {metadata.Count} entries; the limit is {limits.MaxMetadataEntries}.");
        }

        var total = 0;
        foreach (var (key, value) in metadata)
        {
            if (string.IsNullOrEmpty(key) || key.Length > limits.MaxMetadataKeyLength || key.Any(char.IsControl))
            {
                return new(ErrorCodes.InvalidMetadata, $"Metadata keys are 1..{limits.MaxMetadataKeyLength} characters without control characters.");
            }

            if (value is null)
            {
                return new(ErrorCodes.InvalidMetadata, $"Metadata value for '{key}' is null.");
            }

            var valueBytes = Encoding.UTF8.GetByteCount(value);
            if (valueBytes > limits.MaxMetadataValueBytes)
            {
                return new(ErrorCodes.MetadataTooLarge, $"Metadata value for '{key}' is {valueBytes} bytes; the limit is {limits.MaxMetadataValueBytes}.");
            }

            total += Encoding.UTF8.GetByteCount(key) + valueBytes;
        }

        return total > limits.MaxMetadataTotalBytes
            ? new(ErrorCodes.MetadataTooLarge, $"Metadata is {total} bytes in all; the limit is {limits.MaxMetadataTotalBytes}.")
            : null;
    }

    public static ForgeOneError? CheckpointMarker(string? marker, Limits? limits = null)
    {
        limits ??= Limits.Default;
        if (marker is null)
        {
            return null;
        }

        return marker.Length == 0 || marker.Length > limits.MaxCheckpointMarkerLength || marker.Any(char.IsControl)
            ? new(ErrorCodes.InvalidArgument, $"Checkpoint marker is 1..{limits.MaxCheckpointMarkerLength} characters without control characters.")
            : null;
    }

    public static ForgeOneError? Chunk(int chunkIndex, ReadOnlySpan<byte> data, Limits? limits = null)
    {
        limits ??= Limits.Default;
        if (chunkIndex < 0)
        {
            return new(ErrorCodes.InvalidChunk, $"Chunk index {chunkIndex} is negative.");
        }

        return data.Length > limits.MaxChunkBytes
            ? new(ErrorCodes.ChunkTooLarge, $"Chunk is {data.Length} bytes; the limit is {limits.MaxChunkBytes}.")
            : null;
    }

    public static ForgeOneError? BlobName(string? name, Limits? limits = null)
    {
        limits ??= Limits.Default;
        return string.IsNullOrWhiteSpace(name) || name.Length > limits.MaxBlobNameLength || name.Any(char.IsControl)
            ? new(ErrorCodes.InvalidName, $"Blob name is 1..{limits.MaxBlobNameLength} characters, not blank, without control characters.")
            : null;
    }

    /// <summary>A media type <c>type/subtype</c> with optional parameters, e.g. <c>text/plain; charset=utf-8</c>.</summary>
    public static ForgeOneError? ContentType(string? contentType, Limits? limits = null)
    {
        limits ??= Limits.Default;
        if (string.IsNullOrEmpty(contentType) || contentType.Length > limits.MaxContentTypeLength)
        {
            return new(ErrorCodes.InvalidContentType, $"Content type is required and at most {limits.MaxContentTypeLength} characters.");
        }

        var mediaType = contentType.Split(';', 2)[0].Trim();
        var parts = mediaType.Split('/');
        return parts.Length != 2 || !IsToken(parts[0]) || !IsToken(parts[1]) || contentType.Any(char.IsControl)
            ? new(ErrorCodes.InvalidContentType, $"Content type '{contentType}' is not of the form type/subtype.")
            : null;
    }

    public static ForgeOneError? BatchSize(int count, Limits? limits = null)
    {
        limits ??= Limits.Default;
        return count <= 0 || count > limits.MaxBatchEntries
            ? new(ErrorCodes.BatchTooLarge, $"A batch holds 1..{limits.MaxBatchEntries} entries; this one has {count}.")
            : null;
    }

    /// <summary>First error among <paramref name="checks"/>, or null when all pass.</summary>
    public static ForgeOneError? First(params ForgeOneError?[] checks)
    {
        foreach (var error in checks)
        {
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>Throws the error as a <see cref="ForgeOneException"/> when there is one.</summary>
    public static void ThrowIfInvalid(ForgeOneError? error)
    {
        if (error is not null)
        {
            throw new ForgeOneException(error);
        }
    }

    private static bool IsToken(string s) =>
        s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "!#$&-^_.+".Contains(c));
}
