using ForgeOne.Common;

namespace ForgeOne.Storage;

/// <summary>
/// Table (LMDB named database) names, as they are stored in every shard file.
/// A name is part of the on-disk format: never rename one.
/// </summary>
public static class Tables
{
    // system
    public const string Metadata = "metadata";
    public const string Snapshots = "snapshots";
    public const string Metrics = "metrics";
    public const string Settings = "settings";
    public const string ApiKeys = "api_keys";

    // logs
    public const string Logs = "logs";
    public const string LogIndex = "log_index";
    public const string Checkpoints = "checkpoints";

    // blobs
    public const string BlobMetadata = "blob_metadata";
    public const string BlobChunks = "blob_chunks";
    public const string BlobIndex = "blob_index";

    // events
    public const string Events = "events";
    public const string EventIndex = "event_index";
    public const string Topics = "topics";

    // logs and events: outcomes of writes that carried a client request id (idempotency)
    public const string Requests = "requests";
    public const string RequestExpiry = "request_expiry";

    // every shard
    public const string Audit = "audit";
    public const string Keys = "keys";
    public const string SchemaHistory = "schema_history";
    public const string ShardMeta = "shard_meta";

    private static readonly string[] Common = [Audit, Keys, SchemaHistory, ShardMeta];
    private static readonly IReadOnlyList<string> SystemTables = [Metadata, Snapshots, Metrics, Settings, ApiKeys, .. Common];
    private static readonly IReadOnlyList<string> LogTables = [Logs, LogIndex, Checkpoints, Requests, RequestExpiry, .. Common];
    private static readonly IReadOnlyList<string> BlobTables = [BlobMetadata, BlobChunks, BlobIndex, .. Common];
    private static readonly IReadOnlyList<string> EventTables = [Events, EventIndex, Topics, Requests, RequestExpiry, .. Common];

    /// <summary>Every table a shard of <paramref name="kind"/> holds, kind-specific tables first.</summary>
    public static IReadOnlyList<string> For(ShardKind kind) => kind switch
    {
        ShardKind.System => SystemTables,
        ShardKind.Logs => LogTables,
        ShardKind.Blobs => BlobTables,
        ShardKind.Events => EventTables,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown shard kind"),
    };

    /// <summary>
    /// Tables the store maintains itself. Callers may read them but not write them through
    /// <see cref="IWriteTransaction"/>: the owner record and the schema version must only change
    /// through <see cref="IShardStore.ClaimOwnership"/> and migrations.
    /// </summary>
    public static bool IsStoreManaged(string table) => table is ShardMeta or SchemaHistory;
}
