using ForgeOne.Common;
using ForgeOne.Common.Model;

namespace ForgeOne.Cluster.Protocol;

/// <summary>
/// The wire allow-list: every message type that may cross between nodes, and the data types
/// they carry. <see cref="ForgeOneWireSerializer"/> refuses any other manifest.
/// Client bytes never reach Hyperion: the edge and clients build these records from typed values.
/// </summary>
public static class ProtocolTypes
{
    /// <summary>Every concrete <see cref="IForgeOneMessage"/> of this assembly.</summary>
    public static IEnumerable<Type> Messages() =>
        typeof(IForgeOneMessage).Assembly.GetTypes()
            .Where(t => typeof(IForgeOneMessage).IsAssignableFrom(t) && !t.IsInterface && !t.IsAbstract && (t.IsPublic || t.IsNestedPublic));

    /// <summary>Short assembly-qualified names of the messages and the data types inside them.</summary>
    public static IEnumerable<string> AllowList()
    {
        Type[] data =
        [
            typeof(RecordId), typeof(ForgeOneError), typeof(LogEntry), typeof(Severity), typeof(Priority),
            typeof(EventMessage), typeof(Storage.ShardKind), typeof(Caller), typeof(RequestId),
            typeof(EventProtocol.EventInput), typeof(EventProtocol.EventRecord), typeof(EventProtocol.TopicSettings),
            typeof(EventProtocol.TopicDescription), typeof(EventProtocol.SubscriptionStart),
            typeof(LogProtocol.LogCheckpoint), typeof(LogProtocol.LogTopicPolicy),
            typeof(SystemProtocol.KeyValueTable), typeof(SystemProtocol.SettingVersion), typeof(SystemProtocol.SnapshotInfo), typeof(SystemProtocol.SnapshotVersionInfo),
            typeof(SystemProtocol.MetricPoint), typeof(Storage.Records.SnapshotStatus),
            typeof(SystemProtocol.ResidencyScope), typeof(SystemProtocol.ResidencyEntry),
            typeof(BlobMetadata), typeof(BlobProtocol.BlobLookupKind),
            typeof(BackupProtocol.BackupKind), typeof(BackupProtocol.BackupShardInfo), typeof(BackupProtocol.RegionCheck), typeof(BackupProtocol.DataVersionSummary),
        ];
        return Messages().Concat(data).Select(Name).Distinct(StringComparer.Ordinal);
    }

    private static string Name(Type t) => $"{t.FullName}, {t.Assembly.GetName().Name}";
}
