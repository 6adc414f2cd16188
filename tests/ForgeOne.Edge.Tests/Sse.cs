using System.Text.Json;
using ForgeOne.Common.Api;

namespace ForgeOne.Edge.Tests;

/// <summary>A minimal Server-Sent Events reader over a response stream (what a browser's EventSource does).</summary>
internal sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream);

    /// <summary>The next event (skipping comments and retry fields), or null at the end of the stream.</summary>
    public async Task<(string Id, EventView Event)?> NextAsync(CancellationToken cancellationToken)
    {
        string? id = null;
        string? data = null;
        while (await _reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return (id!, JsonSerializer.Deserialize(data, ApiJsonContext.Default.EventView)!);
                }

                continue;
            }

            if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }

        return null;
    }

    public void Dispose() => _reader.Dispose();
}
