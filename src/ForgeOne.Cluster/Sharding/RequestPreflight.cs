using System.Globalization;
using ForgeOne.Cluster.Hosting;
using ForgeOne.Cluster.Protocol;
using ForgeOne.Cluster.Shards;
using ForgeOne.Common;

namespace ForgeOne.Cluster.Sharding;

/// <summary>
/// What the sender checks before a shard message leaves: a message the cluster cannot route
/// (an unknown kind, a shard number beyond the kind's count, no topic) or cannot carry (larger
/// than a remoting frame) would be dropped on the way with only a log line, and its sender would
/// wait out its timeout. Refused here, it gets a typed error at once.
/// </summary>
public static class RequestPreflight
{
    /// <summary>The reason <paramref name="message"/> cannot be routed with <paramref name="counts"/>, or null.</summary>
    public static ForgeOneError? CheckRoute(IShardMessage message, ShardCounts counts)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(counts);
        if (!Enum.IsDefined(message.Kind))
        {
            return new ForgeOneError(ErrorCodes.InvalidArgument,
                $"Shard kind {((int)message.Kind).ToString(CultureInfo.InvariantCulture)} is unknown (known: {string.Join(", ", Enum.GetValues<ShardKind>().Select(k => k.FolderName()))}); the request was not sent.");
        }

        var count = counts.Of(message.Kind);
        if (message.ShardNumber is { } n)
        {
            return n >= 0 && n < count
                ? null
                : new ForgeOneError(ErrorCodes.InvalidId,
                    $"{message.GetType().Name} names {message.Kind.FolderName()} shard {n.ToString(CultureInfo.InvariantCulture)}, but this cluster has {count.ToString(CultureInfo.InvariantCulture)} (0..{(count - 1).ToString(CultureInfo.InvariantCulture)}): the id was not issued by this cluster. The request was not sent.");
        }

        return string.IsNullOrEmpty(message.RoutingKey)
            ? new ForgeOneError(message.Kind == ShardKind.Blobs ? ErrorCodes.InvalidId : ErrorCodes.InvalidTopic,
                $"{message.GetType().Name} needs a {(message.Kind == ShardKind.Blobs ? "blob id" : "topic")} to be routed to its shard; the request was not sent.")
            : null;
    }

    /// <summary>
    /// The reason <paramref name="message"/> is too large for one remoting frame, or null.
    /// Serializes only messages whose estimate comes near the limit.
    /// </summary>
    public static ForgeOneError? CheckSize(IShardMessage message, Func<object, int> serializedLength)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(serializedLength);
        if (message is not IShardCommand command || CommandSize.Of(command) < ClusterConfig.FrameLimit / 4)
        {
            return null;
        }

        var length = serializedLength(message);
        if (length <= ClusterConfig.FrameLimit)
        {
            return null;
        }

        var entries = command switch
        {
            LogProtocol.AppendLogBatch b => b.Entries?.Length ?? 0,
            EventProtocol.PublishEvents b => b.Events?.Length ?? 0,
            _ => 0,
        };
        var advice = entries > 1
            ? $" Split it: {entries.ToString(CultureInfo.InvariantCulture)} entries of about {(length / entries).ToString(CultureInfo.InvariantCulture)} bytes each, so at most about {((long)ClusterConfig.FrameLimit * entries / length).ToString(CultureInfo.InvariantCulture)} fit in one request."
            : string.Empty;
        return new ForgeOneError(ErrorCodes.BatchTooLarge,
            $"{message.GetType().Name} serializes to {length.ToString(CultureInfo.InvariantCulture)} bytes; one request may be at most {ClusterConfig.FrameLimit.ToString(CultureInfo.InvariantCulture)} bytes (the {ClusterConfig.MaximumFrameSize.ToString(CultureInfo.InvariantCulture)}-byte remoting frame less its envelope). It was not sent.{advice}");
    }
}
