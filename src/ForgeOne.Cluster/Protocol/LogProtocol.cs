using ForgeOne.Common;
using ForgeOne.Common.Model;
using ForgeOne.Storage;

namespace ForgeOne.Cluster.Protocol;

/// <summary>Operations on log shards. Logs route by topic; get-by-id by the shard inside the id.</summary>
public static class LogProtocol
{
    /// <summary>One entry as a client submits it; the shard assigns id and content hash.</summary>
    public sealed record LogInput(DateTimeOffset Timestamp, Severity Severity, string Message, Dictionary<string, string>? Metadata = null, string? CheckpointMarker = null);

    /// <summary>Appends one entry. Reply: <see cref="LogAppended"/> (after commit) or <see cref="LogFailed"/>.</summary>
    public sealed record AppendLog(Caller Caller, string Topic, LogInput Entry) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>
    /// Appends a batch to one topic as one operation: one transaction, all-or-nothing, one audit
    /// record. Reply: <see cref="LogBatchAppended"/> or <see cref="LogFailed"/>.
    /// </summary>
    public sealed record AppendLogBatch(Caller Caller, string Topic, LogInput[] Entries) : IShardCommand
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>Gets one entry by id. Reply: <see cref="LogFound"/> or <see cref="LogFailed"/> (storage.not_found).</summary>
    public sealed record GetLog(Caller Caller, RecordId Id) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => null;

        /// <inheritdoc />
        public int? ShardNumber => Id.Shard;
    }

    /// <summary>Entries of a topic with <paramref name="From"/> &lt;= timestamp &lt; <paramref name="To"/>, oldest first. Reply: <see cref="LogRange"/>.</summary>
    public sealed record ReadLogRange(Caller Caller, string Topic, DateTimeOffset From, DateTimeOffset To, int Limit = 1000) : IShardQuery
    {
        /// <inheritdoc />
        public ShardKind Kind => ShardKind.Logs;

        /// <inheritdoc />
        public string? RoutingKey => Topic;

        /// <inheritdoc />
        public int? ShardNumber => null;
    }

    /// <summary>The entry was committed under <paramref name="Id"/>.</summary>
    public sealed record LogAppended(string Topic, RecordId Id) : IForgeOneMessage;

    /// <summary>The batch was committed; ids in input order.</summary>
    public sealed record LogBatchAppended(string Topic, RecordId[] Ids) : IForgeOneMessage;

    /// <summary>The entry, decrypted.</summary>
    public sealed record LogFound(LogEntry Entry) : IForgeOneMessage;

    /// <summary>Entries of a range query, oldest first.</summary>
    public sealed record LogRange(string Topic, LogEntry[] Entries) : IForgeOneMessage;

    /// <summary>The operation failed or was refused; nothing was written.</summary>
    public sealed record LogFailed(ForgeOneError Error) : IFailureReply;
}
