namespace ForgeOne.Common;

/// <summary>
/// The kind of a shard decides which tables its file holds and the folder it
/// lives in under the data root. The numeric values are written into <c>shard_meta</c>, so
/// they never change.
/// </summary>
public enum ShardKind
{
    /// <summary>The single system shard: metadata, snapshots, metrics, settings.</summary>
    System = 0,

    /// <summary>Log shards: log entries, their topic/time index and checkpoints.</summary>
    Logs = 1,

    /// <summary>Blob shards: blob metadata, chunks and the blob index.</summary>
    Blobs = 2,

    /// <summary>Event shards: events, their topic/time index and topics.</summary>
    Events = 3,
}

/// <summary>Helpers for <see cref="ShardKind"/>.</summary>
public static class ShardKindExtensions
{
    /// <summary>The folder name of a kind under the data root: <c>system</c>, <c>logs</c>, <c>blobs</c>, <c>events</c>.</summary>
    public static string FolderName(this ShardKind kind) => kind switch
    {
        ShardKind.System => "system",
        ShardKind.Logs => "logs",
        ShardKind.Blobs => "blobs",
        ShardKind.Events => "events",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown shard kind"),
    };
}
