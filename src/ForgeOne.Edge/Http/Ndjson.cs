using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ForgeOne.Common;

namespace ForgeOne.Edge.Http;

/// <summary>One line of an NDJSON body: its 1-based number and either the value or why it is not one.</summary>
public readonly record struct NdjsonLine<T>(int Number, T? Value, ForgeOneError? Error);

/// <summary>
/// Reads newline-delimited JSON straight from the request's pipe: one value per line, blank
/// lines skipped, a line longer than the limit refused as a whole body error (it cannot be
/// skipped safely), a line that does not parse reported as that line's error.
/// </summary>
public static class Ndjson
{
    /// <summary>The lines of <paramref name="reader"/>, in order.</summary>
    public static async IAsyncEnumerable<NdjsonLine<T>> ReadAsync<T>(PipeReader reader, JsonTypeInfo<T> type, int maxLineBytes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var number = 0;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var lines = new List<NdjsonLine<T>>();
            while (TryReadLine(ref buffer, out var line))
            {
                number++;
                if (!IsBlank(line))
                {
                    lines.Add(line.Length > maxLineBytes ? TooLong<T>(number, maxLineBytes) : Parse(line, type, number));
                }
            }

            if (result.IsCompleted && !buffer.IsEmpty)
            {
                number++;
                if (!IsBlank(buffer))
                {
                    lines.Add(buffer.Length > maxLineBytes ? TooLong<T>(number, maxLineBytes) : Parse(buffer, type, number));
                }

                buffer = buffer.Slice(buffer.End);
            }

            if (!result.IsCompleted && buffer.Length > maxLineBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw new ForgeOneException(ErrorCodes.MalformedBody, $"Line {number + 1} of the NDJSON body is longer than {maxLineBytes} bytes.");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            foreach (var line in lines)
            {
                yield return line;
            }

            if (result.IsCompleted)
            {
                yield break;
            }
        }
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static NdjsonLine<T> Parse<T>(ReadOnlySequence<byte> line, JsonTypeInfo<T> type, int number)
    {
        try
        {
            var reader = new Utf8JsonReader(line);
            var value = JsonSerializer.Deserialize(ref reader, type);
            return value is null
                ? new NdjsonLine<T>(number, default, new ForgeOneError(ErrorCodes.MalformedBody, $"Line {number} is null, not a JSON object."))
                : new NdjsonLine<T>(number, value, null);
        }
        catch (JsonException e)
        {
            return new NdjsonLine<T>(number, default, RequestBody.Malformed(e, $" on line {number}").Error);
        }
    }

    private static NdjsonLine<T> TooLong<T>(int number, int max) =>
        new(number, default, new ForgeOneError(ErrorCodes.MalformedBody, $"Line {number} is longer than {max} bytes."));
}
