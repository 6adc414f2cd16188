using ForgeOne.Common.Api;
using ForgeOne.Common.Model;
using P = ForgeOne.Cluster.Protocol;

namespace ForgeOne.Cli.Commands;

/// <summary>The client's records as the HTTP API's JSON shapes, so <c>--json</c> prints the same field names as the API.</summary>
internal static class Views
{
    public static LogEntryView View(LogEntry e) =>
        new(e.Id.ToString(), e.Topic, e.Timestamp, e.Severity, e.Message, e.Metadata, e.CheckpointMarker, Convert.ToHexStringLower(e.ContentHash));

    public static EventView View(P.EventProtocol.EventRecord e) =>
        new(e.Id.ToString(), e.Topic, e.Timestamp, e.Priority, e.Payload, e.Metadata, e.CheckpointMarker, e.Redacted);

    public static BlobView View(BlobMetadata b) =>
        new(b.Id.ToString(), b.Name, b.ContentType, b.Size, b.CreatedAt, b.CreatedBy, Convert.ToHexStringLower(b.Checksum), b.ChecksumAlgorithm, b.Encrypted, b.Compressed, b.ChunkCount, b.Metadata);

    /// <summary><c>key=value</c> options into metadata; a malformed one is a usage error.</summary>
    public static Dictionary<string, string>? Metadata(string[]? pairs, string option)
    {
        if (pairs is not { Length: > 0 })
        {
            return null;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw Infrastructure.CliException.Usage($"{option} '{pair}' is not key=value");
            }

            metadata[pair[..eq]] = pair[(eq + 1)..];
        }

        return metadata;
    }
}
