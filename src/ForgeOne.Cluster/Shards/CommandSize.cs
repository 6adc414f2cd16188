using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards.Blobs;

namespace ForgeOne.Cluster.Shards;

/// <summary>
/// What an admitted command is assumed to weigh while it waits and in its transaction: the
/// bytes it carries plus a fixed overhead for its record, index entry and audit record. An
/// estimate for the group-commit byte caps and admission control, cheap enough to run on every
/// command, not the stored size.
/// </summary>
public static class CommandSize
{
    /// <summary>Per command and per entry: record header, encryption overhead, index key, audit record.</summary>
    public const int Overhead = 256;

    /// <summary>The estimated bytes of <paramref name="command"/>.</summary>
    public static long Of(IShardCommand command) =>
        command switch
        {
            LogProtocol.AppendLog append => Overhead + Of(append.Entry),
            LogProtocol.AppendLogBatch batch => Overhead + Sum(batch.Entries, Of),
            EventProtocol.PublishEvent publish => Overhead + Of(publish.Event),
            EventProtocol.PublishEvents batch => Overhead + Sum(batch.Events, Of),
            BlobProtocol.PutBlobChunk put => Overhead + (put.Data?.LongLength ?? 0),
            PreparedChunk prepared => Overhead + prepared.SealedLength,
            SystemProtocol.PutSetting put => Overhead + (put.Value?.LongLength ?? 0) + (2L * (put.Key?.Length ?? 0)),
            SystemProtocol.RecordMetrics metrics => Overhead + ((metrics.Samples?.LongLength ?? 0) * 64),
            _ => Overhead,
        };

    private static long Of(LogProtocol.LogInput? entry) =>
        entry is null ? 0 : Overhead + (2L * (entry.Message?.Length ?? 0)) + Of(entry.Metadata) + (2L * (entry.CheckpointMarker?.Length ?? 0));

    private static long Of(EventProtocol.EventInput? input) =>
        input is null ? 0 : Overhead + (input.Payload?.LongLength ?? 0) + Of(input.Metadata) + (2L * (input.CheckpointMarker?.Length ?? 0));

    private static long Of(Dictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return 0;
        }

        long bytes = 0;
        foreach (var (key, value) in metadata)
        {
            bytes += 2L * ((key?.Length ?? 0) + (value?.Length ?? 0));
        }

        return bytes;
    }

    private static long Sum<T>(T[]? items, Func<T, long> size)
    {
        if (items is null)
        {
            return 0;
        }

        long bytes = 0;
        foreach (var item in items)
        {
            bytes += size(item);
        }

        return bytes;
    }
}
